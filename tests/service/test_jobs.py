"""Background jobs: deadline marks, notifications, idempotence; the worker command; Celery."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from services import dossiers, jobs
from services.models import AuditEvent, Dossier, DossierStep, Notification
from tests.conftest import require_or_skip
from tests.dossier_helpers import open_steps, procedure, user, vn

ROOT = Path(__file__).resolve().parents[2]


def _receive(db_session):
    return dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, "1.003822").id,
                            applicant_name="Nguyễn Văn A", received_at=vn(2026, 11, 23, 8), now=vn(2026, 11, 23, 8))


def _count(db_session, model, *where):
    db_session.rollback()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_marks_steps_nearly_due_then_overdue_with_notifications(db_session):
    d = _receive(db_session)
    step = open_steps(db_session, d.id)[0]  # receive step: 90 min from 08:00 → due 09:30
    assert step.due_at == vn(2026, 11, 23, 9, 30)
    first = jobs.mark_deadlines(db_session, now=vn(2026, 11, 23, 8, 10), warn=60)
    assert first.steps_marked == 0 and first.notifications == 1  # new_task for the desk officer
    report = jobs.mark_deadlines(db_session, now=vn(2026, 11, 23, 8, 45), warn=60)
    assert report.steps_marked == 1
    assert db_session.get(DossierStep, step.id).warning == "nearly_due"
    jobs.mark_deadlines(db_session, now=vn(2026, 11, 23, 10, 0), warn=60)
    assert db_session.get(DossierStep, step.id).warning == "overdue"
    kinds = sorted(db_session.scalars(select(Notification.kind).where(Notification.step_id == step.id)))
    assert kinds == ["nearly_due", "new_task", "overdue"]
    assert {n.user_id for n in db_session.scalars(select(Notification))} == {user(db_session, "motcua").id}
    events = _count(db_session, AuditEvent, AuditEvent.action == "step_deadline")
    again = jobs.mark_deadlines(db_session, now=vn(2026, 11, 23, 10, 5), warn=60)
    assert (again.steps_marked, again.notifications) == (0, 0)
    assert _count(db_session, AuditEvent, AuditEvent.action == "step_deadline") == events == 2


def test_unclaimed_step_notifies_every_holder_and_stopped_dossiers_are_left_alone(db_session):
    d = _receive(db_session)
    step = open_steps(db_session, d.id)[0]
    dossiers.unclaim(db_session, user(db_session, "motcua"), step.id)
    jobs.mark_deadlines(db_session, now=vn(2026, 11, 23, 8, 5), warn=30)
    assert _count(db_session, Notification, Notification.step_id == step.id) == 1  # the only mot_cua at H01.02
    dossiers.stop_clock(db_session, user(db_session, "motcua"), d.id, kind="pause", reason="Chờ nộp phí",
                        now=vn(2026, 11, 23, 8, 30))
    report = jobs.mark_deadlines(db_session, now=vn(2026, 12, 30, 8, 0))
    assert report.steps_marked == 0 and report.dossiers_marked == 0
    assert db_session.get(Dossier, d.id).warning == "within"


def test_dossier_overdue_mark(db_session):
    d = _receive(db_session)
    jobs.mark_deadlines(db_session, now=vn(2026, 12, 31, 8, 0))
    db_session.expire_all()
    assert db_session.get(Dossier, d.id).warning == "overdue"
    assert _count(db_session, AuditEvent, AuditEvent.action == "dossier_deadline") == 1


def _run_cli(args, app, **env):
    environ = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   QUYTRINH_INSTANCE_PATH=app.instance_path, **env)
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def test_worker_once_runs_the_jobs(app, db_session):
    _receive(db_session)
    result = _run_cli(["worker", "--once"], app)
    assert result.returncode == 0, result.stderr
    assert "notifications" in result.stdout
    assert _count(db_session, Notification) >= 1


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def test_celery_worker_runs_the_same_jobs(app, db_session, tmp_path):
    require_or_skip(_redis_up(), "no Redis server answers on 127.0.0.1:6379")
    _receive(db_session)
    broker = "redis://127.0.0.1:6379/15"
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], QUYTRINH_INSTANCE_PATH=app.instance_path,
               QUYTRINH_BROKER_URL=broker, QUYTRINH_RESULT_BACKEND=broker)
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "web.celery_app", "worker", "--pool=solo",
                               "--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=warning",
                               "-Q", f"quytrinh-test-{os.getpid()}"],
                              cwd=ROOT, env=env, stdout=open(tmp_path / "celery.log", "w"), stderr=subprocess.STDOUT)
    try:
        os.environ["QUYTRINH_BROKER_URL"] = broker
        from web.celery_app import celery, run_jobs
        celery.conf.broker_url = celery.conf.result_backend = broker
        result = run_jobs.apply_async(queue=f"quytrinh-test-{os.getpid()}").get(timeout=90)
        assert result["notifications"] >= 1 and result["errors"] == []
        assert _count(db_session, Notification) >= 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)


# -- one failing item does not stop the others (issue #11, finding 2) ---------------------------------

TIMER = ('<bpmn:boundaryEvent id="Timer_NhacTiepNhan" name="Nhắc sau 1 giờ" cancelActivity="false" '
         'attachedToRef="Task_TiepNhan"><bpmn:outgoing>Flow_Nhac</bpmn:outgoing>'
         '<bpmn:timerEventDefinition id="TimerDef_Nhac"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H'
         '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
         '<bpmn:endEvent id="EndEvent_DaNhac" name="Đã nhắc"><bpmn:incoming>Flow_Nhac</bpmn:incoming></bpmn:endEvent>'
         '<bpmn:sequenceFlow id="Flow_Nhac" sourceRef="Timer_NhacTiepNhan" targetRef="EndEvent_DaNhac" />')


def _publish_with_a_timer(db_session) -> None:
    """A version of 1.003822 whose receive step has a non-interrupting one-hour reminder timer."""
    from services import procedures
    from services.demo import LIBRARY_DIR

    text = (LIBRARY_DIR / "chairman_decision.bpmn").read_text(encoding="utf-8")
    ref = "<bpmn:flowNodeRef>Task_TiepNhan</bpmn:flowNodeRef>"
    text = text.replace(ref, ref + "<bpmn:flowNodeRef>Timer_NhacTiepNhan</bpmn:flowNodeRef>"
                             "<bpmn:flowNodeRef>EndEvent_DaNhac</bpmn:flowNodeRef>")
    text = text.replace("</bpmn:process>", TIMER + "</bpmn:process>", 1)
    version = procedures.upload_version(db_session, user(db_session, "thietke"), procedure(db_session, "1.003822").id,
                                        filename="timer.bpmn", data=text.encode())
    assert version.lint_ok
    procedures.submit_version(db_session, user(db_session, "thietke"), version.id)
    for who in ("vp.chuyenvien", "vp.lanhdao"):
        procedures.give_vp_opinion(db_session, user(db_session, who), version.id, agree=True, opinion="Đồng ý.")
    procedures.decide_version(db_session, user(db_session, "chutich"), version.id, decision="approve")
    procedures.publish_version(db_session, user(db_session, "thietke"), version.id)


def _corrupt(db_session, dossier_id: int, due: str) -> None:
    """An old bad row, as the unbounded apology letter left one: written around the services."""
    from sqlalchemy import text

    db_session.rollback()
    if db_session.get_bind().dialect.name == "postgresql":
        due += "+00"  # stored in UTC, as SQLite's naive text is read
    db_session.execute(text("UPDATE dossiers SET due_at = :due WHERE id = :id"), {"due": due, "id": dossier_id})
    db_session.execute(text("UPDATE dossier_steps SET due_at = :due WHERE dossier_id = :id"),
                       {"due": due, "id": dossier_id})
    db_session.commit()


def _events(db_session, action: str, code: str) -> int:
    return _count(db_session, AuditEvent, AuditEvent.action == action, AuditEvent.object == f"dossier:{code}")


def test_a_failing_dossier_does_not_stop_the_marks_notifications_and_timers_of_the_others(db_session):
    _one_failing_dossier(db_session)


def test_a_failing_dossier_on_postgresql(pg_database, tmp_path):
    """The same on PostgreSQL: savepoints, and a timestamptz far in 9999 read back."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from tests.conftest import prepare_demo

    prepare_demo(pg_database, tmp_path)
    engine = create_engine(pg_database)
    try:
        with Session(engine) as session:
            _one_failing_dossier(session)
    finally:
        engine.dispose()


