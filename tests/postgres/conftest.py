"""A migrated PostgreSQL database with the demo loaded, per test."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.concurrency_helpers import engine_for
from tests.conftest import load_demo, make_app, upgrade


@pytest.fixture
def pg_url(pg_database, tmp_path):
    app = make_app(pg_database, tmp_path)
    upgrade(app)
    load_demo(app)
    from web.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return pg_database


@pytest.fixture
def pg_session(pg_url):
    engine = engine_for(pg_url)
    session = Session(engine)
    yield session
    session.close()
    engine.dispose()
