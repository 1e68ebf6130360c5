"""Shared checks for the migration tests on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from services.db import Base


def assert_round_trip(app) -> None:
    """Upgrade from empty, match the models, downgrade to base, upgrade again."""
    from web.extensions import db

    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "roles", "org_units", "role_assignments", "audit_events"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            assert conn.execute(text("SELECT count(*) FROM roles")).scalar() == 12
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()
