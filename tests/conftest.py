"""Shared fixtures: migrated databases (SQLite always, PostgreSQL when a server answers), the app.

A migrated-and-demo-loaded SQLite file is built once per session and copied for each test, so every
test starts from the real migrations and the real demo without paying for argon2 hashing each time.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("QUYTRINH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def require_or_skip(condition: bool, reason: str) -> None:
    """Skip with a visible reason locally; in CI a missing service is a failure, never a skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: this test must not be skipped in CI")
    pytest.skip(reason)


def make_app(database_url: str, instance: Path, **overrides):
    os.environ["QUYTRINH_INSTANCE_PATH"] = str(instance)
    from web import create_app

    config = {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SERVER_NAME": "localhost"}
    config.update(overrides)
    return create_app(config)


def upgrade(app) -> None:
    from flask_migrate import upgrade as alembic_upgrade

    with app.app_context():
        alembic_upgrade()


def load_demo(app) -> None:
    from services import demo
    from web.extensions import db

    with app.app_context():
        demo.load(db.session)
        db.session.remove()


def prepare_demo(database_url: str, instance: Path) -> None:
    """Migrate *database_url* and load the demo; the app's connections are closed afterwards."""
    app = make_app(database_url, instance)
    upgrade(app)
    load_demo(app)
    with app.app_context():
        from web.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database with the demo loaded, built once."""
    base = tmp_path_factory.mktemp("template")
    path = base / "template.db"
    prepare_demo(f"sqlite:///{path}", base)
    return path


@pytest.fixture
def app(tmp_path, sqlite_template):
    """An app on a private copy of the demo SQLite database."""
    db_path = tmp_path / "quytrinh.db"
    shutil.copyfile(sqlite_template, db_path)
    application = make_app(f"sqlite:///{db_path}", tmp_path)
    yield application
    with application.app_context():
        from web.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db_session(app):
    """A plain SQLAlchemy session on the app's database, outside any app context.

    Services take a session, not Flask, and the web requests of the same test get their own
    app context (as in production) instead of sharing this one's `g` and identity map.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.db import tune_sqlite

    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    tune_sqlite(engine)
    session = Session(engine, expire_on_commit=True)
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def pg_server_url():
    """The admin URL of a reachable PostgreSQL server (skip locally, fail in CI, when none answers)."""
    require_or_skip(_pg_reachable(), "no PostgreSQL server answers on 127.0.0.1:5432")
    return PG_ADMIN_URL


@pytest.fixture
def pg_database(pg_server_url):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"quytrinh_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, username: str, password: str = "quytrinh2026"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})
