"""The desk's letters and actions: supplement request (Mẫu 02), pause, resume, apology (Mẫu 04),
withdrawal, result handover; validation next to the fields, nothing saved on error, CSRF."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services import dossiers
from services.models import ApologyLetter, Dossier, SupplementRequest
from tests.conftest import csrf_token, login
from tests.dossier_helpers import procedure, user, vn
from tests.web.test_desk import _field_errors

T0 = vn(2026, 3, 2, 9, 0)


@pytest.fixture
def dossier(db_session):
    return dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, "1.003822").id,
                            applicant_name="Hội Nhà báo tỉnh", applicant_phone="0909 000 111", received_at=T0, now=T0)


@pytest.fixture
def desk(client):
    login(client, "motcua")
    return client


def _reload(db_session, code: str) -> Dossier:
    db_session.rollback()  # a new read transaction: see what the requests committed
    return db_session.scalar(select(Dossier).where(Dossier.code == code))


def _count(db_session, model) -> int:
    db_session.rollback()  # a new read transaction: see what the requests committed
    return db_session.scalar(select(func.count(model.id)))


def test_supplement_request_stops_the_clock_and_prints_form_02(desk, db_session, dossier):
    path = f"/desk/dossiers/{dossier.code}/supplement"
    assert "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)" in desk.get(path).get_data(as_text=True)
    # Missing items: shown next to the field, nothing saved.
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "items": "", "reason": "Thiếu giấy tờ"})
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "items") == ["Ghi rõ những nội dung cần bổ sung."]
    assert _count(db_session, SupplementRequest) == 0 and _reload(db_session, dossier.code).status == "received"
    # Without the CSRF token: refused.
    assert desk.post(path, data={"items": "x", "reason": "y"}).status_code == 400
    assert _count(db_session, SupplementRequest) == 0
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path),
                                     "items": "Biên bản đại hội\nDanh sách ban lãnh đạo hội",
                                     "reason": "Hồ sơ chưa có biên bản thông qua điều lệ."})
    assert response.status_code == 302
    assert _reload(db_session, dossier.code).status == "waiting_supplement"
    html = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in html and "Mẫu số 02" in html
    assert "<li>Biên bản đại hội</li>" in html and "<li>Danh sách ban lãnh đạo hội</li>" in html
    assert "Hồ sơ chưa có biên bản thông qua điều lệ." in html and "Hội Nhà báo tỉnh" in html
    assert "NGƯỜI HƯỚNG DẪN" in html and "Nguyễn Thị Một Cửa" in html
    # A second request while waiting is a conflict, said at the top of the form.
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "items": "x", "reason": "y"})
    assert response.status_code == 409
    assert "đang tạm dừng" in response.get_data(as_text=True)
    assert _count(db_session, SupplementRequest) == 1


def test_resume_moves_the_return_date_and_requires_csrf(desk, db_session, dossier):
    dossiers.stop_clock(db_session, user(db_session, "motcua"), dossier.id, kind="supplement", reason="Thiếu",
                        items="Bản sao điều lệ", now=T0 + timedelta(hours=1))
    before = _reload(db_session, dossier.code).due_at
    path = f"/desk/dossiers/{dossier.code}/resume"
    assert desk.post(path).status_code == 400
    assert _reload(db_session, dossier.code).status == "waiting_supplement"
    page = desk.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    assert "Đã nộp bổ sung: tiếp tục giải quyết" in page
    response = desk.post(path, data={"csrf_token": csrf_token(desk, f"/dossiers/{dossier.code}")})
    assert response.status_code == 302
    after = _reload(db_session, dossier.code)
    assert after.status == "processing"
    assert after.stopped_since is None and after.due_at >= before
    # Resuming again: not waiting any more, the page says why.
    response = desk.post(path, data={"csrf_token": csrf_token(desk, f"/dossiers/{dossier.code}")},
                         follow_redirects=True)
    assert "không ở trạng thái tạm dừng" in response.get_data(as_text=True)


def test_pause_for_a_financial_obligation(desk, db_session, dossier):
    path = f"/desk/dossiers/{dossier.code}/pause"
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "reason": ""})
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "reason") == ["Phải nhập lý do."]
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path),
                                     "reason": "Lệ phí 500.000 đồng, nộp tại quầy thu."})
    assert response.status_code == 302
    assert _reload(db_session, dossier.code).status == "paused"
    html = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "THÔNG BÁO THỰC HIỆN NGHĨA VỤ TÀI CHÍNH" in html and "Lệ phí 500.000 đồng" in html


def test_apology_letter_validation_then_form_04_once(desk, db_session, dossier):
    path = f"/desk/dossiers/{dossier.code}/apology"
    assert desk.get(f"{path}/print").status_code == 404  # no letter yet
    due = _reload(db_session, dossier.code).due_at
    for text, message in (("32/13/2026 10:00", "Ngày hẹn trả mới: '32/13/2026 10:00' không phải ngày giờ"),
                          ("", "Cần nhập ngày hẹn trả mới.")):
        response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "reason": "Chờ ý kiến",
                                         "new_due_at": text})
        assert response.status_code == 400
        assert message in _field_errors(response.get_data(as_text=True), "new_due_at")[0]
    # Not after the current return date: the service's message next to the field.
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "reason": "Chờ ý kiến",
                                     "new_due_at": "02/03/2026 10:00"})
    assert response.status_code == 400
    assert "Ngày hẹn trả mới phải sau ngày hẹn hiện tại" in _field_errors(response.get_data(as_text=True),
                                                                          "new_due_at")[0]
    assert _count(db_session, ApologyLetter) == 0 and _reload(db_session, dossier.code).due_at == due
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path),
                                     "reason": "Chờ ý kiến phối hợp của Sở Tư pháp.", "new_due_at": "20/03/2026 16:30"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/apology/print")
    assert _reload(db_session, dossier.code).due_at == vn(2026, 3, 20, 16, 30)
    html = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in html and "Mẫu số 04" in html
    assert "Kính gửi: Hội Nhà báo tỉnh" in html and "20/03/2026 16:30" in html
    assert "Chờ ý kiến phối hợp của Sở Tư pháp." in html and "THỦ TRƯỞNG CƠ QUAN" in html
    # Only one letter per dossier.
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "reason": "Lần hai",
                                     "new_due_at": "30/03/2026 16:30"})
    assert response.status_code == 409 and "chỉ được lập một lần" in response.get_data(as_text=True)
    assert _count(db_session, ApologyLetter) == 1


def test_withdrawal_cancels_the_open_steps(desk, db_session, dossier):
    path = f"/desk/dossiers/{dossier.code}/withdraw"
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "reason": " "})
    assert response.status_code == 400 and _reload(db_session, dossier.code).status == "received"
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "reason": "Tổ chức xin rút để bổ sung sau."})
    assert response.status_code == 302
    withdrawn = _reload(db_session, dossier.code)
    assert withdrawn.status == "withdrawn" and all(s.status == "cancelled" for s in withdrawn.steps)
    html = desk.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    assert "Đã rút" in html and "Tổ chức xin rút để bổ sung sau." in html
    assert f"/desk/dossiers/{dossier.code}/withdraw" not in html


def test_hand_over_goes_to_the_return_step_when_the_bpmn_has_one(desk, db_session, dossier):
    from tests.dossier_helpers import drive
    drive(db_session, dossier.id, start=T0, until="Task_TraKetQua")
    reloaded = _reload(db_session, dossier.code)
    step = next(s for s in reloaded.steps if s.spec_id == "Task_TraKetQua" and s.status == "ready")
    html = desk.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    assert f'href="/tasks/{step.id}"' in html and "Trả kết quả" in html
    response = desk.post(f"/desk/dossiers/{dossier.code}/hand-over",
                         data={"csrf_token": csrf_token(desk, f"/dossiers/{dossier.code}")})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{step.id}"
    assert _reload(db_session, dossier.code).status == "done"


def test_hand_over_without_a_return_step_and_its_conflict(desk, db_session, dossier):
    # Not ready: the page says so, nothing changes.
    response = desk.post(f"/desk/dossiers/{dossier.code}/hand-over",
                         data={"csrf_token": csrf_token(desk, f"/dossiers/{dossier.code}")}, follow_redirects=True)
    assert "chưa có kết quả để trả" in response.get_data(as_text=True)
    assert _reload(db_session, dossier.code).status == "received"


def test_actions_on_another_desks_dossier_are_forbidden(client, db_session, dossier):
    login(client, "motcua.longxuyen")
    token = csrf_token(client, "/desk/receive")
    for path in ("supplement", "pause", "apology", "withdraw"):
        assert client.get(f"/desk/dossiers/{dossier.code}/{path}").status_code == 403
        assert client.post(f"/desk/dossiers/{dossier.code}/{path}",
                           data={"csrf_token": token, "reason": "x", "items": "y"}).status_code == 403
    for path in ("resume", "hand-over"):
        assert client.post(f"/desk/dossiers/{dossier.code}/{path}", data={"csrf_token": token}).status_code == 403
    assert _reload(db_session, dossier.code).status == "received"


def test_letters_in_english(desk, db_session, dossier):
    desk.get("/lang/en")
    path = f"/desk/dossiers/{dossier.code}/supplement"
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), "items": "Charter", "reason": "Missing"})
    html = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "REQUEST TO SUPPLEMENT AND COMPLETE THE DOSSIER" in html and "Form 02" in html
    assert re.search(r"\d{2}/\d{2}/\d{4}", html)


def _publish_without_return_step(db_session) -> None:
    """A version of 1.009974 whose last desk step is not tagged return_result: the desk hands over."""
    from services import procedures
    from services.demo import LIBRARY_DIR

    data = (LIBRARY_DIR / "department_parallel.bpmn").read_bytes()
    tag = b'<camunda:property name="tthc.step" value="return_result" />'
    assert tag in data
    proc = procedure(db_session, "1.009974")
    version = procedures.upload_version(db_session, user(db_session, "thietke"), proc.id, filename="no-return.bpmn",
                                        data=data.replace(tag, b""))
    assert version.lint_ok
    procedures.submit_version(db_session, user(db_session, "thietke"), version.id)
    procedures.decide_version(db_session, user(db_session, "chutich"), version.id, decision="approve")
    procedures.publish_version(db_session, user(db_session, "thietke"), version.id)


def test_hand_over_when_the_bpmn_has_no_return_step(desk, db_session):
    from tests.dossier_helpers import drive
    _publish_without_return_step(db_session)
    received = dossiers.receive(db_session, user(db_session, "motcua"),
                                procedure_id=procedure(db_session, "1.009974").id, applicant_name="Công ty TNHH Xây dựng A",
                                received_at=T0, now=T0)
    drive(db_session, received.id, start=T0)
    assert _reload(db_session, received.code).status == "done"
    page = desk.get(f"/dossiers/{received.code}").get_data(as_text=True)
    assert f'action="/desk/dossiers/{received.code}/hand-over"' in page
    # Without the token: refused, nothing changes.
    assert desk.post(f"/desk/dossiers/{received.code}/hand-over").status_code == 400
    assert _reload(db_session, received.code).status == "done"
    response = desk.post(f"/desk/dossiers/{received.code}/hand-over",
                         data={"csrf_token": csrf_token(desk, f"/dossiers/{received.code}")}, follow_redirects=True)
    assert "Đã trả kết quả hồ sơ" in response.get_data(as_text=True)
    returned = _reload(db_session, received.code)
    assert returned.status == "returned" and returned.returned_at is not None


@pytest.mark.parametrize("action", ["supplement", "pause", "apology", "withdraw", "resume", "hand-over"])
def test_every_desk_post_without_csrf_token_is_refused_and_changes_nothing(desk, db_session, dossier, action):
    data = {"reason": "Lý do", "items": "Giấy tờ", "new_due_at": "30/03/2026 16:00"}
    response = desk.post(f"/desk/dossiers/{dossier.code}/{action}", data=data)
    assert response.status_code == 400
    assert "Mã bảo mật của biểu mẫu bị thiếu" in response.get_data(as_text=True)
    after = _reload(db_session, dossier.code)
    assert after.status == "received" and after.due_at == dossier.due_at
    assert _count(db_session, SupplementRequest) == 0 and _count(db_session, ApologyLetter) == 0
