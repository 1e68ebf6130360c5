"""The simulated history: deterministic, realistic enough for the reports, made by the real services."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from engine.calendar import to_local
from services import audit
from services.calendar import current_calendar
from services.db import tune_sqlite
from services.models import (
    ApologyLetter, AuditEvent, Dossier, DossierStep, OrgUnit, Procedure, RoleAssignment, SupplementRequest,
)
from services.simulation import simulate
from tests.conftest import make_app, upgrade
from tests.dossier_helpers import vn

ROOT = Path(__file__).resolve().parents[2]
N, SEED = 60, 1
START, END = vn(2026, 8, 24, 0, 0), vn(2026, 10, 2, 17, 0)  # six weeks, with Quốc khánh (2/9) in them


def _session(path: Path) -> Session:
    engine = create_engine(f"sqlite:///{path}")
    tune_sqlite(engine)
    return Session(engine)


def _run(path: Path):
    session = _session(path)
    try:
        return simulate(session, dossiers=N, seed=SEED, start=START, end_at=END)
    finally:
        session.close()
        session.get_bind().dispose()


def _history(session: Session) -> list[tuple]:
    return [tuple(r) for r in session.execute(select(
        Dossier.code, Dossier.received_at, Dossier.due_at, Dossier.original_due_at, Dossier.status,
        Dossier.result_class, Dossier.warning).order_by(Dossier.id))]


@pytest.fixture(scope="module")
def simulated(sqlite_template, tmp_path_factory):
    """One simulated history on a private copy of the demo database: (session, report)."""
    path = tmp_path_factory.mktemp("simulated") / "sim.db"
    shutil.copyfile(sqlite_template, path)
    report = _run(path)
    session = _session(path)
    yield session, report
    session.close()
    session.get_bind().dispose()


def test_same_seed_same_history_on_another_copy(simulated, sqlite_template, tmp_path):
    session, report = simulated
    other = tmp_path / "again.db"
    shutil.copyfile(sqlite_template, other)
    again = _run(other)
    assert again.total == report.total and again.per_procedure == report.per_procedure
    second = _session(other)
    try:
        assert _history(second) == _history(session)
        assert [e for e in second.execute(select(AuditEvent.action, AuditEvent.at).order_by(AuditEvent.seq))] \
            == [e for e in session.execute(select(AuditEvent.action, AuditEvent.at).order_by(AuditEvent.seq))]
    finally:
        second.close()
        second.get_bind().dispose()


def test_history_has_every_outcome_the_reports_count(simulated):
    session, report = simulated
    t = report.total
    assert t.received == N and not report.errors and not report.unstaffed
    assert t.early and t.on_time and t.late and t.handed_back
    assert t.returns and t.supplements and t.apologies
    running = {"within": t.within, "nearly_due": t.nearly_due, "overdue": t.overdue}
    assert running["within"] and sum(1 for v in running.values() if v) >= 2, running
    outcomes = t.early + t.on_time + t.late + t.rejected + t.withdrawn + t.within + t.nearly_due + t.overdue + t.waiting
    assert outcomes == N
    # The counts are what the database holds (what the reports will read).
    rows = session.execute(select(Dossier.status, Dossier.result_class, Dossier.warning)).all()
    assert Counter(r.result_class for r in rows if r.result_class) == Counter(
        {"early": t.early, "on_time": t.on_time, "late": t.late})
    assert sum(1 for r in rows if r.status in ("received", "processing") and r.warning == "overdue") == t.overdue
    assert session.query(ApologyLetter).count() == t.apologies
    assert session.query(SupplementRequest).filter_by(kind="supplement").count() == t.supplements
    assert session.query(AuditEvent).filter_by(action="step_returned").count() == t.returns
    # Late results are the ones past the first promised date, with or without an apology letter.
    for d in session.scalars(select(Dossier).where(Dossier.result_class == "late")):
        assert d.result_at > d.original_due_at
    # The ones still in progress are the recent ones.
    def mean_day(status):
        days = [to_local(r.received_at).toordinal() for r in session.execute(
            select(Dossier.received_at).where(Dossier.status.in_(status)))]
        return sum(days) / len(days)
    assert mean_day(("received", "processing")) > mean_day(("returned",)) + 7
    assert report.procedure_names.keys() == report.per_procedure.keys() == {"1.003822", "1.004873", "1.009974"}


def test_arrivals_follow_the_working_calendar_and_desks(simulated):
    session, _ = simulated
    cal = current_calendar(session)
    received = [to_local(r) for r in session.scalars(select(Dossier.received_at))]
    assert all(cal.is_working_time(r) for r in received)
    assert all(START <= r <= END for r in received)
    assert sum(r.hour < 12 for r in received) > sum(r.hour >= 12 for r in received)  # mornings are busier
    assert any(r.hour >= 15 for r in received)  # some after the receipt cut-off
    assert not any(r.month == 9 and r.day == 2 for r in received)  # Quốc khánh
    # A commune procedure is received at that commune's own one-stop centre.
    for dossier in session.scalars(select(Dossier).join(Procedure).join(OrgUnit, OrgUnit.id == Procedure.agency_id)
                                   .where(OrgUnit.kind == "commune")):
        assert session.get(OrgUnit, dossier.desk_id).parent_id == dossier.agency_id


def test_audit_chain_verifies_on_the_simulated_clock(simulated):
    session, report = simulated
    checked, broken = audit.verify(session)
    assert broken is None and checked > 10 * N
    codes = {c for (c,) in session.execute(select(Dossier.code))}
    times = [(e.at, e.action) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
             if e.object.startswith("dossier:") and e.object.split(":", 1)[1] in codes]
    assert times and all(START <= at <= END for at, _ in times)
    assert [at for at, _ in times] == sorted(at for at, _ in times)  # events in simulated-time order
    assert {"step_deadline", "dossier_deadline", "step_claimed", "apology_issued"} <= {a for _, a in times}


def test_every_completer_held_the_role_in_the_steps_org_unit(simulated):
    session, _ = simulated
    completed = session.scalars(select(DossierStep).where(DossierStep.status == "completed")).all()
    assert len(completed) > 5 * N // 2
    for step in completed:
        assert step.completed_at is not None and step.used_minutes is not None
        held = session.scalar(select(RoleAssignment.id).where(
            RoleAssignment.user_id == step.completed_by_id, RoleAssignment.role_code == step.role,
            RoleAssignment.org_unit_id == step.org_unit_id))
        assert held, (step.spec_id, step.role, step.org_unit_id, step.completed_by_id)


def test_refuses_bad_arguments(db_session):
    from services.errors import ValidationError

    with pytest.raises(ValidationError):
        simulate(db_session, dossiers=0, seed=1)
    with pytest.raises(ValidationError):
        simulate(db_session, dossiers=5, seed=1, start=END, end_at=START)
    with pytest.raises(ValidationError):
        simulate(db_session, dossiers=5, seed=1, start=START.replace(tzinfo=None))


# ---- the command ---------------------------------------------------------------------------------

def _cli(args, tmp_path, url):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "QUYTRINH_ENV")}
    env.update(QUYTRINH_INSTANCE_PATH=str(tmp_path), DATABASE_URL=url)
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_prints_the_summary(sqlite_template, tmp_path):
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    result = _cli(["simulate", "--dossiers", "12", "--seed", "3", "--start", "2026-09-07"], tmp_path,
                  f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Mô phỏng 12 hồ sơ (seed 3): tiếp nhận từ 2026-09-07")
    received = next(line for line in lines if line.startswith("Tiếp nhận (received)"))
    assert received.split()[-1] == "12"
    assert any(line.startswith("Trả lại để hoàn thiện (returns)") for line in lines)
    assert lines[-1].endswith(" s.")


def test_cli_needs_a_migrated_database_with_the_demo(tmp_path):
    bare = _cli(["simulate", "--dossiers", "5"], tmp_path, f"sqlite:///{tmp_path}/bare.db")
    assert bare.returncode == 2 and "quytrinh db upgrade" in bare.stderr
    assert len([line for line in bare.stderr.splitlines() if line.strip()]) == 1
    migrated = tmp_path / "nodemo.db"
    app = make_app(f"sqlite:///{migrated}", tmp_path)
    upgrade(app)
    with app.app_context():
        from web.extensions import db

        db.engine.dispose()
    no_demo = _cli(["simulate", "--dossiers", "5"], tmp_path, f"sqlite:///{migrated}")
    assert no_demo.returncode == 2, no_demo.stderr
    lines = [line for line in no_demo.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "quytrinh demo" in lines[0] and "Traceback" not in no_demo.stderr
    bad = _cli(["simulate", "--dossiers", "5", "--start", "23/11/2026"], tmp_path, f"sqlite:///{migrated}")
    assert bad.returncode == 2 and "--start" in bad.stderr
