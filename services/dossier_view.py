"""Reading dossiers for their pages (xem hồ sơ): who may see one, its timeline, the desk's list.

Read-only: nothing here writes. The rule for who may open a dossier lives here, once, so the web
pages, the API and the reports agree: the officials who hold or held one of its steps, its
receiving desk, its agency's leaders, and the auditors.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine import sla
from engine.calendar import CalendarRangeError
from services.assignment import may_perform
from services.dossiers.common import aware, calendar, runtime
from services.models import (
    ApologyLetter, Dossier, DossierStep, Procedure, ProcedureVersion, SupplementRequest, User,
)
from services.models.dossiers import CLOCK_STOPPED, OPEN_STATUSES, STEP_CANCELLED, STEP_COMPLETED, STEP_OPEN
from services.models.procedures import PUBLISHED
from services.paging import Page

LEADER_ROLES = ("lanh_dao_so", "lanh_dao_phong")


def can_view(user: User, dossier: Dossier) -> bool:
    """Who may open a dossier's page."""
    if not user.is_authenticated or not user.active:
        return False
    if "auditor" in user.role_codes():
        return True
    if user.has_role("mot_cua", dossier.desk_id):
        return True
    if any(user.has_role(role, dossier.agency_id) for role in LEADER_ROLES):
        return True
    return any(user.id in (s.assignee_id, s.completed_by_id) or may_perform(user, s.role, s.org_unit_id)
               for s in dossier.steps)


def desk_ids(user: User) -> list[int]:
    """The one-stop desks where the user works."""
    return sorted({a.org_unit_id for a in user.assignments if a.role_code == "mot_cua"})


def by_code(session: Session, code: str) -> Dossier | None:
    return session.scalar(select(Dossier).where(Dossier.code == code)
                          .options(selectinload(Dossier.steps)))


@dataclass(frozen=True)
class TimelineRow:
    step: DossierStep
    used_minutes: int        # working minutes from the step's start to its completion (or now)
    late: bool               # completed after, or still open past, its due time
    progress: str | None     # within / nearly_due / overdue for open steps


def _late(step: DossierStep, end: datetime, due: datetime) -> bool:
    # A step allotted no time ("trả kết quả": not counted) is never late; otherwise late is past the
    # due minute (seconds spent clicking through at the due minute are not lateness).
    return bool(step.allocation_minutes) and end.replace(second=0, microsecond=0) > due


def timeline(session: Session, dossier: Dossier, now: datetime) -> list[TimelineRow]:
    """The dossier's steps in order, with the working time each used against its allocation.

    Time spent waiting for the applicant (a supplement request or a pause, until resumed) is not
    the step's time: it is left out, as resuming moves the step's due time by the same wait.
    """
    cal = calendar(session)
    waits = [(aware(r.requested_at), aware(r.resumed_at) if r.resumed_at else now)
             for r in supplements(session, dossier.id)]
    rows = []
    for step in dossier.steps:
        if step.status == STEP_CANCELLED:
            continue
        due, started = aware(step.due_at), aware(step.started_at)
        end = aware(step.completed_at) if step.status == STEP_COMPLETED else now
        used = _working(cal, started, end) - sum(_working(cal, max(a, started), min(b, end)) for a, b in waits)
        if step.status == STEP_COMPLETED:
            rows.append(TimelineRow(step, used, _late(step, end, due), None))
        else:
            # A stopped clock freezes the open steps: judged where they stood when it stopped.
            at = aware(dossier.stopped_since) if dossier.status in CLOCK_STOPPED and dossier.stopped_since else now
            rows.append(TimelineRow(step, used, _late(step, at, due), sla.progress_or_unknown(cal, at, due)))
    return rows


def _working(cal, start: datetime, end: datetime) -> int:
    # A stored date the calendar cannot compute with (an old bad row) counts nothing; the page
    # shows the date itself and the step's progress as unknown.
    try:
        return cal.working_minutes_between(start, end) if end > start else 0
    except CalendarRangeError:
        return 0


def progress(session: Session, dossiers: list[Dossier], now: datetime) -> dict[int, str]:
    """within / nearly_due / overdue of each running dossier against its return date, computed now
    (the stored `warning` is only as fresh as the last deadline job)."""
    cal = calendar(session)
    return {d.id: sla.progress_or_unknown(cal, now, aware(d.due_at)) for d in dossiers
            if d.status in OPEN_STATUSES and d.status not in CLOCK_STOPPED}


def diagram_markers(dossier: Dossier, version: ProcedureVersion) -> dict[str, str]:
    """bpmn-js markers: completed steps qt-done, open steps qt-current, the others qt-not-reached."""
    tasks = runtime(version).procedure.tasks
    markers = {task_id: "qt-not-reached" for task_id in tasks}
    for step in dossier.steps:
        if step.status == STEP_COMPLETED:
            markers[step.spec_id] = "qt-done"
    for step in dossier.steps:  # an open step wins over an earlier visit (a return loop)
        if step.status in STEP_OPEN:
            markers[step.spec_id] = "qt-current"
    return markers


def version_of(session: Session, dossier: Dossier) -> ProcedureVersion:
    return session.get(ProcedureVersion, dossier.version_id)


def supplements(session: Session, dossier_id: int) -> list[SupplementRequest]:
    return list(session.scalars(select(SupplementRequest).where(SupplementRequest.dossier_id == dossier_id)
                                .order_by(SupplementRequest.id)))


def apology(session: Session, dossier_id: int) -> ApologyLetter | None:
    return session.scalar(select(ApologyLetter).where(ApologyLetter.dossier_id == dossier_id))


def return_step(dossier: Dossier) -> DossierStep | None:
    """The open "return result" step, when the BPMN has one (the result is handed over through it)."""
    return next((s for s in dossier.steps if s.status in STEP_OPEN and s.step == "return_result"), None)


def receive_step(dossier: Dossier) -> DossierStep | None:
    return next((s for s in dossier.steps if s.status in STEP_OPEN and s.step == "receive"), None)


def desk_dossiers(session: Session, user: User, *, status: str | None = None, code: str | None = None,
                  page: int = 1, per_page: int = 25) -> Page:
    """The dossiers received at the user's desks; open ones first, soonest due first."""
    desks = desk_ids(user)
    page, per_page = max(1, page), min(max(1, per_page), 200)
    stmt = select(Dossier).where(Dossier.desk_id.in_(desks or [-1]))
    if status == "open":
        stmt = stmt.where(Dossier.status.in_(OPEN_STATUSES))
    elif status:
        stmt = stmt.where(Dossier.status == status)
    if code and code.strip():
        escaped = code.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Dossier.code.ilike(f"%{escaped}%", escape="\\"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    open_first = Dossier.status.in_(OPEN_STATUSES).desc()
    items = session.scalars(stmt.order_by(open_first, Dossier.due_at, Dossier.id)
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), total, page, per_page)


def fold(text: str) -> str:
    """Lower case without Vietnamese diacritics: "Điều lệ" and "dieu le" match each other."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def receivable_procedures(session: Session, query: str | None = None) -> list[Procedure]:
    """Procedures with a published version, matched on code or name (diacritics optional)."""
    rows = session.scalars(select(Procedure).join(ProcedureVersion, ProcedureVersion.procedure_id == Procedure.id)
                           .where(ProcedureVersion.status == PUBLISHED).order_by(Procedure.code)).unique().all()
    words = fold(query or "").split()
    if not words:
        return list(rows)
    return [p for p in rows if all(w in fold(f"{p.code} {p.name}") for w in words)]
