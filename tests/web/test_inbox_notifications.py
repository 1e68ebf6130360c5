"""Notifications in the header and on /notifications: count, list in both languages, mark as read
(own only, CSRF), and the header's cost: one COUNT query."""
from __future__ import annotations

import re

from sqlalchemy import event, func, select

from services import jobs
from services.models import Notification
from tests.conftest import csrf_token, login
from tests.dossier_helpers import user, vn
from tests.web.test_inbox import at_step, text


def _badge(response) -> int:
    match = re.search(r'<span class="notif-count"[^>]*>(\d+)</span>', response.get_data(as_text=True))
    return int(match.group(1)) if match else 0


def _notified(db_session, *, late: bool = True):
    """Two dossiers at Sở Nội vụ's records clerk; the deadline job run well after their due time:
    each step gives vanthu.noivu a "new task" and an "overdue" notification."""
    steps = [at_step(db_session, "Task_VanThuSo", name=name)[1] for name in ("Hội A", "Hội B")]
    jobs.mark_deadlines(db_session, now=vn(2026, 12, 10, 9, 0) if late else vn(2026, 11, 23, 9, 0))
    return steps


def test_header_count_list_and_mark_as_read(client, db_session):
    steps = _notified(db_session)
    login(client, "vanthu.noivu")
    assert _badge(client.get("/inbox")) == 4
    response = client.get("/notifications")
    assert response.status_code == 200
    page = text(response)
    assert page.count("Việc mới") >= 2 and page.count("Quá hạn") >= 2
    assert "Văn thư Sở nhận hồ sơ, chuyển phòng chuyên môn" in page
    assert f'href="/tasks/{steps[0].id}"' in response.get_data(as_text=True)
    client.get("/lang/en")
    page = text(client.get("/notifications"))
    assert "New task" in page and "Overdue" in page and "Mark all as read" in page

    mine = db_session.scalars(select(Notification.id).where(
        Notification.user_id == user(db_session, "vanthu.noivu").id).order_by(Notification.id)).all()
    token = csrf_token(client, "/notifications")
    response = client.post(f"/notifications/{mine[0]}/read", data={"csrf_token": token, "next": "/inbox"})
    assert response.status_code == 303 and response.headers["Location"] == "/inbox"
    assert _badge(client.get("/inbox")) == 3
    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code == 303
    assert _badge(client.get("/inbox")) == 0
    page = text(client.get("/notifications"))
    assert "Unread (0)" in page and "Mark as read" not in page


def test_mark_read_refusals_and_others_rows(client, db_session):
    _notified(db_session)
    other = db_session.scalar(select(Notification.id).where(
        Notification.user_id == user(db_session, "vanthu.noivu").id).limit(1))
    login(client, "motcua")
    token = csrf_token(client, "/notifications")
    assert client.post(f"/notifications/{other}/read").status_code == 400  # no CSRF token
    # Another user's notification id marks nothing.
    assert client.post(f"/notifications/{other}/read", data={"csrf_token": token}).status_code == 303
    db_session.rollback()
    assert db_session.scalar(select(func.count(Notification.id)).where(Notification.read_at.is_not(None))) == 0
    assert client.post("/notifications/read-all").status_code == 400
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/notifications").status_code == 302


def test_the_header_costs_one_count_query(app, client, db_session):
    _notified(db_session)
    login(client, "vanthu.noivu")
    from web.extensions import db

    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/inbox").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    on_notifications = [s for s in statements if "notifications" in s]
    assert len(on_notifications) == 1 and "count(" in on_notifications[0].lower()
