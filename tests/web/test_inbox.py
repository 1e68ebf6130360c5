"""The inbox (việc cần xử lý) through the web stack: scope, order, badges, time left, filters,
pagination, claim and unclaim with and without htmx, permissions, CSRF."""
from __future__ import annotations

import html
import re
from datetime import timezone

import pytest
from sqlalchemy import select, update

from services import dossiers
from services.models import AuditEvent, DossierStep
from tests.conftest import csrf_token, login
from tests.dossier_helpers import drive, open_steps, procedure, user, vn

CHAIRMAN = "1.003822"  # Sở Nội vụ H01.21; the Chairman decides
NOW = vn(2026, 11, 27, 9, 0)  # Friday, a working day


def receive(db_session, name="Hội Cựu giáo chức tỉnh An Giang", code=CHAIRMAN, at=None):
    at = at or vn(2026, 11, 23, 8, 0)
    return dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, code).id,
                            applicant_name=name, received_at=at, now=at)


def at_step(db_session, spec_id: str, **kwargs) -> tuple:
    """A new dossier driven until `spec_id` is open; returns (dossier, that step)."""
    dossier = receive(db_session, **kwargs)
    drive(db_session, dossier.id, start=vn(2026, 11, 23, 8, 0), until=spec_id)
    step = next(s for s in open_steps(db_session, dossier.id) if s.spec_id == spec_id)
    return dossier, step


def set_due(db_session, step_id: int, due) -> None:
    db_session.rollback()
    db_session.execute(update(DossierStep).where(DossierStep.id == step_id).values(
        due_at=due.astimezone(timezone.utc)))
    db_session.commit()


def text(response) -> str:
    visible = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(visible))


def field_error(response, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>',
                      response.get_data(as_text=True))
    assert match, f"no error next to {field_id}"
    return html.unescape(match.group(1))


@pytest.fixture
def fixed_now(monkeypatch):
    """The pages' clock, so that badges and time left do not depend on the wall clock."""
    import web.inbox
    import web.tasks

    monkeypatch.setattr(web.inbox, "utcnow", lambda: NOW.astimezone(timezone.utc))
    monkeypatch.setattr(web.tasks, "utcnow", lambda: NOW.astimezone(timezone.utc))
    return NOW


@pytest.fixture
def three(db_session):
    """Three dossiers waiting at the Sở Nội vụ's records clerk (vanthu.noivu), with due times
    chosen against NOW: overdue by 1 day 2 hours, 2 h 20 min left (nearly due), 1 day 6 hours left."""
    rows = {}
    for label, name, due in (("late", "Công ty TNHH Bình Minh", vn(2026, 11, 26, 7, 0)),
                             ("soon", "Hội Khuyến học An Giang", vn(2026, 11, 27, 11, 20)),
                             ("later", "Hội Người cao tuổi", vn(2026, 11, 30, 17, 0))):
        dossier, step = at_step(db_session, "Task_VanThuSo", name=name)
        set_due(db_session, step.id, due)
        rows[label] = (dossier.code, step.id)
    return rows


def test_inbox_lists_my_steps_soonest_first_with_badges_and_time_left(client, three, fixed_now):
    login(client, "vanthu.noivu")
    response = client.get("/inbox")
    assert response.status_code == 200
    page = text(response)
    assert "Việc cần xử lý" in page and "3 việc" in page
    positions = [page.index(three[k][0]) for k in ("late", "soon", "later")]
    assert positions == sorted(positions)
    assert "Quá hạn quá hạn 1 ngày 2 giờ" in page
    assert "Sắp đến hạn còn 2 giờ 20 phút" in page
    assert "Trong hạn còn 1 ngày 6 giờ" in page
    assert "Chưa nhận xử lý" in page and "Nhận xử lý" in page

    client.get("/lang/en")
    page = text(client.get("/inbox"))
    assert "Tasks to handle" in page and "3 tasks" in page
    assert "Overdue overdue by 1 day 2 hours" in page
    assert "Nearly due 2 hours 20 minutes left" in page
    assert "Within time 1 day 6 hours left" in page


def test_another_units_official_does_not_see_the_task_and_non_officials_get_403(client, three):
    login(client, "vanthu.so")  # van_thu too, but of Sở Xây dựng (H01.15)
    page = text(client.get("/inbox"))
    assert all(code not in page for code, _ in three.values())
    for username in ("thietke", "admin"):
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        login(client, username)
        assert client.get("/inbox").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/inbox").status_code == 302  # anonymous → login


