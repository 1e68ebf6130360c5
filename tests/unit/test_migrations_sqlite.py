from tests.conftest import make_app
from tests.migrations_check import assert_round_trip


def test_sqlite_upgrade_downgrade_upgrade(tmp_path):
    assert_round_trip(make_app(f"sqlite:///{tmp_path / 'm.db'}", tmp_path))


def test_sqlite_uses_wal(tmp_path):
    from sqlalchemy import text
    app = make_app(f"sqlite:///{tmp_path / 'w.db'}", tmp_path)
    from web.extensions import db
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
