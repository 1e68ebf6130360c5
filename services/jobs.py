"""Background jobs (tác vụ nền): deadline marking, notifications, timers, e-mail.

One code path for `quytrinh worker`, the thread inside `quytrinh serve` and the Celery tasks.
Every job is idempotent: running it twice, or in two processes at once, changes nothing more.
"""
from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, contains_eager

from engine import sla
from services import audit
from services.dossiers.common import aware, calendar, runtime, settle_status, sync_steps, utcnow
from services.models import Dossier, DossierStep, Notification, ProcedureVersion, RoleAssignment, User
from services.models.dossiers import CLOCK_STOPPED, OPEN_STATUSES, STEP_OPEN
from services.uow import transaction

log = logging.getLogger(__name__)


@dataclass
class JobReport:
    steps_marked: int = 0
    dossiers_marked: int = 0
    notifications: int = 0
    timers_fired: int = 0
    emails: int = 0
    errors: list[str] = field(default_factory=list)


def warning_minutes() -> int:
    return int(os.environ.get("QUYTRINH_WARNING_MINUTES", sla.DEFAULT_WARNING_MINUTES))


_TEXTS = {"new_task": "Việc mới: {name} — hồ sơ {code}",
          "nearly_due": "Sắp đến hạn: {name} — hồ sơ {code}",
          "overdue": "Quá hạn: {name} — hồ sơ {code}"}


class _Notifier:
    """Notifications of one run, each (user, kind, step) at most once.

    What was already sent for the open steps, and who holds the roles of the unclaimed ones, are
    read in one query each, so a run costs a few statements rather than two per open step.
    """

    def __init__(self, session: Session, now: datetime, steps: list[DossierStep]) -> None:
        self.session, self.now = session, now
        self.sent = {tuple(row) for row in session.execute(
            select(Notification.step_id, Notification.kind, Notification.user_id)
            .join(DossierStep, DossierStep.id == Notification.step_id)
            .where(DossierStep.status.in_(STEP_OPEN)))}
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

    def notify(self, step: DossierStep, kind: str) -> int:
        count = 0
        for user_id in self._recipients(step):
            if (step.id, kind, user_id) in self.sent:
                continue
            self.sent.add((step.id, kind, user_id))
            self.session.add(Notification(
                user_id=user_id, kind=kind, dossier_id=step.dossier_id, step_id=step.id,
                message=_TEXTS[kind].format(name=step.name or step.spec_id, code=step.dossier.code),
                created_at=self.now))
            count += 1
        return count


def mark_deadlines(session: Session, now: datetime | None = None, warn: int | None = None) -> JobReport:
    """Nearly-due / overdue marks on open steps and dossiers, with their notifications and events."""
    now, warn = now or utcnow(), warning_minutes() if warn is None else warn
    report = JobReport()
    with transaction(session):
        cal = calendar(session)
        steps = session.scalars(select(DossierStep).join(DossierStep.dossier).options(
            contains_eager(DossierStep.dossier)).where(
            DossierStep.status.in_(STEP_OPEN), Dossier.status.not_in(CLOCK_STOPPED))).all()
        notifier = _Notifier(session, now, steps)
        for step in steps:
            report.notifications += notifier.notify(step, "new_task")
            state = sla.progress(cal, now, aware(step.due_at), warn)
            if state != step.warning:
                audit.record(session, audit.SYSTEM, "step_deadline", f"dossier:{step.dossier.code}",
                             {"step": step.spec_id, "from": step.warning, "to": state}, at=now)
                step.warning = state
                report.steps_marked += 1
                if state != sla.WITHIN:
                    report.notifications += notifier.notify(step, state)
        dossiers = session.scalars(select(Dossier).where(
            Dossier.status.in_(OPEN_STATUSES), Dossier.status.not_in(CLOCK_STOPPED))).all()
        for dossier in dossiers:
            state = sla.progress(cal, now, aware(dossier.due_at), warn)
            if state != dossier.warning:
                audit.record(session, audit.SYSTEM, "dossier_deadline", f"dossier:{dossier.code}",
                             {"from": dossier.warning, "to": state}, at=now)
                dossier.warning = state
                report.dossiers_marked += 1
    return report


def fire_timers(session: Session, now: datetime | None = None) -> JobReport:
    """Let due timer events of running dossiers fire; each dossier in its own transaction."""
    now = now or utcnow()
    report = JobReport()
    candidates = session.execute(select(Dossier.id, Dossier.version_id).where(
        Dossier.status.in_(OPEN_STATUSES), Dossier.status.not_in(CLOCK_STOPPED))).all()
    session.rollback()
    versions: dict[int, bool] = {}
    for dossier_id, version_id in candidates:
        if version_id not in versions:
            version = session.get(ProcedureVersion, version_id)
            versions[version_id] = runtime(version).has_timers
        if not versions[version_id]:
            continue
        try:
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
                audit.record(session, audit.SYSTEM, "timer_fired", f"dossier:{dossier.code}", {}, at=now)
                report.timers_fired += 1
        except Exception as exc:  # noqa: BLE001 — one bad dossier must not stop the others
            log.exception("timer job failed for dossier #%s", dossier_id)
            report.errors.append(f"dossier #{dossier_id}: {type(exc).__name__}")
    return report


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
    report = mark_deadlines(session, now)
    timers = fire_timers(session, now)
    report.timers_fired, report.errors = timers.timers_fired, timers.errors
    try:
        report.emails = send_emails(session, now)
    except (OSError, smtplib.SMTPException) as exc:
        report.errors.append(f"smtp: {exc}")
    return report