def test_filters_code_procedure_status_dates_and_mine(client, db_session, three, fixed_now):
    login(client, "vanthu.noivu")
    late_code = three["late"][0]
    page = text(client.get("/inbox", query_string={"code": late_code[-4:]}))
    assert late_code in page and three["later"][0] not in page

    other = procedure(db_session, "1.009974")
    assert "0 việc" in text(client.get("/inbox", query_string={"procedure": other.id}))
    chairman = procedure(db_session, CHAIRMAN)
    assert "3 việc" in text(client.get("/inbox", query_string={"procedure": chairman.id}))

    # The status filter is computed at the page's clock, as the badges are — not read from the
    # marks the deadline job left (here: none yet, and a wrong one).
    db_session.rollback()
    db_session.execute(update(DossierStep).where(DossierStep.id == three["later"][1]).values(warning="overdue"))
    db_session.commit()
    for status, key in (("overdue", "late"), ("nearly_due", "soon"), ("within", "later")):
        page = text(client.get("/inbox", query_string={"status": status}))
        assert "1 việc" in page and three[key][0] in page, status

    assert "3 việc" in text(client.get("/inbox", query_string={"received_from": "23/11/2026",
                                                                 "received_to": "23/11/2026"}))
    assert "0 việc" in text(client.get("/inbox", query_string={"received_from": "24/11/2026"}))

    assert "0 việc" in text(client.get("/inbox", query_string={"mine": "1"}))
    token = csrf_token(client, "/inbox")
    client.post(f"/tasks/{three['soon'][1]}/claim", data={"csrf_token": token, "next": "/inbox"})
    page = text(client.get("/inbox", query_string={"mine": "1"}))
    assert "1 việc" in page and three["soon"][0] in page


def test_bad_dates_are_named_next_to_their_field(client, three):
    login(client, "vanthu.noivu")
    response = client.get("/inbox", query_string={"received_from": "31/02/2026", "received_to": "2026-11-30"})
    assert response.status_code == 400
    assert field_error(response, "received_from") == "Nhận từ ngày: '31/02/2026' không phải là ngày dd/mm/yyyy."
    assert "'2026-11-30'" in field_error(response, "received_to")
    response = client.get("/inbox", query_string={"received_from": "25/11/2026", "received_to": "23/11/2026"})
    assert response.status_code == 400 and field_error(response, "received_to")


def test_pagination(client, three, monkeypatch):
    import web.inbox

    monkeypatch.setattr(web.inbox, "PER_PAGE", 2)
    login(client, "vanthu.noivu")
    first = client.get("/inbox").get_data(as_text=True)
    assert "trang 1/2" in text(client.get("/inbox")) and 'rel="next"' in first
    second = text(client.get("/inbox", query_string={"page": 2}))
    assert three["later"][0] in second and three["late"][0] not in second
    assert client.get("/inbox", query_string={"page": "abc"}).status_code == 200
    past_the_end = text(client.get("/inbox", query_string={"page": 9}))
    assert "trang 2/2" in past_the_end and three["later"][0] in past_the_end


def test_claim_and_unclaim_without_javascript(client, db_session, three):
    login(client, "vanthu.noivu")
    step_id = three["later"][1]
    token = csrf_token(client, "/inbox")
    response = client.post(f"/tasks/{step_id}/claim", data={"csrf_token": token, "next": "/inbox?code=0"})
    assert response.status_code == 303 and response.headers["Location"] == "/inbox?code=0"
    db_session.rollback()  # a fresh snapshot: see what the requests committed
    step = db_session.get(DossierStep, step_id)
    assert step.assignee.username == "vanthu.noivu" and step.status == "claimed"
    assert "Bạn đã nhận xử lý bước" in text(client.get("/inbox"))
    response = client.post(f"/tasks/{step_id}/unclaim", data={"csrf_token": token, "next": "//evil.example"})
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{step_id}"
    db_session.rollback()  # a fresh snapshot: see what the requests committed
    assert db_session.get(DossierStep, step_id).assignee_id is None
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("step_%claimed"))).all()
    assert actions == ["step_claimed", "step_unclaimed"]


def test_claim_with_htmx_returns_the_row(client, db_session, three):
    login(client, "vanthu.noivu")
    step_id = three["soon"][1]
    token = csrf_token(client, "/inbox")
    response = client.post(f"/tasks/{step_id}/claim", data={"csrf_token": token, "next": "/inbox"},
                           headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith("<tr") and f'id="step-{step_id}"' in body
    assert f"/tasks/{step_id}/unclaim" in body and "Hủy nhận xử lý" in body
    assert "<html" not in body  # the row only, swapped in place


def test_claim_conflict_and_refusals(client, db_session, three):
    step_id = three["soon"][1]
    dossiers.claim(db_session, user(db_session, "vanthu.noivu"), step_id)
    login(client, "chuyenvien.noivu")  # same unit, another role
    token = csrf_token(client, "/")
    assert client.post(f"/tasks/{step_id}/claim", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/tasks/{step_id}/unclaim", data={"csrf_token": token}).status_code == 403
    assert client.post("/tasks/999999/claim", data={"csrf_token": token}).status_code == 404
    client.post("/logout", data={"csrf_token": token})
    login(client, "vanthu.noivu")
    assert client.post(f"/tasks/{three['later'][1]}/claim").status_code == 400  # no CSRF token
    db_session.rollback()  # a fresh snapshot: see what the requests committed
    assert db_session.get(DossierStep, three["later"][1]).assignee_id is None
