"""`quytrinh calendar` reads the stored calendar when a migrated database is there, else the
shipped defaults — and an absent or broken database never breaks it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from services import calendar as store
from services.models import User

ROOT = Path(__file__).resolve().parents[2]
DESIGN_EXAMPLE = ["calendar", "due", "--from", "2026-02-12T15:30", "--working-days", "3"]
DEFAULT_DUE = "2026-02-24T17:00:00+07:00"


def _run(args, instance, database_url=None):
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "QUYTRINH_ENV")}
    environ["QUYTRINH_INSTANCE_PATH"] = str(instance)
    if database_url is not None:
        environ["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def _store_day_off(url, day=date(2026, 2, 24)):
    """An administrator adds a day off to 2026 (Tuesday 24 Feb, the design example's due day)."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            admin = session.scalar(select(User).where(User.username == "admin"))
            shipped = store.current_calendar(session).schedule_for(2026)
            store.save_year(session, admin, 2026,
                            [(e.day, e.name) for e in shipped.days_off] + [(day, "Nghỉ thêm sau Tết")],
                            [(e.day, e.name) for e in shipped.working_days])
    finally:
        engine.dispose()


def _db_url(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def test_due_honours_a_stored_day_off(app, tmp_path):
    url = _db_url(app)
    _store_day_off(url)
    db_file = Path(url.removeprefix("sqlite:///"))
    before = db_file.read_bytes()
    result = _run(DESIGN_EXAMPLE, tmp_path, url)
    assert (result.returncode, result.stdout, result.stderr) == (0, "2026-02-25T17:00:00+07:00\n", "")
    shown = _run(["calendar", "show", "--year", "2026"], tmp_path, url)
    assert shown.returncode == 0
    assert re.search(r"^  2026-02-24 Thứ Ba +Nghỉ thêm sau Tết$", shown.stdout, re.M)
    assert "Lưu trên trang quản trị bởi admin" in shown.stdout
    assert db_file.read_bytes() == before  # the command only reads


def test_embedded_database_is_used_without_database_url(app, tmp_path):
    # With DATABASE_URL unset the embedded file instance/quytrinh.db is the database.
    url = _db_url(app)
    _store_day_off(url)
    instance = Path(url.removeprefix("sqlite:///")).parent
    assert _run(DESIGN_EXAMPLE, instance).stdout == "2026-02-25T17:00:00+07:00\n"


def test_a_migrated_database_with_nothing_stored_gives_the_defaults(app, tmp_path):
    result = _run(DESIGN_EXAMPLE, tmp_path, _db_url(app))
    assert (result.returncode, result.stdout, result.stderr) == (0, DEFAULT_DUE + "\n", "")


@pytest.mark.parametrize("database_url", [None, "sqlite:///{tmp}/nothing/here.db", "sqlite:///{tmp}/empty.db"])
def test_no_database_set_up_gives_the_defaults_silently(tmp_path, database_url):
    (tmp_path / "empty.db").touch()  # an empty file: a database without tables
    url = database_url.format(tmp=tmp_path) if database_url else None
    result = _run(DESIGN_EXAMPLE, tmp_path, url)
    assert (result.returncode, result.stdout, result.stderr) == (0, DEFAULT_DUE + "\n", "")
    assert not (tmp_path / "quytrinh.db").exists() and not (tmp_path / "nothing").exists()
    assert (tmp_path / "empty.db").stat().st_size == 0


@pytest.mark.parametrize("database_url, cause", [
    ("not a url at all", "DATABASE_URL is malformed"),
    ("mysql://u@h/db", "unsupported database 'mysql'"),
    ("postgresql://postgres@127.0.0.1:1/quytrinh", "DATABASE_URL: connection"),
])
def test_an_unusable_database_gives_the_defaults_with_one_note(tmp_path, database_url, cause):
    result = _run(DESIGN_EXAMPLE, tmp_path, database_url)
    assert (result.returncode, result.stdout) == (0, DEFAULT_DUE + "\n")
    assert "Traceback" not in result.stderr
    [note] = result.stderr.splitlines()
    assert note.startswith("Lưu ý: không đọc được lịch đã lưu (") and cause in note
    assert note.endswith("dùng lịch mặc định có sẵn.")


def test_bad_input_is_reported_alone_even_with_a_broken_database(tmp_path):
    result = _run(["calendar", "due", "--from", "x", "--working-days", "3"], tmp_path, "mysql://u@h/db")
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Lỗi: --from")


def test_a_corrupt_stored_calendar_is_noted_not_silently_used(app, tmp_path):
    url = _db_url(app)
    _store_day_off(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE calendar_config SET data = 'not json', revision = revision + 1"))
    engine.dispose()
    result = _run(DESIGN_EXAMPLE, tmp_path, url)
    assert (result.returncode, result.stdout) == (0, DEFAULT_DUE + "\n")
    [note] = result.stderr.splitlines()
    assert "calendar_config.data" in note and "Traceback" not in result.stderr


@pytest.mark.postgres
def test_due_honours_a_stored_day_off_on_postgresql(pg_database, tmp_path):
    from tests.conftest import prepare_demo

    prepare_demo(pg_database, tmp_path)
    _store_day_off(pg_database)
    result = _run(DESIGN_EXAMPLE, tmp_path, pg_database)
    assert (result.returncode, result.stdout, result.stderr) == (0, "2026-02-25T17:00:00+07:00\n", "")