def _one_failing_dossier(db_session):
    from services import audit

    _publish_with_a_timer(db_session)
    t0 = vn(2026, 11, 23, 8)
    desk = user(db_session, "motcua")
    timed = dossiers.receive(db_session, desk, procedure_id=procedure(db_session, "1.003822").id,
                             applicant_name="Hội có nhắc việc", received_at=t0, now=t0)
    plain = dossiers.receive(db_session, desk, procedure_id=procedure(db_session, "1.009974").id,
                             applicant_name="Công ty A", received_at=t0, now=t0)
    bad = dossiers.receive(db_session, desk, procedure_id=procedure(db_session, "1.009974").id,
                           applicant_name="Hồ sơ hỏng", received_at=t0, now=t0)
    _corrupt(db_session, bad.id, "9999-12-31 23:59:59.000000")
    later = vn(2026, 12, 30, 8, 0)

    report = jobs.run_all(db_session, now=later)

    db_session.rollback()
    # The others: marked overdue, their holders notified, the timer fired.
    assert db_session.get(Dossier, plain.id).warning == "overdue"
    assert db_session.get(Dossier, timed.id).warning == "overdue"
    assert report.dossiers_marked == 2 and report.steps_marked >= 2 and report.notifications >= 2
    assert report.timers_fired == 1 and _events(db_session, "timer_fired", timed.code) == 1
    assert _count(db_session, Notification, Notification.dossier_id == plain.id, Notification.kind == "overdue") >= 1
    # The failing one: named in the run's result, marked unknown with one event, nothing else written.
    step = open_steps(db_session, bad.id)[0]
    assert set(report.failed) == {bad.code, f"{bad.code} {step.spec_id}"}, report.failed
    assert any(bad.code in e and "CalendarRangeError" in e for e in report.errors), report.errors
    assert db_session.get(Dossier, bad.id).warning == "unknown" and step.warning == "unknown"
    assert _events(db_session, jobs.FAILED_ACTION, bad.code) == 2  # the dossier and its step
    assert _count(db_session, Notification, Notification.dossier_id == bad.id, Notification.kind != "new_task") == 0

    # The next run tries again: still reported, no new event (once per failure), the others unchanged.
    again = jobs.run_all(db_session, now=vn(2026, 12, 30, 9, 0))
    assert set(again.failed) == set(report.failed)
    assert _events(db_session, jobs.FAILED_ACTION, bad.code) == 2
    assert (again.dossiers_marked, again.timers_fired) == (0, 0)

    # Repaired, the dossier leaves "unknown" with the usual deadline event.
    _corrupt(db_session, bad.id, "2026-12-01 10:00:00.000000")
    fixed = jobs.run_all(db_session, now=vn(2026, 12, 30, 10, 0))
    assert fixed.failed == [] and fixed.errors == []
    db_session.rollback()
    assert db_session.get(Dossier, bad.id).warning == "overdue"
    assert _events(db_session, "dossier_deadline", bad.code) == 1
    assert audit.verify(db_session)[1] is None


def test_a_failing_timer_is_reported_once_and_the_others_fire(db_session, monkeypatch):
    from engine.runtime import Instance

    _publish_with_a_timer(db_session)
    t0 = vn(2026, 11, 23, 8)
    desk = user(db_session, "motcua")
    good, broken = (dossiers.receive(db_session, desk, procedure_id=procedure(db_session, "1.003822").id,
                                     applicant_name=name, received_at=t0, now=t0) for name in ("Hội A", "Hội B"))
    refresh = Instance.refresh

    def failing_refresh(self, now):
        if self.data.get("dossier_code") == broken.code:
            raise RuntimeError("a timer that cannot fire")
        return refresh(self, now)

    monkeypatch.setattr(Instance, "refresh", failing_refresh)
    for hour in (10, 11):
        report = jobs.fire_timers(db_session, now=vn(2026, 11, 23, hour))
        assert report.failed == [broken.code] and "RuntimeError" in report.errors[0]
    assert _events(db_session, "timer_fired", good.code) == 1
    assert _events(db_session, jobs.TIMER_FAILED, broken.code) == 1  # once, not once per run
