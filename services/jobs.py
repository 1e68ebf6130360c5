"""Background jobs (tác vụ nền): deadline marking, notifications, timers, e-mail.

One code path for `quytrinh worker`, the thread inside `quytrinh serve` and the Celery tasks.
Every job is idempotent: running it twice, or in two processes at once, changes nothing more.
"""
from __future__ import annotations

import json
import logging
import os
import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Callable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, contains_eager

from engine import sla
from services import audit
from services.actors import JOBS
from services.dossiers.common import aware, calendar, runtime, settle_status, sync_steps, utcnow
from services.models import (
    AuditEvent, Dossier, DossierStep, Notification, ProcedureVersion, RoleAssignment, User,
)
from services.models.dossiers import CLOCK_STOPPED, OPEN_STATUSES, STEP_OPEN
from services.uow import transaction

log = logging.getLogger(__name__)


@dataclass
class JobReport:
    """What a run did. ``failed`` names the items that failed (a dossier code, with the step for a
    step): each was logged, left as it was, and is tried again on the next run; ``errors`` says why."""

    steps_marked: int = 0
    dossiers_marked: int = 0
    notifications: int = 0
    timers_fired: int = 0
    emails: int = 0
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def add(self, other: JobReport) -> None:
        for name in ("steps_marked", "dossiers_marked", "notifications", "timers_fired", "emails"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
        self.failed += other.failed

    def fail(self, item: str, exc: BaseException) -> None:
        self.failed.append(item)
        self.errors.append(f"{item}: {type(exc).__name__}: {str(exc)[:300]}")


def warning_minutes() -> int:
    return int(os.environ.get("QUYTRINH_WARNING_MINUTES", sla.DEFAULT_WARNING_MINUTES))


_TEXTS = {"new_task": "Việc mới: {name} — hồ sơ {code}",
          "nearly_due": "Sắp đến hạn: {name} — hồ sơ {code}",
          "overdue": "Quá hạn: {name} — hồ sơ {code}"}


class _Notifier:
    """Notifications of one run, each (user, kind, step) at most once.

    What was already sent for the open steps, and who holds the roles of the unclaimed ones, are
    read in one query each, so a run costs a few statements rather than two per open step. What an
    item adds is only taken as sent once its savepoint holds (``settle``).
    """

    def __init__(self, session: Session, now: datetime, steps: list[DossierStep]) -> None:
        self.session, self.now = session, now
        self.sent = {tuple(row) for row in session.execute(
            select(Notification.step_id, Notification.kind, Notification.user_id)
            .join(DossierStep, DossierStep.id == Notification.step_id)
            .where(DossierStep.status.in_(STEP_OPEN)))}
        self.pending: list[tuple] = []
        self.holders: dict[tuple[str | None, int], list[int]] = {}
        keys = {(s.role, s.org_unit_id) for s in steps if not s.assignee_id}
        if keys:
            for role, unit_id, user_id in session.execute(
                    select(RoleAssignment.role_code, RoleAssignment.org_unit_id, RoleAssignment.user_id)
                    .join(User).where(User.active.is_(True),
                                      tuple_(RoleAssignment.role_code, RoleAssignment.org_unit_id).in_(keys))
                    .order_by(RoleAssignment.id)):
                self.holders.setdefault((role, unit_id), []).append(user_id)

    def _recipients(self, step: DossierStep) -> list[int]:
        if step.assignee_id:
            return [step.assignee_id]
        return self.holders.get((step.role, step.org_unit_id), [])

    def owes(self, step: DossierStep, kind: str) -> bool:
        return any((step.id, kind, user_id) not in self.sent for user_id in self._recipients(step))

    def notify(self, step: DossierStep, kind: str) -> int:
        count = 0
        for user_id in self._recipients(step):
            key = (step.id, kind, user_id)
            if key in self.sent:
                continue
            self.sent.add(key)
            self.pending.append(key)
            self.session.add(Notification(
                user_id=user_id, kind=kind, dossier_id=step.dossier_id, step_id=step.id,
                message=_TEXTS[kind].format(name=step.name or step.spec_id, code=step.dossier.code),
                created_at=self.now))
            count += 1
        return count

    def settle(self, kept: bool) -> None:
        if not kept:  # rolled back with the item's savepoint: to be sent again next run
            self.sent.difference_update(self.pending)
        self.pending.clear()


FAILED_ACTION = "deadline_check_failed"


def _mark(session: Session, notifier: _Notifier, report: JobReport, item, name: str, detail: dict,
          now: datetime, state_of: Callable[[], str], write: Callable[[str, JobReport], None]) -> None:
    """One step or dossier of the deadline job, isolated: its writes go in a savepoint, and a
    failure (e.g. a stored due date the calendar cannot compute with) is logged, reported and
    recorded once per failure — the item's mark becomes sla.UNKNOWN with one audit event; later
    runs that fail the same way only log it — while the other items proceed. Each run tries again;
    once it works, the mark leaves UNKNOWN with the usual deadline event."""
    delta = JobReport()
    try:
        state = state_of()
        # Most items change nothing in a run: those cost no savepoint.
        if state != item.warning or (isinstance(item, DossierStep) and notifier.owes(item, "new_task")):
            with session.begin_nested():
                write(state, delta)
    except Exception as exc:  # noqa: BLE001 — one bad item must not stop the others
        notifier.settle(False)
        report.fail(name, exc)
        _record_failure(session, item, name, detail, exc, now)
        return
    notifier.settle(True)
    report.add(delta)


def _record_failure(session: Session, item, name: str, detail: dict, exc: BaseException, now: datetime) -> None:
    if item.warning == sla.UNKNOWN:
        log.warning("deadline job: %s still fails (%s: %s); retried on the next run", name, type(exc).__name__, exc)
        return
    log.error("deadline job: %s failed; marked %r, retried on every run", name, sla.UNKNOWN, exc_info=exc)
    try:
        with session.begin_nested():
            code = item.code if isinstance(item, Dossier) else item.dossier.code
            audit.record(session, JOBS.name, FAILED_ACTION, f"dossier:{code}", {
                **detail, "from": item.warning, "to": sla.UNKNOWN,
                "error": f"{type(exc).__name__}: {str(exc)[:300]}"}, at=now)
            item.warning = sla.UNKNOWN
    except Exception:  # noqa: BLE001 — the failure stays in the log and the run's report
        log.exception("deadline job: could not record the failure of %s", name)


def mark_deadlines(session: Session, now: datetime | None = None, warn: int | None = None) -> JobReport:
    """Nearly-due / overdue marks on open steps and dossiers, with their notifications and events.

    One transaction for the run, one savepoint per item that changes (see ``_mark``).
    """
    now, warn = now or utcnow(), warning_minutes() if warn is None else warn
    report = JobReport()
    with transaction(session):
        cal = calendar(session)
        steps = session.scalars(select(DossierStep).join(DossierStep.dossier).options(
            contains_eager(DossierStep.dossier)).where(
            DossierStep.status.in_(STEP_OPEN), Dossier.status.not_in(CLOCK_STOPPED))).all()
        notifier = _Notifier(session, now, steps)
        for step in steps:
            def write_step(state: str, delta: JobReport, step=step) -> None:
                delta.notifications += notifier.notify(step, "new_task")
                if state != step.warning:
                    audit.record(session, JOBS.name, "step_deadline", f"dossier:{step.dossier.code}",
                                 {"step": step.spec_id, "from": step.warning, "to": state}, at=now)
                    step.warning = state
                    delta.steps_marked += 1
                    if state != sla.WITHIN:
                        delta.notifications += notifier.notify(step, state)

            _mark(session, notifier, report, step, f"{step.dossier.code} {step.spec_id}", {"step": step.spec_id},
                  now, lambda step=step: sla.progress(cal, now, aware(step.due_at), warn), write_step)
        dossiers = session.scalars(select(Dossier).where(
            Dossier.status.in_(OPEN_STATUSES), Dossier.status.not_in(CLOCK_STOPPED))).all()
        for dossier in dossiers:
            def write_dossier(state: str, delta: JobReport, dossier=dossier) -> None:
                audit.record(session, JOBS.name, "dossier_deadline", f"dossier:{dossier.code}",
                             {"from": dossier.warning, "to": state}, at=now)
                dossier.warning = state
                delta.dossiers_marked += 1

            _mark(session, notifier, report, dossier, dossier.code, {}, now,
                  lambda dossier=dossier: sla.progress(cal, now, aware(dossier.due_at), warn), write_dossier)
    return report


TIMER_FAILED = "timer_failed"


def fire_timers(session: Session, now: datetime | None = None) -> JobReport:
    """Let due timer events of running dossiers fire; each dossier in its own transaction.

    A dossier that fails is logged and reported, and tried again on the next run; its failure is
    one ``timer_failed`` event, not one per run: none is added while the dossier's last event is
    already that failure.
    """
    now = now or utcnow()
    report = JobReport()
    candidates = session.execute(select(Dossier.id, Dossier.code, Dossier.version_id).where(
        Dossier.status.in_(OPEN_STATUSES), Dossier.status.not_in(CLOCK_STOPPED))).all()
    session.rollback()
    versions: dict[int, bool] = {}
    for dossier_id, code, version_id in candidates:
        try:
            if version_id not in versions:
                version = session.get(ProcedureVersion, version_id)
                versions[version_id] = runtime(version).has_timers
            if not versions[version_id]:
                continue
            with transaction(session):
                dossier = session.get(Dossier, dossier_id)
                version = session.get(ProcedureVersion, version_id)
                instance = runtime(version).load(dossier.state)
                instance.refresh(now)
                if not instance.modified:
                    continue
                dossier.state = instance.dump()
                sync_steps(session, dossier, version, instance, now)
                settle_status(dossier, instance, now)
                audit.record(session, JOBS.name, "timer_fired", f"dossier:{dossier.code}", {}, at=now)
                report.timers_fired += 1
        except Exception as exc:  # noqa: BLE001 — one bad dossier must not stop the others
            session.rollback()
            report.fail(code, exc)
            _record_timer_failure(session, code, exc, now)
    return report


def _record_timer_failure(session: Session, code: str, exc: BaseException, now: datetime) -> None:
    error = f"{type(exc).__name__}: {str(exc)[:300]}"
    obj = f"dossier:{code}"
    try:
        with transaction(session):
            last = session.execute(select(AuditEvent.action, AuditEvent.payload).where(AuditEvent.object == obj)
                                   .order_by(AuditEvent.seq.desc()).limit(1)).first()
            if last is not None and last.action == TIMER_FAILED and json.loads(last.payload).get("error") == error:
                log.warning("timer job: dossier %s still fails (%s); retried on the next run", code, error)
                return
            log.error("timer job failed for dossier %s; retried on every run", code, exc_info=exc)
            audit.record(session, JOBS.name, TIMER_FAILED, obj, {"error": error}, at=now)
    except Exception:  # noqa: BLE001 — the failure stays in the log and the run's report
        log.exception("timer job: could not record the failure of dossier %s", code)


def send_emails(session: Session, now: datetime | None = None) -> int:
    """E-mail unsent notifications when QUYTRINH_SMTP_HOST is set; otherwise in-app only."""
    host = os.environ.get("QUYTRINH_SMTP_HOST")
    if not host:
        return 0
    now, sent = now or utcnow(), 0
    sender = os.environ.get("QUYTRINH_SMTP_FROM", "quytrinh@localhost")
    with transaction(session):
        rows = session.execute(select(Notification, User.email).join(User, User.id == Notification.user_id).where(
            Notification.emailed_at.is_(None), User.email.is_not(None)).limit(200)).all()
        if not rows:
            return 0
        with smtplib.SMTP(host, int(os.environ.get("QUYTRINH_SMTP_PORT", 25)), timeout=10) as smtp:
            for note, email in rows:
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = sender, email, note.message
                msg.set_content(note.message)
                smtp.send_message(msg)
                note.emailed_at = now
                sent += 1
    return sent


def run_all(session: Session, now: datetime | None = None) -> JobReport:
    """Every job, each isolated from the others: a job that fails as a whole (the database went
    away, a bug) is logged and reported, and the next ones still run."""
    report = JobReport()
    for name, job in (("deadlines", mark_deadlines), ("timers", fire_timers)):
        try:
            report.add(job(session, now))
        except Exception as exc:  # noqa: BLE001 — the other jobs must still run
            session.rollback()
            log.exception("background job %s failed", name)
            report.errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:300]}")
    try:
        report.emails = send_emails(session, now)
    except (OSError, smtplib.SMTPException) as exc:
        report.errors.append(f"smtp: {exc}")
    return report
