"""The auditor's pages: who may open them, search and pages, validation, export, timeline, verify."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select, text

from services import audit, dossiers
from services.models import AuditEvent
from tests.conftest import login
from tests.dossier_helpers import drive, procedure, user, vn


@pytest.mark.parametrize("path", ["/audit/", "/audit/verify", "/audit/export.csv", "/audit/dossiers/X"])
def test_anonymous_goes_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["chuyenvien", "motcua", "chutich", "thietke"])
@pytest.mark.parametrize("path", ["/audit/", "/audit/verify", "/audit/export.jsonl", "/audit/dossiers/X"])
def test_officials_are_refused(client, username, path):
    login(client, username)
    assert client.get(path).status_code == 403


def test_search_pages_and_filters(client, db_session):
    total = db_session.scalar(select(func.count()).select_from(AuditEvent))
    assert total > 50  # the demo's events: more than one page
    login(client, "thanhtra")
    html = client.get("/audit/").get_data(as_text=True)
    assert f"Tìm thấy {total + 1} sự kiện." in html  # + the auditor's own login
    assert "Trang 1 / 2" in html and "page=2" in html
    page2 = client.get("/audit/?page=2").get_data(as_text=True)
    assert "Trang 2 / 2" in page2 and "<td>1</td>" in page2  # the oldest event is on the last page
    only_logins = client.get("/audit/?action=login&actor=thanhtra").get_data(as_text=True)
    assert "Tìm thấy 1 sự kiện." in only_logins
    assert "Tìm thấy 0 sự kiện." in client.get("/audit/?from=01/01/2020&to=31/12/2020").get_data(as_text=True)


def test_admins_may_read_too(client):
    login(client, "admin")
    assert client.get("/audit/").status_code == 200


@pytest.mark.parametrize("args,field", [("from=31/02/2026", "f-from"), ("to=hôm qua", "f-to"),
                                        ("from=02/10/2026&to=01/10/2026", "f-to")])
def test_bad_dates_are_named_next_to_their_field(client, args, field):
    login(client, "thanhtra")
    response = client.get(f"/audit/?{args}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in html
    assert "không phải là ngày hợp lệ" in html or "Ngày kết thúc phải sau ngày bắt đầu" in html
    assert client.get(f"/audit/export.csv?{args}").status_code == 400


def test_english_page(client):
    login(client, "thanhtra")
    client.get("/lang/en")
    html = client.get("/audit/?from=31/02/2026").get_data(as_text=True)
    assert "Audit log" in html and "is not a date" in html


def test_csv_export_streams_the_filtered_set(client):
    login(client, "thanhtra")
    response = client.get("/audit/export.csv?action=user_created")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == list(("seq", "at", "actor", "action", "object", "payload", "prev_hash", "hash"))
    assert len(rows) > 10 and {r[3] for r in rows[1:]} == {"user_created"}


def test_jsonl_export_can_be_rechecked_from_the_file(client):
    login(client, "thanhtra")
    response = client.get("/audit/export.jsonl")
    assert response.headers["Content-Disposition"].endswith('.jsonl"')
    lines = response.get_data(as_text=True).splitlines()
    prev = audit.GENESIS_HASH
    for line in lines:
        event = json.loads(line)
        payload = audit.canonical_json(event["payload"])
        assert event["prev_hash"] == prev
        assert audit.event_hash(prev, event["seq"], event["at"].replace("T", " ")[:-1], event["actor"],
                                event["action"], event["object"], payload) == event["hash"]
        prev = event["hash"]
    assert len(lines) > 50


def test_unknown_export_format_is_404(client):
    login(client, "thanhtra")
    assert client.get("/audit/export.xml").status_code == 404


def _a_dossier(db_session):
    d = dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, "1.003822").id,
                         applicant_name="Nguyễn Văn Dân", received_at=vn(2026, 11, 23, 8), now=vn(2026, 11, 23, 8))
    drive(db_session, d.id, start=vn(2026, 11, 23, 8), until="Task_LanhDaoPhong")
    return d.code


def test_dossier_timeline_shows_steps_opinions_and_events(client, db_session):
    code = _a_dossier(db_session)
    login(client, "thanhtra")
    response = client.get(f"/audit/dossiers/{code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Hồ sơ {code}" in html and "Nguyễn Văn Dân" in html
    assert "Task_TiepNhan" in html and "Task_ThamDinh" in html and "Task_LanhDaoPhong" in html
    assert "Ý kiến tại bước" in html  # the officials' opinions
    assert "30 / " in html  # time used against the allocation
    assert "dossier_received" in html and "step_completed" in html
    assert "chuyenvien.noivu" in html
    assert client.get(f"/audit/?dossier={code}").get_data(as_text=True).count("<code>step_completed</code>") == 3


def test_unknown_dossier_is_404(client):
    login(client, "thanhtra")
    response = client.get("/audit/dossiers/H01.99-000000-0000")
    assert response.status_code == 404 and "không tồn tại" in response.get_data(as_text=True)


def test_verify_page_intact_then_broken(client, db_session):
    login(client, "thanhtra")
    html = client.get("/audit/verify").get_data(as_text=True)
    assert "Nguyên vẹn" in html and "chuỗi băm nguyên vẹn" in html
    assert re.search(r'<code class="head">\d+:[0-9a-f]{64}</code>', html)
    db_session.execute(text("DROP TRIGGER audit_events_no_update"))
    db_session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 7"))
    db_session.commit()
    html = client.get("/audit/verify").get_data(as_text=True)
    assert "Chuỗi bị phá vỡ tại sự kiện #7" in html and "đã bị sửa" in html
