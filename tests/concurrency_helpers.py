"""Racing officials and killed workers (tranh chấp, tiến trình bị giết): shared by the SQLite and
PostgreSQL tests of issue 4's "exactly once" and "nothing half-written" guarantees.

Each racer gets its own engine, connection and Session, as separate web workers would; they all
call ``services.dossiers.complete`` on the same open step at once (a ``threading.Barrier``).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from services import audit, dossiers
from services.db import tune_sqlite
from services.dossiers.common import runtime
from services.errors import Conflict
from services.models import AuditEvent, Dossier, DossierStep, ProcedureVersion, RoleAssignment, User
from tests.dossier_helpers import drive, form_data, open_steps, procedure, user, vn
from tests.hold_points import hold_at, rows as rows_seen

ROOT = Path(__file__).resolve().parents[1]
RACERS = 20
#: Hang guard only (a deadlock would otherwise stall the suite): never a timing assertion.
HANG_GUARD_SECONDS = 120

# (procedure code, step raced on): a sequential step, and a step that opens a parallel split.
CHAIRMAN = "1.003822"  # chairman_decision.bpmn, Sở Nội vụ
BUILDING = "1.009974"  # department_parallel.bpmn, Sở Xây dựng


def engine_for(url: str):
    engine = create_engine(url)
    tune_sqlite(engine)
    return engine


def receive_until(session: Session, code: str, spec_id: str) -> tuple[int, DossierStep]:
    """A dossier of procedure *code* driven through the services until step *spec_id* is open."""
    d = dossiers.receive(session, user(session, "motcua"), procedure_id=procedure(session, code).id,
                         applicant_name="Công ty TNHH Xây dựng Long Xuyên", received_at=vn(2026, 11, 23, 8),
                         now=vn(2026, 11, 23, 8))
    drive(session, d.id, start=vn(2026, 11, 23, 8), until=spec_id)
    step = next(s for s in open_steps(session, d.id) if s.spec_id == spec_id)
    return d.id, step


def add_officials(session: Session, step: DossierStep, count: int) -> list[str]:
    """*count* active officials holding the step's role in its org unit (the demo has one each)."""
    names = []
    now = datetime.now(timezone.utc)
    for index in range(count):
        name = f"race.{step.role}.{step.id}.{index:02d}"
        official = User(username=name, full_name=f"Cán bộ thử {index:02d}", password_hash="!", active=True,
                        created_at=now, failed_logins=0)
        session.add(official)
        session.flush()
        session.add(RoleAssignment(user_id=official.id, role_code=step.role, org_unit_id=step.org_unit_id))
        names.append(name)
    session.commit()
    return names


def step_data(session: Session, step: DossierStep) -> dict:
    """The form's values with the opinion inside (what ``complete(..., opinion=...)`` stores)."""
    return {**form_data(session, step), "opinion": f"Ý kiến tại bước {step.name}"}


@dataclass(frozen=True)
class Snapshot:
    """What a completion may change, read in one go."""

    status: str
    state: str
    state_version: int
    steps: tuple[tuple, ...]  # (id, task_id, spec_id, status, completed_by_id) by id
    events: int  # audit events in the whole log
    last_seq: int

    @property
    def open_steps(self) -> list[tuple]:
        return [s for s in self.steps if s[3] in ("ready", "claimed")]


def snapshot(session: Session, dossier_id: int) -> Snapshot:
    session.expire_all()
    dossier = session.get(Dossier, dossier_id)
    steps = tuple(tuple(r) for r in session.execute(
        select(DossierStep.id, DossierStep.task_id, DossierStep.spec_id, DossierStep.status,
               DossierStep.completed_by_id).where(DossierStep.dossier_id == dossier_id).order_by(DossierStep.id)))
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    last = session.scalar(select(func.max(AuditEvent.seq)))
    result = Snapshot(dossier.status, dossier.state, dossier.state_version, steps, events, last or 0)
    session.commit()  # end the read snapshot (SQLite WAL, PostgreSQL)
    return result


def expected_next(session: Session, dossier_id: int, step: DossierStep, data: dict, now: datetime) -> list[str]:
    """The spec ids the engine opens when *step* is completed with *data*, computed in memory."""
    dossier = session.get(Dossier, dossier_id)
    instance = runtime(session.get(ProcedureVersion, dossier.version_id)).load(dossier.state)
    return sorted(t.spec_id for t in instance.complete(step.task_id, dict(data), now=now))


