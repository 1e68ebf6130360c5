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
