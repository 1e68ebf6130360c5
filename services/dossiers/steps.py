"""Claiming and releasing steps (nhận xử lý, trả lại bước); completing one is services.dossiers.completion."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services import audit
from services.assignment import may_perform
from services.dossiers.common import get_step, utcnow
from services.dossiers.completion import require_open
from services.errors import N_, Conflict, Forbidden
from services.models import DossierStep, User
from services.models.dossiers import STEP_CLAIMED, STEP_READY
from services.uow import transaction


def _authorize(actor: User | None, step: DossierStep) -> None:
    if actor is None or not may_perform(actor, step.role, step.org_unit_id):
        raise Forbidden(N_("Step '%(name)s' is for role %(role)s in %(unit)s; you do not hold it there."),
                        "step", name=step.name or step.spec_id, role=step.role, unit=step.org_unit.code)


def claim(session: Session, actor: User, step_id: int, *, now: datetime | None = None) -> DossierStep:
    now = now or utcnow()
    with transaction(session):
        step = get_step(session, step_id)
        _authorize(actor, step)
        require_open(session, step)
        if step.assignee_id not in (None, actor.id):
            raise Conflict(N_("%(who)s has already claimed step '%(name)s'."), "step",
                           who=step.assignee.full_name, name=step.name or step.spec_id)
        if step.assignee_id is None:
            step.assignee_id, step.status = actor.id, STEP_CLAIMED
            audit.record(session, actor.username, "step_claimed", f"dossier:{step.dossier.code}",
                         {"step": step.spec_id, "name": step.name}, at=now)
    return step


def unclaim(session: Session, actor: User, step_id: int, *, now: datetime | None = None) -> DossierStep:
    now = now or utcnow()
    with transaction(session):
        step = get_step(session, step_id)
        require_open(session, step)
        if step.assignee_id != actor.id:
            raise Forbidden(N_("Only the official who claimed a step can release it."), "step")
        step.assignee_id, step.status = None, STEP_READY
        audit.record(session, actor.username, "step_unclaimed", f"dossier:{step.dossier.code}",
                     {"step": step.spec_id, "name": step.name}, at=now)
    return step