def history(session: Session, dossier_id: int) -> list[str]:
    session.expire_all()
    dossier = session.get(Dossier, dossier_id)
    done = [h.spec_id for h in runtime(session.get(ProcedureVersion, dossier.version_id)).load(dossier.state).history()]
    session.commit()  # end the read snapshot
    return done


def race(url: str, step_id: int, usernames: list[str], data: dict, now: datetime) -> dict[str, object]:
    """Every user completes step *step_id* at the same moment, each on its own engine and Session.

    Returns username -> "ok" or the exception raised.
    """
    barrier = threading.Barrier(len(usernames))
    results: dict[str, object] = {}

    def racer(username: str) -> None:
        engine = engine_for(url)
        try:
            with Session(engine) as session:
                actor = session.scalar(select(User).where(User.username == username))
                actor.assignments  # noqa: B018 — loaded like a logged-in user, before the start
                barrier.wait(timeout=HANG_GUARD_SECONDS)
                try:
                    dossiers.complete(session, actor, step_id, dict(data), now=now)
                    results[username] = "ok"
                except BaseException as exc:  # noqa: BLE001 — the test looks at every outcome
                    results[username] = exc
        except BaseException as exc:  # noqa: BLE001 — setup failures are outcomes too
            results.setdefault(username, exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=racer, args=(name,), name=f"racer-{name}") for name in usernames]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"racers still running after {HANG_GUARD_SECONDS} s (deadlock?): {stuck}"
    return results


def check_race(session: Session, dossier_id: int, step_id: int, spec_id: str, before: Snapshot,
               results: dict[str, object], expected: list[str]) -> None:
    """Exactly one winner, the rest a Conflict; one audit event; one state change; next steps once."""
    winners = [name for name, outcome in results.items() if outcome == "ok"]
    others = {name: outcome for name, outcome in results.items() if outcome != "ok"}
    assert len(results) == RACERS
    assert len(winners) == 1, f"winners: {winners}; others: {others}"
    wrong = {name: f"{type(exc).__name__}: {exc}" for name, exc in others.items() if type(exc) is not Conflict}
    assert not wrong, f"every loser must get a Conflict, got: {wrong}"
    assert len(others) == RACERS - 1

    after = snapshot(session, dossier_id)
    assert after.state_version == before.state_version + 1, (before.state_version, after.state_version)
    assert after.state != before.state
    # Exactly one new audit event, the winner's completion of this step, and the chain holds.
    assert after.events == before.events + 1
    new_events = session.scalars(select(AuditEvent).where(AuditEvent.seq > before.last_seq)).all()
    assert [(e.action, e.actor, e.object) for e in new_events] == [
        ("step_completed", winners[0], f"dossier:{session.get(Dossier, dossier_id).code}")]
    assert json.loads(new_events[0].payload)["step"] == spec_id
    count, broken = audit.verify(session)
    assert broken is None and count == after.events
    # The raced row is completed by the winner; the others are untouched.
    rows = {s[0]: s for s in after.steps}
    winner_id = user(session, winners[0]).id
    assert rows[step_id][3:] == ("completed", winner_id)
    for old in before.steps:
        if old[0] != step_id:
            assert rows[old[0]] == old
    # The next steps exist once each, and nothing else was created.
    old_ids = {s[0] for s in before.steps}
    created = [s for s in after.steps if s[0] not in old_ids]
    assert sorted(s[2] for s in created) == expected
    assert len({s[1] for s in created}) == len(created)
    assert all(s[3] in ("ready", "claimed") for s in created)
    assert sorted(s[2] for s in after.open_steps) == sorted(
        expected + [s[2] for s in before.open_steps if s[0] != step_id])
    # The workflow's own record ends with the step.
    assert history(session, dossier_id)[-1] == spec_id


def run_race(session: Session, url: str, code: str, spec_id: str) -> None:
    """The whole scenario on the database at *url* (its demo loaded), *session* for setup and checks."""
    dossier_id, step = receive_until(session, code, spec_id)
    names = add_officials(session, step, RACERS - 1)
    step = session.get(DossierStep, step.id)
    first = session.scalar(select(User.username).join(RoleAssignment).where(
        RoleAssignment.role_code == step.role, RoleAssignment.org_unit_id == step.org_unit_id,
        ~User.username.in_(names)).order_by(User.id))
    racers = [first, *names]
    now = vn(2026, 11, 25, 9)
    data = step_data(session, step)
    expected = expected_next(session, dossier_id, step, data, now)
    assert expected, "the raced step must open a next step"
    step_id, spec_id = step.id, step.spec_id  # plain values: touching an expired row opens a read snapshot
    visits = history(session, dossier_id).count(spec_id)
    before = snapshot(session, dossier_id)
    assert not session.in_transaction()
    assert step_id in {s[0] for s in before.open_steps}
    results = race(url, step_id, racers, data, now)
    check_race(session, dossier_id, step_id, spec_id, before, results, expected)
    assert history(session, dossier_id).count(spec_id) == visits + 1


