"""Finding 4 of #11: logout, a password reset and deactivation end EVERY session of that user.

A session carries the user's session epoch ("<id>:<epoch>", User.get_id); the services bump the
epoch, and the user loader refuses a session whose epoch is old. The tests replay a cookie saved
before the event, as a thief or a second browser would.
"""
from __future__ import annotations

from sqlalchemy import event, select

from services.models import DossierStep, User
from tests.conftest import csrf_token, login
from tests.web.test_inbox import three  # noqa: F401 — the fixture


def _copy(app, client):
    """Another browser holding a copy of `client`'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _assignee(db_session, step_id: int) -> int | None:
    db_session.rollback()
    return db_session.get(DossierStep, step_id).assignee_id


def _user_id(db_session, username: str) -> int:
    db_session.rollback()
    return db_session.scalar(select(User.id).where(User.username == username))


def _refused(browser, step_id: int, token: str, db_session) -> None:
    page = browser.get("/inbox")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    claim = browser.post(f"/tasks/{step_id}/claim", data={"csrf_token": token, "next": "/inbox"})
    assert claim.status_code == 302 and claim.headers["Location"].startswith("/login")
    assert _assignee(db_session, step_id) is None  # the claim was not made


def test_a_cookie_saved_before_logout_is_refused_after_it(app, client, db_session, three):  # noqa: F811
    login(client, "vanthu.noivu")
    token = csrf_token(client, "/inbox")
    saved, second_browser = _copy(app, client), app.test_client()
    login(second_browser, "vanthu.noivu")
    bystander = app.test_client()
    login(bystander, "motcua")
    assert saved.get("/inbox").status_code == 200 and second_browser.get("/inbox").status_code == 200
    second_token = csrf_token(second_browser, "/inbox")

    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    step_id = three["later"][1]
    _refused(saved, step_id, token, db_session)
    _refused(second_browser, step_id, second_token, db_session)
    assert bystander.get("/").status_code == 200  # another user's session is untouched

    login(client, "vanthu.noivu")  # logging in again works
    token = csrf_token(client, "/inbox")
    assert client.post(f"/tasks/{step_id}/claim", data={"csrf_token": token, "next": "/inbox"}).status_code == 303
    assert _assignee(db_session, step_id) == _user_id(db_session, "vanthu.noivu")


def test_an_admins_password_reset_ends_the_users_sessions(app, client, db_session, three):  # noqa: F811
    login(client, "vanthu.noivu")
    token = csrf_token(client, "/inbox")
    saved = _copy(app, client)
    admin, bystander = app.test_client(), app.test_client()
    login(admin, "admin")
    login(bystander, "motcua")
    uid = _user_id(db_session, "vanthu.noivu")
    response = admin.post(f"/admin/users/{uid}/password", data={
        "pw-password": "mat-khau-moi-2026", "pw-csrf_token": csrf_token(admin, f"/admin/users/{uid}")})
    assert response.status_code == 302
    for browser in (client, saved):
        _refused(browser, three["later"][1], token, db_session)
    assert bystander.get("/").status_code == 200 and admin.get("/admin/users").status_code == 200
    assert login(client, "vanthu.noivu").status_code == 401  # the old password is gone
    assert login(client, "vanthu.noivu", "mat-khau-moi-2026").status_code == 302
    assert client.get("/inbox").status_code == 200


def test_an_admin_who_resets_their_own_password_keeps_this_session_only(app, client, db_session):
    login(client, "admin")
    saved = _copy(app, client)
    uid = _user_id(db_session, "admin")
    response = client.post(f"/admin/users/{uid}/password", data={
        "pw-password": "mat-khau-moi-2026", "pw-csrf_token": csrf_token(client, f"/admin/users/{uid}")})
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200
    assert saved.get("/admin/users").status_code == 302


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, client, db_session,
                                                                          three):  # noqa: F811
    login(client, "vanthu.noivu")
    token = csrf_token(client, "/inbox")
    admin = app.test_client()
    login(admin, "admin")
    uid = _user_id(db_session, "vanthu.noivu")
    admin_token = csrf_token(admin, f"/admin/users/{uid}")
    assert admin.post(f"/admin/users/{uid}/active/0", data={"csrf_token": admin_token}).status_code == 302
    _refused(client, three["later"][1], token, db_session)
    assert admin.post(f"/admin/users/{uid}/active/1", data={"csrf_token": admin_token}).status_code == 302
    _refused(client, three["later"][1], token, db_session)  # the old session stays ended
    assert login(client, "vanthu.noivu").status_code == 302 and client.get("/inbox").status_code == 200


def test_a_session_without_an_epoch_is_refused(client, db_session):
    """A cookie in the format before epochs existed ("_user_id": "<id>") is no longer accepted."""
    with client.session_transaction() as session:
        session["_user_id"] = str(_user_id(db_session, "motcua"))
        session["_fresh"] = True
    assert client.get("/inbox").status_code == 302


def test_the_session_check_adds_no_query(app, client):
    """Every request loads its user: still the primary-key lookup and the roles, nothing more."""
    from web.extensions import db

    login(client, "motcua")
    uid = _uid_of(app, "motcua")
    statements = []
    with app.app_context():
        engine = db.engine

    def _record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        with app.test_request_context("/"):
            from web.auth import load_user
            user = load_user(f"{uid}:0")
            assert user is not None and user.username == "motcua"
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2 and "FROM users" in reads[0] and "FROM role_assignments" in reads[1], reads


def _uid_of(app, username: str) -> int:
    from web.extensions import db

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))
