"""`quytrinh lint` checks the cut against the minimum stored by the admin, read-only, as
`quytrinh calendar` reads the stored calendar; without a usable database, the shipped 0.30."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services import policy
from services.models import User
from tests.unit.bpmn.builder import base
from web.commands.lint import lint_command


def _raise_default(url: str, minimum: str) -> None:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            admin = session.scalar(select(User).where(User.username == "admin"))
            policy.update_reduction_policy(session, admin, default=minimum, years={})
    finally:
        engine.dispose()


def _lint(monkeypatch, url: str, *args):
    monkeypatch.setenv("DATABASE_URL", url)
    return CliRunner().invoke(lint_command, list(args))


def test_lint_reads_the_stored_minimum_without_writing(app, tmp_path, monkeypatch):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    path = tmp_path / "quy_trinh.bpmn"
    path.write_bytes(base("camunda"))  # tthc.reduction 0.3
    assert _lint(monkeypatch, url, str(path)).exit_code == 0
    _raise_default(url, "50%")  # every year, so the test does not depend on today's date
    db_file = Path(url.removeprefix("sqlite:///"))
    before = db_file.read_bytes()
    result = _lint(monkeypatch, url, "--json", "--lang", "en", str(path))
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert [e["code"] for e in payload["errors"]] == ["REDUCTION_BELOW_POLICY"]
    assert payload["policy"]["min_reduction"] == "0.5"
    assert "minimum of 0.5 (50%)" in payload["errors"][0]["message"]
    assert _lint(monkeypatch, url, "--reduction", "0.5", str(path)).exit_code == 0  # meets the raised minimum
    assert db_file.read_bytes() == before  # read-only


def test_lint_without_a_usable_database_uses_the_shipped_minimum(tmp_path, monkeypatch):
    path = tmp_path / "quy_trinh.bpmn"
    path.write_bytes(base("camunda"))
    missing = _lint(monkeypatch, f"sqlite:///{tmp_path / 'none.db'}", "--reduction", "0.29", str(path))
    assert missing.exit_code == 1 and "REDUCTION_BELOW_POLICY" in missing.stdout and not missing.stderr
    down = _lint(monkeypatch, "postgresql://nobody@127.0.0.1:1/none", "--json", str(path))
    assert down.exit_code == 0 and json.loads(down.stdout)["policy"]["min_reduction"] == "0.3"
    assert "Lưu ý: không đọc được chính sách của tỉnh" in down.stderr and "30%" in down.stderr
