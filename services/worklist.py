"""The inbox (việc cần xử lý): open steps of my roles in my org units, soonest due first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from engine import sla
from services.calendar import current_calendar
from services.jobs import warning_minutes
from services.models import Dossier, DossierStep, User
from services.models.dossiers import CLOCK_STOPPED, STEP_OPEN
from services.paging import Page


@dataclass(frozen=True)
class InboxFilter:
    procedure_id: int | None = None
    warning: str | None = None          # within / nearly_due / overdue
    received_from: datetime | None = None
    received_to: datetime | None = None
    code: str | None = None             # part of a dossier code
    mine_only: bool = False             # only steps I claimed


def _scope(user: User):
    """Rows a user may act on: the step's role held in the step's org unit."""
    pairs = [and_(DossierStep.role == a.role_code, DossierStep.org_unit_id == a.org_unit_id)
             for a in user.assignments]
    return or_(*pairs) if pairs else DossierStep.id.is_(None)


def inbox(session: Session, user: User, filters: InboxFilter = InboxFilter(), *, page: int = 1,
          per_page: int = 25, now: datetime | None = None) -> Page:
    page, per_page = max(1, page), min(max(1, per_page), 200)
    stmt = (select(DossierStep).join(DossierStep.dossier)
            .where(DossierStep.status.in_(STEP_OPEN), Dossier.status.not_in(CLOCK_STOPPED), _scope(user))
            .where(or_(DossierStep.assignee_id.is_(None), DossierStep.assignee_id == user.id)))
    if filters.mine_only:
        stmt = stmt.where(DossierStep.assignee_id == user.id)
    if filters.procedure_id:
        stmt = stmt.where(Dossier.procedure_id == filters.procedure_id)
    if filters.warning:
        # As of now, as the rows' badges show it; the stored column waits for the next job run.
        overdue_before, nearly_due_before = sla.warning_bounds(
            current_calendar(session), now or datetime.now(timezone.utc), warning_minutes())
        stmt = stmt.where({
            sla.OVERDUE: DossierStep.due_at < overdue_before,
            sla.NEARLY_DUE: and_(DossierStep.due_at >= overdue_before, DossierStep.due_at < nearly_due_before),
            sla.WITHIN: DossierStep.due_at >= nearly_due_before,
        }[filters.warning])
    if filters.received_from:
        stmt = stmt.where(Dossier.received_at >= filters.received_from)
    if filters.received_to:
        stmt = stmt.where(Dossier.received_at < filters.received_to)
    if filters.code:
        escaped = filters.code.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Dossier.code.ilike(f"%{escaped}%", escape="\\"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.options(contains_eager(DossierStep.dossier))
                           .order_by(DossierStep.due_at, DossierStep.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(rows), total or 0, page, per_page)