# --- a worker killed in the middle of a step -------------------------------------------------

def kill_mid_step(url: str, step_id: int, username: str, data: dict, now: datetime, point: str, workdir: Path,
                  *, cache_pages: int | None = None) -> dict:
    """Run tests/crash_worker.py completing *step_id*; SIGKILL it once it reports being at *point*.

    Returns what the worker saw inside its transaction just before it was killed.
    """
    marker = workdir / f"marker-{point}-{step_id}.json"
    marker.unlink(missing_ok=True)
    args = {"url": url, "step_id": step_id, "username": username, "data": data, "now": now.isoformat(),
            "point": point, "marker": str(marker), "cache_pages": cache_pages}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "tests.crash_worker", json.dumps(args)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + HANG_GUARD_SECONDS
        while not marker.exists():
            if child.poll() is not None:
                out, err = child.communicate()
                raise AssertionError(f"the worker ended (exit {child.returncode}) before reaching {point}:\n"
                                     f"{out.decode()}\n{err.decode()}")
            assert time.monotonic() < deadline, f"the worker never reached {point}"
            time.sleep(0.01)
        seen = json.loads(marker.read_text())
        assert child.poll() is None, "the worker must still be inside its transaction"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=HANG_GUARD_SECONDS)
        assert child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    return seen


def run_crash(session: Session, url: str, point: str, workdir: Path, *, cache_pages: int | None = None) -> dict:
    """A worker SIGKILLed at *point* inside a completion leaves the dossier exactly as it was; the
    step can then be completed normally."""
    dossier_id, step = receive_until(session, CHAIRMAN, "Task_ThamDinh")
    officer = session.scalar(select(User.username).join(RoleAssignment).where(
        RoleAssignment.role_code == step.role, RoleAssignment.org_unit_id == step.org_unit_id).order_by(User.id))
    now = vn(2026, 11, 25, 9)
    data = step_data(session, step)
    expected = expected_next(session, dossier_id, step, data, now)
    step_id = step.id
    before = snapshot(session, dossier_id)
    assert not session.in_transaction()

    seen = kill_mid_step(url, step_id, officer, data, now, point, workdir, cache_pages=cache_pages)
    # Inside its transaction the worker had written the step: the kill really came mid-step.
    assert seen["point"] == point
    assert seen["state_version"] == before.state_version + 1
    assert seen["state_changed"] is True
    if point == "before_commit":
        assert seen["events"] == before.events + 1
        assert seen["steps"] == len(before.steps) + len(expected)
        assert seen["step_status"] == "completed"

    after = snapshot(session, dossier_id)
    assert after == before, "the killed step left traces"
    count, broken = audit.verify(session)
    assert broken is None and count == before.events
    session.commit()

    # Nothing is stuck (locks released with the dead process): the step completes normally.
    dossiers.complete(session, user(session, officer), step_id, data, now=now)
    done = snapshot(session, dossier_id)
    assert done.state_version == before.state_version + 1
    assert done.events == before.events + 1
    created = [s for s in done.steps if s[0] not in {o[0] for o in before.steps}]
    assert sorted(s[2] for s in created) == expected
    assert {s[0]: s for s in done.steps}[step_id][3] == "completed"
    count, broken = audit.verify(session)
    assert broken is None and count == done.events
    session.commit()
    return seen


# --- a completion interleaved with another use case on the same dossier -----------------------

OTHER_USE_CASES = ("claim", "stop_clock")


