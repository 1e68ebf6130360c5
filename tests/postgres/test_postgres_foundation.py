"""The same migrations, demo, login and audit guarantees on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services import audit, demo
from services.models import AuditEvent
from tests.conftest import load_demo, login, make_app, upgrade
from tests.migrations_check import assert_round_trip

pytestmark = pytest.mark.postgres


def test_postgres_upgrade_downgrade_upgrade(pg_database, tmp_path):
    assert_round_trip(make_app(pg_database, tmp_path))


def test_postgres_only_parts_of_migration_0006(pg_database, tmp_path):
    """The completion's write check function, and lz4 for the dossier states; both gone with a
    downgrade to 0005."""
    from flask_migrate import downgrade, upgrade as upgrade_to

    app = make_app(pg_database, tmp_path)
    check = "SELECT count(*) FROM pg_proc WHERE proname = 'quytrinh_expect_one'"
    compression = ("SELECT attcompression FROM pg_attribute "
                   "WHERE attrelid = 'dossiers'::regclass AND attname = 'state'")
    from web.extensions import db
    with app.app_context():
        upgrade_to()
        with db.engine.connect() as conn:
            assert conn.execute(text(check)).scalar() == 1
            assert conn.execute(text(compression)).scalar() == "l"
            assert conn.execute(text("SELECT quytrinh_expect_one(1, 'x')")).scalar() == 1
            with pytest.raises(DBAPIError) as err:
                conn.execute(text("SELECT quytrinh_expect_one(0, 'open step')"))
            assert err.value.orig.sqlstate == "QT409" and "open step: 0 rows" in str(err.value.orig)
        downgrade(revision="0005")
        with db.engine.connect() as conn:
            assert conn.execute(text(check)).scalar() == 0
            assert conn.execute(text(compression)).scalar() == ""
        db.engine.dispose()


@pytest.fixture
def pg_app(pg_database, tmp_path):
    app = make_app(pg_database, tmp_path)
    upgrade(app)
    load_demo(app)
    yield app
    from web.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_postgres_demo_login_and_chain(pg_app):
    client = pg_app.test_client()
    assert login(client, "chutich").status_code == 302
    assert "Chủ tịch UBND tỉnh" in client.get("/").get_data(as_text=True)
    assert login(pg_app.test_client(), "chutich", "wrong-password").status_code == 401
    engine = create_engine(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    with Session(engine) as session:
        assert demo.load(session).created_users == 0
        count, broken = audit.verify(session)
        assert broken is None and count > 20
        actions = set(session.scalars(select(AuditEvent.action)))
        assert {"login", "login_failed", "user_created", "role_granted"} <= actions
    engine.dispose()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'mallory' WHERE seq = 1",
    "DELETE FROM audit_events WHERE seq = 1",
    "TRUNCATE audit_events",
])
def test_postgres_refuses_update_delete_truncate(pg_app, statement):
    engine = create_engine(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    engine.dispose()


def test_postgres_login_throttles_and_session_epochs(pg_app):
    """The throttles' upsert and clean-up, and the session epoch, on PostgreSQL (#11 findings 4, 8)."""
    from tests.conftest import csrf_token

    stranger, official = pg_app.test_client(), pg_app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.10"
    official.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::7"
    for typed in ("chutich", "ChuTich", "CHUTICH", "chutich", "chuTich"):
        assert login(stranger, typed, "doan-mat-khau").status_code == 401
    assert login(stranger, "chutich").status_code == 401  # this pair is held back …
    assert login(official, "chutich").status_code == 302  # … nobody else
    saved = pg_app.test_client()
    saved.set_cookie("session", official.get_cookie("session").value)
    assert saved.get("/").status_code == 200
    official.post("/logout", data={"csrf_token": csrf_token(official, "/")})
    assert saved.get("/").status_code == 302
    engine = create_engine(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    with Session(engine) as session:
        keys = set(session.scalars(text("SELECT key FROM login_throttles")))
        assert {"pair:chutich|a:203.0.113.10", "addr:203.0.113.10", "acct:chutich",
                "pair:chutich|a:2001:db8:1:2::/64"} <= keys
        assert audit.verify(session)[1] is None
    engine.dispose()
