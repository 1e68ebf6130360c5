"""The dossier page and its BPMN endpoint: who may open them, the timeline, the diagram markers."""
from __future__ import annotations

import json
import re
import pytest

from services import dossiers
from tests.conftest import login
from tests.dossier_helpers import drive, open_steps, procedure, user, vn

T0 = vn(2026, 3, 2, 9, 0)  # Monday


@pytest.fixture
def dossier(db_session):
    """A Chairman-authority dossier driven to the Sở Nội vụ specialist; the records clerk took 3 days."""
    received = dossiers.receive(db_session, user(db_session, "motcua"),
                                procedure_id=procedure(db_session, "1.003822").id,
                                applicant_name="Hội Luật gia tỉnh", received_at=T0, now=T0)
    # Receive step after 30 min (within its 90 min), the records clerk's step 3 working days later (late).
    drive(db_session, received.id, start=T0, minutes_per_step=30, until="Task_VanThuSo")
    clerk = open_steps(db_session, received.id)[0]
    dossiers.complete(db_session, user(db_session, "vanthu.noivu"), clerk.id, {"incoming_number": "125/SNV"},
                      opinion="Chuyển phòng Tổ chức – Biên chế.", now=vn(2026, 3, 5, 10, 0))
    return received


def _markers(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="dossier-markers">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


@pytest.mark.parametrize("username", ["motcua", "vanthu.noivu", "chuyenvien.noivu", "lanhdaoso.noivu",
                                      "lanhdaophong.noivu", "thanhtra"])
def test_who_may_open_the_dossier(client, dossier, username):
    """The desk, who held a step (the clerk), who holds the open one (the specialist), the agency's
    leaders (before any step of theirs), the auditor."""
    login(client, username)
    assert client.get(f"/dossiers/{dossier.code}").status_code == 200
    assert client.get(f"/dossiers/{dossier.code}/bpmn").status_code == 200


@pytest.mark.parametrize("username", ["chuyenvien", "lanhdaoso", "motcua.longxuyen", "vp.chuyenvien", "thietke",
                                      "admin"])
def test_officials_of_other_org_units_get_403(client, dossier, username):
    """Sở Xây dựng's officials, another desk, the Văn phòng before the dossier reaches it, a designer."""
    login(client, username)
    response = client.get(f"/dossiers/{dossier.code}")
    assert response.status_code == 403
    assert "Không có quyền truy cập" in response.get_data(as_text=True)
    assert dossier.applicant_name not in response.get_data(as_text=True)
    assert client.get(f"/dossiers/{dossier.code}/bpmn").status_code == 403


def test_anonymous_and_unknown(client, dossier):
    assert "/login" in client.get(f"/dossiers/{dossier.code}").headers["Location"]
    assert "/login" in client.get(f"/dossiers/{dossier.code}/bpmn").headers["Location"]
    login(client, "thanhtra")
    assert client.get("/dossiers/H01.21-000000-0000").status_code == 404


def test_timeline_shows_who_when_opinion_time_used_and_late_steps(client, dossier):
    login(client, "lanhdaoso.noivu")
    html = client.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    assert "Hội Luật gia tỉnh" in html and "Phê duyệt điều lệ hội" in html
    rows = re.findall(r'<tr class="([^"]*)" data-step="([^"]+)">(.*?)</tr>', html, re.S)
    by_step = {step: (cls, body) for cls, step, body in rows}
    assert list(by_step) == ["Task_TiepNhan", "Task_VanThuSo", "Task_ThamDinh"]
    cls, body = by_step["Task_TiepNhan"]
    assert "late" not in cls.split() and "Nguyễn Thị Một Cửa" in body and "02/03/2026 09:30" in body
    assert "30 phút / 1 giờ 30 phút" in body
    cls, body = by_step["Task_VanThuSo"]
    assert "late" in cls.split() and "trễ hạn" in body
    assert "Kiều Thị Văn Thư" in body and "05/03/2026 10:00" in body and "Chuyển phòng Tổ chức – Biên chế." in body
    assert "3 ngày" in body and "/ 1 giờ 30 phút" in body
    cls, body = by_step["Task_ThamDinh"]
    assert "open" in cls.split() and "Chuyên viên" in body  # nobody has claimed it: the role is shown


def test_diagram_markers_and_bpmn_endpoint(client, dossier):
    login(client, "chuyenvien.noivu")
    html = client.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    markers = _markers(html)
    assert markers["Task_TiepNhan"] == "qt-done" and markers["Task_VanThuSo"] == "qt-done"
    assert markers["Task_ThamDinh"] == "qt-current"
    assert markers["Task_ChuTichKy"] == "qt-not-reached" and markers["Task_VP_ThamTra"] == "qt-not-reached"
    assert 'src="/static/js/diagram.js' in html and f'data-xml="/dossiers/{dossier.code}/bpmn"' in html
    # No desk actions for a specialist.
    assert 'id="desk-actions"' not in html
    response = client.get(f"/dossiers/{dossier.code}/bpmn")
    assert response.mimetype == "application/xml"
    assert b"Process_PheDuyetDieuLeHoi" in response.data and b"bpmndi:BPMNDiagram" in response.data


def test_the_desk_sees_its_actions_and_the_page_is_english_too(client, dossier, db_session):
    login(client, "motcua")
    html = client.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    assert 'id="desk-actions"' in html and "Yêu cầu bổ sung" in html and "Phiếu xin lỗi" in html
    client.get("/lang/en")
    html = client.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    assert "Time used / allocated" in html and "Request a supplement" in html and "3 days" in html


def test_a_stopped_clock_freezes_the_open_steps_time(client, dossier, db_session):
    dossiers.stop_clock(db_session, user(db_session, "chuyenvien.noivu"), dossier.id, kind="supplement",
                        reason="Thiếu biên bản", items="Biên bản đại hội", now=vn(2026, 3, 5, 11, 0))
    login(client, "chuyenvien.noivu")
    html = client.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    body = dict((s, b) for _c, s, b in re.findall(r'<tr class="([^"]*)" data-step="([^"]+)">(.*?)</tr>', html, re.S))
    # From 10:00 to 11:00 on 05/03: one working hour, however long the wait has lasted since.
    assert "1 giờ /" in body["Task_ThamDinh"]
    assert "Chờ bổ sung" in html


def test_the_wait_for_a_supplement_is_not_the_steps_time(client, dossier, db_session):
    specialist = user(db_session, "chuyenvien.noivu")
    dossiers.stop_clock(db_session, specialist, dossier.id, kind="supplement", reason="Thiếu biên bản",
                        items="Biên bản đại hội", now=vn(2026, 3, 5, 11, 0))
    dossiers.resume(db_session, specialist, dossier.id, now=vn(2026, 3, 6, 11, 0))  # 8 working hours later
    step = open_steps(db_session, dossier.id)[0]
    dossiers.complete(db_session, specialist, step.id, {"draft_reference": "TTr-1"}, opinion="Đủ điều kiện.",
                      now=vn(2026, 3, 6, 13, 30))
    login(client, "chuyenvien.noivu")
    html = client.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    cls, body = next((c, b) for c, s, b in re.findall(r'<tr class="([^"]*)" data-step="([^"]+)">(.*?)</tr>',
                                                       html, re.S) if s == "Task_ThamDinh")
    # 10:00 05/03 → 13:30 06/03 is 9 h 30 of working time, 8 h of which were the wait: 1 h 30 used.
    assert "1 giờ 30 phút / 2 ngày 6 giờ" in body and "late" not in cls.split()
