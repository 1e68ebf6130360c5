"""A migrated PostgreSQL database with the demo loaded, per test."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.concurrency_helpers import engine_for
from tests.conftest import prepare_demo


@pytest.fixture
def pg_url(pg_database, tmp_path):
    prepare_demo(pg_database, tmp_path)
    return pg_database


@pytest.fixture
def pg_session(pg_url):
    engine = engine_for(pg_url)
    session = Session(engine)
    yield session
    session.close()
    engine.dispose()
