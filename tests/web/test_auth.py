"""Login, deactivation, CSRF and the admin-only pages through the real web stack.

Throttles: test_login_throttle.py; sessions ending: test_sessions.py; `next`: test_login_redirect.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from services import accounts, actors
from services.models import AuditEvent, User
from tests.conftest import csrf_token, login


def _events(db_session, action: str, obj: str | None = None) -> list[AuditEvent]:
    db_session.rollback()  # end the read snapshot: see what the requests committed since
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if obj:
        stmt = stmt.where(AuditEvent.object == obj)
    return list(db_session.scalars(stmt.order_by(AuditEvent.seq)))


def _user(db_session, username: str) -> User:
    db_session.rollback()
    return db_session.scalar(select(User).where(User.username == username))


def test_login_ok_lands_on_home_in_vietnamese(client, db_session):
    response = login(client, "chuyenvien")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    page = client.get("/").get_data(as_text=True)
    assert "Xin chào, Võ Minh Chuyên" in page
    assert "Chuyên viên" in page and "H01.15" in page
    user = _user(db_session, "chuyenvien")
    assert [e.actor for e in _events(db_session, "login", f"user:{user.id}")] == ["chuyenvien"]


def test_wrong_password_is_refused_and_audited(client, db_session):
    response = login(client, "chuyenvien", "not-the-password")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    user = _user(db_session, "chuyenvien")
    failed = _events(db_session, "login_failed", f"user:{user.id}")
    assert len(failed) == 1 and '"reason":"bad_password"' in failed[0].payload
    assert client.get("/").status_code == 302  # still anonymous


def test_unknown_user_gets_the_same_message(client, db_session):
    response = login(client, "nobody", "whatever123")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    assert _events(db_session, "login_failed", "user:nobody")


def test_repeated_failures_hold_back_this_client_for_this_account(client, db_session, app):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        login(client, "lanhdaophong", "wrong-password")
    user = _user(db_session, "lanhdaophong")
    failed = _events(db_session, "login_failed", f"user:{user.id}")
    assert len(failed) == limit and '"holds_started":["pair"]' in failed[-1].payload
    # Even the right password is refused from here, with the same words, and the refusal is audited.
    response = login(client, "lanhdaophong")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    refused = _events(db_session, "login_refused", f"user:{user.id}")
    assert len(refused) == 1 and '"reason":"held_back"' in refused[0].payload
    db_session.refresh(user)
    assert user.locked_until is None  # the account itself is not locked


def test_a_hold_expires(db_session):
    policy = accounts.LoginPolicy(max_failures=3, lockout=timedelta(minutes=15))
    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    for i in range(3):
        assert accounts.authenticate(db_session, "vanthu.so", "bad-pass", policy=policy, ip="10.0.0.1",
                                     now=t0 + timedelta(seconds=i)).user is None
    during = accounts.authenticate(db_session, "vanthu.so", "quytrinh2026", policy=policy, ip="10.0.0.1",
                                   now=t0 + timedelta(minutes=14))
    assert during.user is None and during.reason == "refused"
    after = accounts.authenticate(db_session, "vanthu.so", "quytrinh2026", policy=policy, ip="10.0.0.1",
                                  now=t0 + timedelta(minutes=30))
    assert after.user is not None and after.user.username == "vanthu.so"


def test_deactivated_user_cannot_log_in(client, db_session):
    user = _user(db_session, "chuyenvien")
    accounts.set_active(db_session, actors.CLI, user.id, False)
    response = login(client, "chuyenvien")
    assert response.status_code == 401
    assert "vô hiệu hóa" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivation_ends_a_running_session(client, db_session):
    login(client, "chuyenvien")
    assert client.get("/").status_code == 200
    accounts.set_active(db_session, actors.CLI, _user(db_session, "chuyenvien").id, False)
    db_session.commit()
    assert client.get("/").status_code == 302


def test_form_without_csrf_token_is_refused(client, db_session):
    response = client.post("/login", data={"username": "chuyenvien", "password": "quytrinh2026"})
    assert response.status_code == 400
    assert "Mã bảo mật của biểu mẫu" in response.get_data(as_text=True)
    assert not _events(db_session, "login", f"user:{_user(db_session, 'chuyenvien').id}")
    forged = client.post("/login", data={"username": "chuyenvien", "password": "quytrinh2026",
                                         "csrf_token": "forged"})
    assert forged.status_code == 400


def test_logout_needs_post_with_csrf_and_is_audited(client, db_session):
    login(client, "motcua")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert _events(db_session, "logout", f"user:{_user(db_session, 'motcua').id}")
    assert client.get("/").status_code == 302


def test_official_gets_403_on_admin_pages(client):
    login(client, "chuyenvien")
    for path in ("/admin/users", "/admin/users/new", "/admin/org-units", "/admin/users/1"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Không có quyền truy cập" in response.get_data(as_text=True)
    token = csrf_token(client, "/")
    assert client.post("/admin/users/1/active/0", data={"csrf_token": token}).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_creates_grants_and_deactivates_with_audit(client, db_session):
    login(client, "admin")
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "username": "chuyenvien2", "full_name": "Ngô Thị Mới", "email": "", "password": "mat-khau-moi",
        "csrf_token": token})
    assert response.status_code == 302
    new = _user(db_session, "chuyenvien2")
    detail = client.get(f"/admin/users/{new.id}").get_data(as_text=True)
    assert "Ngô Thị Mới" in detail
    unit_id = db_session.execute(select(func.min(User.id))).scalar()  # any id works for the unknown case
    token = csrf_token(client, f"/admin/users/{new.id}")
    from services.models import OrgUnit
    so_xd = db_session.scalar(select(OrgUnit).where(OrgUnit.code == "H01.15"))
    response = client.post(f"/admin/users/{new.id}/roles", data={
        "grant-role": "chuyen_vien", "grant-org_unit": so_xd.id, "grant-csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(f"/admin/users/{new.id}/active/0", data={"csrf_token": token})
    assert response.status_code == 302
    db_session.expire_all()
    assert not _user(db_session, "chuyenvien2").active
    actions = [e.action for e in db_session.scalars(
        select(AuditEvent).where(AuditEvent.object == f"user:{new.id}").order_by(AuditEvent.seq))]
    assert actions == ["user_created", "role_granted", "user_deactivated"]
    assert all(e.actor == "admin" for e in _events(db_session, "role_granted", f"user:{new.id}"))
    assert unit_id is not None


def test_admin_form_errors_name_the_field(client):
    login(client, "admin")
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "username": "chuyenvien", "full_name": "Trùng Tên", "password": "12345678", "csrf_token": token})
    assert response.status_code == 400
    assert "Tên đăng nhập &#39;chuyenvien&#39; đã được sử dụng." in response.get_data(as_text=True)
    response = client.post("/admin/users/new", data={
        "username": "ok.name", "full_name": "", "password": "short", "csrf_token": token})
    assert response.status_code == 400


def test_admin_cannot_deactivate_self(client, db_session):
    login(client, "admin")
    me = _user(db_session, "admin")
    token = csrf_token(client, "/")
    client.post(f"/admin/users/{me.id}/active/0", data={"csrf_token": token})
    db_session.expire_all()
    assert _user(db_session, "admin").active


def test_english_switch(client):
    client.get("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and "Username" in page
    client.get("/lang/vi")
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)


def test_unknown_page_is_a_clear_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_admin_creates_a_user_with_an_email(client, db_session):
    login(client, "admin")
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "username": "cv.email", "full_name": "Có Thư", "email": "cv@angiang.gov.vn", "password": "mat-khau-dai",
        "csrf_token": token})
    assert response.status_code == 302
    assert _user(db_session, "cv.email").email == "cv@angiang.gov.vn"
    bad = client.post("/admin/users/new", data={
        "username": "cv.bad", "full_name": "Sai Thư", "email": "not-an-email", "password": "mat-khau-dai",
        "csrf_token": token})
    assert bad.status_code == 400


def test_expired_session_on_an_htmx_request_redirects_the_whole_page(client):
    response = client.get("/inbox", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    stale = client.post("/tasks/1/claim", headers={"HX-Request": "true"})  # the token died with the session
    assert stale.status_code == 400 and stale.headers["HX-Refresh"] == "true"
    plain = client.get("/inbox")
    assert plain.status_code == 302 and "/login?next=/inbox" in plain.headers["Location"]
