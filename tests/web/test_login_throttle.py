"""Finding 8 of #11: the login throttles cannot be turned into a weapon, and tell nothing.

Strangers failing against an account hold back only themselves (their address with that account),
an address failing across many accounts is held back, an account attacked from everywhere holds back
only browsers it has never logged in from. Unknown name, wrong password and held back answer with
the same words and status, and do the same work (one argon2 verification, the same SQL).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from services import accounts, actors
from services.models import AuditEvent, LoginThrottle, User
from tests.conftest import csrf_token, login

A, B, C, D = "203.0.113.10", "198.51.100.20", "192.0.2.30", "203.0.113.40"
ERROR = re.compile(r'<div class="flash flash-error" role="alert">(.*?)</div>', re.S)


def at(app, address: str):
    """A browser at `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def error_of(response) -> str:
    match = ERROR.search(response.get_data(as_text=True))
    assert match, "no form error on the page"
    return match.group(1)


def _events(db_session, action: str) -> list[AuditEvent]:
    db_session.rollback()
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_a_stranger_failing_from_one_address_does_not_lock_the_official_out(app, db_session):
    stranger = at(app, A)
    # Case and blanks do not make another account: all five count against chutich.
    for typed in ("chutich", "ChuTich", "CHUTICH", " chuTich ", "Chutich"):
        assert login(stranger, typed, "doan-mat-khau").status_code == 401
    # The pair A/chutich is held back: even the right password is refused from A …
    held = login(stranger, "chutich")
    assert held.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in error_of(held)
    # … and a few more failures from A change nothing for anyone else.
    for _ in range(3):
        login(stranger, "chutich", "doan-mat-khau")
    # The official, from the office, logs in at once.
    assert login(at(app, B), "ChuTich").status_code == 302
    assert login(at(app, B), "chutich").status_code == 302
    refused = _events(db_session, "login_refused")
    assert refused and all('"reason":"held_back"' in e.payload and '"held":["pair"]' in e.payload
                           and A in e.payload for e in refused)


def test_an_address_failing_across_many_accounts_is_held_back(app):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 6
    sprayer = at(app, A)
    for name in ("chutich", "motcua", "nobody", "vanthu.so", "ghost.1", "chuyenvien"):
        assert login(sprayer, name, "Matkhau@2026").status_code == 401
    # One failure per account, under every pair's limit: the address as a whole is held back …
    assert login(sprayer, "lanhdaophong").status_code == 401
    # … and nobody else.
    assert login(at(app, B), "lanhdaophong").status_code == 302


def test_an_account_attacked_from_everywhere_holds_back_only_unknown_browsers(app, db_session):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 6
    own = at(app, D)  # the official's own browser, used before the attack
    assert login(own, "chutich").status_code == 302
    own.post("/logout", data={"csrf_token": csrf_token(own, "/")})
    # A stranger with a browser of his own account: it vouches for motcua only.
    stranger = at(app, A)
    assert login(stranger, "motcua").status_code == 302
    stranger.post("/logout", data={"csrf_token": csrf_token(stranger, "/")})

    for address in (A, B, C):  # two failures from each: no pair, no address reaches its limit
        for _ in range(2):
            assert login(at(app, address), "chutich", "doan-mat-khau").status_code == 401
    assert login(at(app, "192.0.2.99"), "chutich").status_code == 401   # an unknown browser waits
    assert login(stranger, "chutich").status_code == 401                 # motcua's browser too
    forged = at(app, "192.0.2.98")
    forged.set_cookie("quytrinh_device", own.get_cookie("quytrinh_device").value[:-4] + "AAAA")
    assert login(forged, "chutich").status_code == 401                   # a forged cookie is no cookie
    own.environ_base["REMOTE_ADDR"] = "192.0.2.77"                        # from anywhere
    assert login(own, "chutich").status_code == 302                      # the official's browser: in
    # The admin sees why new browsers cannot log in.
    admin = at(app, "10.1.1.1")
    login(admin, "admin")
    uid = db_session.scalar(select(User.id).where(User.username == "chutich"))
    assert "Tạm chặn đăng nhập từ trình duyệt mới" in admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "Tạm chặn đăng nhập từ trình duyệt mới" in admin.get("/admin/users").get_data(as_text=True)


def test_an_admins_password_reset_lifts_the_holds(app, db_session):
    stranger = at(app, A)
    for _ in range(5):
        login(stranger, "chutich", "doan-mat-khau")
    assert login(stranger, "chutich").status_code == 401
    admin = at(app, B)
    login(admin, "admin")
    uid = db_session.scalar(select(User.id).where(User.username == "chutich"))
    admin.post(f"/admin/users/{uid}/password", data={
        "pw-password": "mat-khau-moi-2026", "pw-csrf_token": csrf_token(admin, f"/admin/users/{uid}")})
    assert login(stranger, "chutich", "mat-khau-moi-2026").status_code == 302


def _held_back_pair(app, address: str, username: str) -> None:
    client = at(app, address)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, username, "doan-mat-khau")


def test_unknown_wrong_held_back_and_inactive_answer_alike(app, db_session):
    accounts.set_active(db_session, actors.CLI, db_session.scalar(select(User.id).where(User.username == "vanthu.so")),
                        False)
    _held_back_pair(app, C, "chutich")
    answers = {
        "unknown": login(at(app, A), "khong.co.ai", "quytrinh2026"),
        "wrong": login(at(app, A), "motcua", "sai-mat-khau"),
        "held, right password": login(at(app, C), "chutich"),
        "held, wrong password": login(at(app, C), "chutich", "sai-mat-khau"),
        "inactive, wrong password": login(at(app, A), "vanthu.so", "sai-mat-khau"),
    }
    texts = {path: (r.status_code, error_of(r)) for path, r in answers.items()}
    assert len(set(texts.values())) == 1, texts
    status, words = texts["unknown"]
    assert status == 401 and "Sai tên đăng nhập hoặc mật khẩu" in words and "15 phút" in words
    # The right password of a deactivated account may say so (its holder learns nothing new).
    inactive = login(at(app, A), "vanthu.so")
    assert inactive.status_code == 401 and "vô hiệu hóa" in error_of(inactive)


class _CountingHasher:
    def __init__(self, hasher):
        self.hasher, self.verify_calls = hasher, 0

    def verify(self, *args):
        self.verify_calls += 1
        return self.hasher.verify(*args)

    def __getattr__(self, name):
        return getattr(self.hasher, name)


def test_every_failing_path_does_the_same_work(app, db_session, monkeypatch):
    """One argon2 verification, the same SQL statements and one audit event, whatever the path:
    the answer's time cannot tell them apart."""
    from web.extensions import db

    accounts.set_active(db_session, actors.CLI, db_session.scalar(select(User.id).where(User.username == "vanthu.so")),
                        False)
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 5
    _held_back_pair(app, C, "chutich")
    for name in ("n1", "n2", "n3", "n4", "n5"):  # D is held back as an address
        login(at(app, D), name, "x" * 8)
    paths = {
        "unknown user": (A, "khong.co.ai", "quytrinh2026"),
        "junk name": (A, "<script>", "quytrinh2026"),
        "wrong password": (A, "motcua", "sai-mat-khau"),
        "pair held, right password": (C, "chutich", "quytrinh2026"),
        "pair held, wrong password": (C, "chutich", "sai-mat-khau"),
        "address held, right password": (D, "lanhdaophong", "quytrinh2026"),
        "inactive, wrong password": (A, "vanthu.so", "sai-mat-khau"),
        "inactive, right password": (B, "vanthu.so", "quytrinh2026"),
    }
    spy = _CountingHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", spy)
    with app.app_context():
        engine = db.engine
    work = {}
    for path, (address, username, password) in paths.items():
        client = at(app, address)
        token = csrf_token(client, "/login")
        statements, before, events = [], spy.verify_calls, len(_events(db_session, "login_failed")) + len(
            _events(db_session, "login_refused"))

        def _record(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", _record)
        try:
            response = client.post("/login", data={"username": username, "password": password,
                                                   "csrf_token": token})
        finally:
            event.remove(engine, "before_cursor_execute", _record)
        assert response.status_code == 401, path
        after = len(_events(db_session, "login_failed")) + len(_events(db_session, "login_refused"))
        work[path] = (spy.verify_calls - before, after - events, tuple(statements))
    verifications = {path: w[0] for path, w in work.items()}
    assert set(verifications.values()) == {1}, verifications
    assert {w[1] for w in work.values()} == {1}  # one audit event each
    reference = work["unknown user"][2]
    assert any("login_throttles" in s for s in reference)
    for path, w in work.items():
        assert w[2] == reference, (path, set(w[2]) ^ set(reference))


def test_holds_expire_and_old_counters_are_cleaned(db_session):
    policy = accounts.LoginPolicy(max_failures=3, max_failures_per_address=50, max_failures_per_account=50,
                                  lockout=timedelta(minutes=15))
    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    for i in range(10):  # ten strangers, each trying a name of their own
        accounts.authenticate(db_session, f"ghost.{i}", "x" * 8, policy=policy, ip=f"192.0.2.{i}",
                              now=t0 + timedelta(seconds=i))
    for i in range(3):
        accounts.authenticate(db_session, "motcua", "x" * 8, policy=policy, ip=A, now=t0 + timedelta(minutes=1))
    assert db_session.scalar(select(func.count()).select_from(LoginThrottle)) == 3 * 10 + 3
    later = t0 + timedelta(minutes=15, seconds=30)  # the strangers' windows are over; A/motcua is held back
    assert accounts.authenticate(db_session, "motcua", "quytrinh2026", policy=policy, ip=A, now=later).user is None
    left = set(db_session.scalars(select(LoginThrottle.key)))
    assert left == {f"pair:motcua|a:{A}", f"addr:{A}", "acct:motcua"}
    done = t0 + timedelta(minutes=40)
    assert accounts.authenticate(db_session, "motcua", "quytrinh2026", policy=policy, ip=A, now=done).user is not None


@pytest.mark.parametrize("ip, key", [
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # one subscriber's /64 is one address
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    ("192.0.2.1", "192.0.2.1"),
    ("not-an-address", "unknown"),
    (None, "unknown"),
])
def test_address_keys(ip, key):
    from services.login_throttle import address_key

    assert address_key(ip) == key


def test_proxy_headers_are_ignored_unless_trusted(tmp_path, sqlite_template):
    import shutil

    from tests.conftest import make_app

    for trusted, expected in ((0, "127.0.0.1"), (1, "198.51.100.7")):
        db_path = tmp_path / f"q{trusted}.db"
        shutil.copyfile(sqlite_template, db_path)
        app = make_app(f"sqlite:///{db_path}", tmp_path, TRUSTED_PROXIES=trusted)
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
        login(client, "nobody", "x" * 8)
        from web.extensions import db
        with app.app_context():
            payload = db.session.scalar(select(AuditEvent.payload).where(AuditEvent.action == "login_failed"))
            db.session.remove()
            db.engine.dispose()
        assert f'"ip":"{expected}"' in payload


@pytest.mark.parametrize("name, value", [("QUYTRINH_LOGIN_MAX_FAILURES", "five"),
                                         ("QUYTRINH_LOGIN_LOCKOUT_MINUTES", "0"),
                                         ("QUYTRINH_TRUSTED_PROXIES", "-1")])
def test_bad_login_settings_name_the_variable(name, value):
    from web.config import ConfigError, from_environment

    with pytest.raises(ConfigError, match=name):
        from_environment({name: value, "SECRET_KEY": "x"})


def test_login_settings_from_the_environment():
    from web.config import from_environment

    config = from_environment({"SECRET_KEY": "x", "QUYTRINH_LOGIN_MAX_FAILURES": "7",
                               "QUYTRINH_LOGIN_LOCKOUT_MINUTES": "30",
                               "QUYTRINH_LOGIN_MAX_FAILURES_PER_ADDRESS": "40",
                               "QUYTRINH_LOGIN_MAX_FAILURES_PER_ACCOUNT": "60", "QUYTRINH_TRUSTED_PROXIES": "2"})
    assert (config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCKOUT_MINUTES"], config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], config["TRUSTED_PROXIES"]) == (7, 30, 40, 60, 2)
