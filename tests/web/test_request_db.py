"""A request's read transaction ends with COMMIT, not ROLLBACK (web/request_db.py): on PostgreSQL a
ROLLBACK makes psycopg forget the connection's prepared statements, so none would ever stay
prepared. A failed request, or one that left ORM changes pending, is still rolled back."""
from __future__ import annotations

import logging
from collections import Counter

import pytest
from flask import abort
from sqlalchemy import event, select

from tests.conftest import load_demo, login, make_app, upgrade


def _ends(app) -> Counter:
    from web.extensions import db

    seen: Counter = Counter()
    with app.app_context():
        event.listen(db.engine, "commit", lambda _conn: seen.update(["commit"]))
        event.listen(db.engine, "rollback", lambda _conn: seen.update(["rollback"]))
    return seen


def _add_probe_routes(app) -> None:
    from services.models import User
    from web.extensions import db

    @app.get("/_probe/fails")
    def fails():
        db.session.execute(select(User.id)).first()
        raise RuntimeError("a page that breaks")

    @app.get("/_probe/forbidden")
    def forbidden():
        db.session.execute(select(User.id)).first()
        abort(403)

    @app.get("/_probe/unsaved")
    def unsaved():
        user = db.session.scalar(select(User).where(User.username == "chuyenvien"))
        user.full_name = "Changed by a page, never saved"
        return "ok"

    @app.get("/_probe/flushed")
    def flushed():
        user = db.session.scalar(select(User).where(User.username == "chuyenvien"))
        user.full_name = "Flushed by a page, never saved"
        db.session.execute(select(User.id)).all()  # autoflush: the UPDATE is in the transaction
        assert not db.session.dirty
        return "ok"


def test_a_page_ends_its_read_transaction_with_commit(app, client):
    login(client, "chuyenvien")
    seen = _ends(app)
    for _ in range(3):
        assert client.get("/inbox").status_code == 200
    assert seen["rollback"] == 0 and seen["commit"] >= 3


def test_failed_and_unsaved_requests_roll_back(app, client, caplog):
    _add_probe_routes(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen = _ends(app)
    assert client.get("/_probe/fails").status_code == 500
    assert seen["rollback"] == 1
    seen.clear()
    assert client.get("/_probe/forbidden").status_code == 403  # an answer, not a failure: committed
    assert seen == {"commit": 1}
    seen.clear()
    with caplog.at_level(logging.WARNING, logger="web.request_db"):
        assert client.get("/_probe/unsaved").status_code == 200
        assert client.get("/_probe/flushed").status_code == 200
    assert seen == {"rollback": 2}
    assert "GET /_probe/unsaved wrote outside a use case's transaction" in caplog.text
    assert "GET /_probe/flushed wrote outside a use case's transaction" in caplog.text
    from services.models import User
    from web.extensions import db
    with app.app_context():
        name = db.session.scalar(select(User.full_name).where(User.username == "chuyenvien"))
    assert name not in ("Changed by a page, never saved", "Flushed by a page, never saved")


@pytest.mark.postgres
def test_postgres_connections_keep_their_prepared_statements_across_requests(pg_database, tmp_path):
    app = make_app(pg_database, tmp_path)
    upgrade(app)
    load_demo(app)
    client = app.test_client()
    login(client, "chuyenvien")
    from web.extensions import db
    try:
        for _ in range(8):  # psycopg prepares a statement from its 5th execution on
            assert client.get("/inbox").status_code == 200
        with app.app_context():
            with db.engine.connect() as conn:  # LIFO: the connection the requests used
                prepared = conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar()
        assert prepared >= 3
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_sessions_listeners_are_added_once_however_many_apps(app, tmp_path):
    from web.extensions import db

    make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    session = db.session.session_factory()
    try:
        assert [len(list(getattr(session.dispatch, name))) for name in
                ("after_flush", "do_orm_execute", "after_transaction_end")] == [1, 1, 1]
    finally:
        session.close()


def test_a_page_that_changed_something_cannot_have_a_use_case_commit_it(app, client, caplog):
    """A view that changed an object and then called a use case: before, the use case committed the
    change with its own work (no authorization, no audit event). Now the use case refuses to start
    (services.uow.UncommittedWork, a programming error: 500, logged), and nothing is saved."""
    from sqlalchemy import func

    from services import accounts
    from services.models import AuditEvent, User
    from web.extensions import db

    @app.get("/_probe/changes-then-logs-out")
    def changes_then_logs_out():
        user = db.session.scalar(select(User).where(User.username == "chuyenvien"))
        user.full_name = "Changed by a page, committed by a use case"
        accounts.record_logout(db.session, user)
        return "ok"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        db.session.remove()
    with caplog.at_level(logging.ERROR):
        assert client.get("/_probe/changes-then-logs-out").status_code == 500
    assert "UncommittedWork" in caplog.text and "User#" in caplog.text
    with app.app_context():
        assert db.session.scalar(select(User.full_name).where(User.username == "chuyenvien")) != (
            "Changed by a page, committed by a use case")
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