def _lock_waiters(url: str) -> int:
    """Backends of this PostgreSQL database waiting on a lock (row, advisory, transaction id)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").scalar_one()
    finally:
        engine.dispose()


def interleave(session: Session, url: str, point: str, other: str) -> None:
    """Official A's completion is held inside its transaction at *point*; meanwhile B runs *other*
    (claim the same step, or the desk's supplement request) on the same dossier; then A goes on.

    Whatever the order the database lets them through, the outcome must be one of the serial
    ones: each call succeeds or gets a Conflict (no deadlock error, no StaleDataError), a
    completed step is never reopened or claimed afterwards, and the log verifies.
    """
    dossier_id, step = receive_until(session, CHAIRMAN, "Task_ThamDinh")
    (claimer,) = add_officials(session, step, 1)
    step = session.get(DossierStep, step.id)
    step_id, spec_id = step.id, step.spec_id
    completer = session.scalar(select(User.username).join(RoleAssignment).where(
        RoleAssignment.role_code == step.role, RoleAssignment.org_unit_id == step.org_unit_id,
        User.username != claimer).order_by(User.id))
    now = vn(2026, 11, 25, 9)
    data = step_data(session, step)
    before = snapshot(session, dossier_id)
    paused, go = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def completion() -> None:
        engine = engine_for(url)
        try:
            with Session(engine) as s:
                actor = s.scalar(select(User).where(User.username == completer))
                actor.assignments  # noqa: B018
                s.commit()

                def hold(conn) -> None:
                    if paused.is_set():
                        return
                    ((version,),) = rows_seen(conn, select(Dossier.state_version).where(Dossier.id == dossier_id))
                    if version != before.state_version:  # A's new state is written, not committed
                        paused.set()
                        go.wait(HANG_GUARD_SECONDS)

                hold_at(engine, s, point, hold)
                dossiers.complete(s, actor, step_id, dict(data), now=now)
                outcomes["complete"] = "ok"
        except BaseException as exc:  # noqa: BLE001
            outcomes["complete"] = exc
        finally:
            paused.set()
            engine.dispose()

    def other_use_case() -> None:
        engine = engine_for(url)
        try:
            with Session(engine) as s:
                if other == "claim":
                    dossiers.claim(s, s.scalar(select(User).where(User.username == claimer)), step_id)
                else:
                    dossiers.stop_clock(s, s.scalar(select(User).where(User.username == "motcua")), dossier_id,
                                        kind="supplement", reason="Thiếu bản vẽ", now=now)
                outcomes[other] = "ok"
        except BaseException as exc:  # noqa: BLE001
            outcomes[other] = exc
        finally:
            engine.dispose()

    first = threading.Thread(target=completion, name="completion")
    first.start()
    assert paused.wait(HANG_GUARD_SECONDS), "the completion never reached its hold point"
    second = threading.Thread(target=other_use_case, name=other)
    second.start()
    # Let B run until it finishes or waits on a lock A holds (SQLite: the write lock; there is no
    # view of waiters, so B is given a moment — a shorter one only makes the test weaker).
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    postgres = url.startswith("postgresql")
    settle = time.monotonic() + 0.5
    while second.is_alive() and time.monotonic() < deadline:
        if (postgres and _lock_waiters(url)) or (not postgres and time.monotonic() > settle):
            break
        time.sleep(0.02)
    go.set()
    for thread in (first, second):
        thread.join(max(0.0, deadline - time.monotonic()))
        assert not thread.is_alive(), f"{thread.name} still running (deadlock?)"

    wrong = {k: f"{type(v).__name__}: {v}" for k, v in outcomes.items() if v != "ok" and type(v) is not Conflict}
    assert not wrong, f"only success or Conflict are acceptable: {wrong}"
    ok = {k for k, v in outcomes.items() if v == "ok"}
    after = snapshot(session, dossier_id)
    rows = {s[0]: s for s in after.steps}
    new_events = session.execute(select(AuditEvent.action, AuditEvent.actor).where(
        AuditEvent.seq > before.last_seq).order_by(AuditEvent.seq)).all()
    expected_events = []
    if "complete" in ok:
        assert rows[step_id][3] == "completed", f"completed step shows {rows[step_id][3]} ({outcomes})"
        expected_events.append(("step_completed", completer))
    if other == "claim":
        # Serial orders: claim then complete (A gets a Conflict: claimed by B), or complete then
        # claim (B gets a Conflict: no longer open). Never both.
        assert ok != {"complete", "claim"}, "a step claimed by B was completed by A"
        if "claim" in ok:
            assert rows[step_id][3] == "claimed"
            expected_events.append(("step_claimed", claimer))
    else:
        if "stop_clock" in ok:
            assert session.get(Dossier, dossier_id).status == "waiting_supplement"
            expected_events.append(("supplement_requested", "motcua"))
    assert sorted(new_events) == sorted(expected_events)
    assert after.state_version == before.state_version + len(ok & {"complete", "stop_clock"})
    count, broken = audit.verify(session)
    assert broken is None and count == after.events
    session.commit()
