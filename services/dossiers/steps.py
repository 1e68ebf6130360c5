"""Claiming and completing steps (nhận xử lý, hoàn thành bước) — one transaction per completion.

Authorize (the step's role in the step's org unit) → load the workflow → run the guard → complete
→ store the state, the worklist rows and one audit event → commit. Two officials completing the
same step: the second finds the step closed or the dossier's state_version moved, and gets a
Conflict; nothing of theirs is written.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect
from sqlalchemy.orm import Session, joinedload, lazyload, load_only
from sqlalchemy.orm.exc import StaleDataError

from engine.runtime import EngineError, InvalidTaskData, ReviewNotFresh, TaskNotReady, review_is_fresh
from services import audit
from services.assignment import may_perform
from services.dossiers.common import (
    aware, calendar, dumps, get_step, require_running, runtime, settle_status, sync_steps, utcnow,
)
from services.errors import N_, Conflict, Forbidden, ValidationError, found
from services.models import Dossier, DossierStep, ProcedureVersion, RoleAssignment, User
from services.models.dossiers import RETURNED, STEP_CLAIMED, STEP_COMPLETED, STEP_OPEN, STEP_READY
from services.uow import transaction

MAX_OPINION = 4000


def _authorize(actor: User | None, step: DossierStep) -> None:
    if actor is None or not may_perform(actor, step.role, step.org_unit_id):
        raise Forbidden(N_("Step '%(name)s' is for role %(role)s in %(unit)s; you do not hold it there."),
                        "step", name=step.name or step.spec_id, role=step.role, unit=step.org_unit.code)


def _require_open(step: DossierStep) -> None:
    if step.status not in STEP_OPEN:
        who = step.completed_by.full_name if step.completed_by else None
        if step.status == STEP_COMPLETED and who:
            raise Conflict(N_("Step '%(name)s' was already completed by %(who)s."), "step",
                           name=step.name or step.spec_id, who=who)
        raise Conflict(N_("Step '%(name)s' is no longer open (%(status)s)."), "step",
                       name=step.name or step.spec_id, status=step.status)


def claim(session: Session, actor: User, step_id: int, *, now: datetime | None = None) -> DossierStep:
    now = now or utcnow()
    with transaction(session):
        step = get_step(session, step_id)
        _authorize(actor, step)
        _require_open(step)
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
        _require_open(step)
        if step.assignee_id != actor.id:
            raise Forbidden(N_("Only the official who claimed a step can release it."), "step")
        step.assignee_id, step.status = None, STEP_READY
        audit.record(session, actor.username, "step_unclaimed", f"dossier:{step.dossier.code}",
                     {"step": step.spec_id, "name": step.name}, at=now)
    return step


# The step, its dossier (with its agency, which step_org_unit reads) and the dossier's version
# without its BPMN, report and approval state: the runtime is cached per version, the BPMN is
# read only on a cache miss. Built once: options are immutable.
_LOAD = (
    joinedload(DossierStep.dossier).options(
        lazyload(Dossier.procedure),
        joinedload(Dossier.version).options(
            load_only(ProcedureVersion.bpmn_sha256, ProcedureVersion.requires_vp_review),
            lazyload(ProcedureVersion.procedure))),
)


# The official with their role assignments (codes and org unit ids are what may_perform reads).
_ACTOR = (joinedload(User.assignments).options(lazyload(RoleAssignment.role), lazyload(RoleAssignment.org_unit)),)


def _fresh(session: Session, actor: User) -> User | None:
    """The official's row and roles read again inside the write transaction, in one SELECT (the
    caller's copy was expired when the request's read transaction ended); None if gone."""
    identity = inspect(actor).identity
    return session.get(User, identity, options=_ACTOR, populate_existing=True) if identity else None


def _load(session: Session, step_id: int) -> tuple[DossierStep, Dossier, ProcedureVersion]:
    """Everything a completion reads first, in one SELECT (populate_existing: rows already in the
    session are read again with these options, not just refreshed one by one)."""
    step = found(session.get(DossierStep, step_id, options=_LOAD, populate_existing=True),
                 N_("Step #%(id)s does not exist."), "step", id=step_id)
    dossier = step.dossier
    return step, dossier, dossier.version


def complete(session: Session, actor: User, step_id: int, data: dict | None = None, *,
             opinion: str | None = None, now: datetime | None = None) -> DossierStep:
    """Complete a step with the form data; returns the completed row (its dossier shows what's next)."""
    now = now or utcnow()
    data = dict(data or {})
    opinion = (opinion or "").strip() or None
    if opinion and len(opinion) > MAX_OPINION:
        raise ValidationError(N_("The opinion is longer than %(n)d characters."), "opinion", n=MAX_OPINION)
    try:
        # No autoflush: the writes go out together in the audit append's flush (one UPDATE of the
        # dossier, so state_version moves by exactly one), not before each read in between.
        with transaction(session), session.no_autoflush:
            step, dossier, version = _load(session, step_id)
            actor = _fresh(session, actor)
            _authorize(actor, step)
            _require_open(step)
            if step.assignee_id not in (None, actor.id):
                raise Conflict(N_("%(who)s has claimed step '%(name)s'; only they can complete it."), "step",
                               who=step.assignee.full_name, name=step.name or step.spec_id)
            require_running(dossier, handing_over=step.step == "return_result")
            proc_runtime = runtime(version)
            instance = proc_runtime.load(dossier.state)
            if step.step == "chairman_approval" and version.requires_vp_review:
                history = [h.spec_id for h in instance.history()]
                if not review_is_fresh(proc_runtime.procedure, history):
                    raise Forbidden(N_("The Văn phòng UBND tỉnh has not reviewed this submission: the Chairman's "
                                       "step cannot be completed before its review."), "step")
            if opinion is not None:
                data.setdefault("opinion", opinion)
            try:
                instance.complete(step.task_id, data, now=now)
            except ReviewNotFresh:
                raise Forbidden(N_("The Văn phòng UBND tỉnh has not reviewed this submission: the Chairman's "
                                   "step cannot be completed before its review."), "step") from None
            except InvalidTaskData as exc:
                raise ValidationError(N_("%(detail)s"), exc.field or "data", detail=exc.message) from None
            except TaskNotReady as exc:
                raise Conflict(N_("%(detail)s"), "step", detail=exc.message) from None
            dossier.state = instance.dump()
            cal = calendar(session)
            step.status, step.completed_at, step.completed_by_id = STEP_COMPLETED, now, actor.id
            step.used_minutes = cal.working_minutes_between(aware(step.started_at), now)
            step.data, step.opinion = dumps(data), opinion
            sync_steps(session, dossier, version, instance, now, cal=cal)
            settle_status(dossier, instance, now)
            if step.step == "return_result":
                dossier.status, dossier.returned_at = RETURNED, now
            action = "step_returned" if data.get("decision") == "return" else "step_completed"
            audit.record(session, actor.username, action, f"dossier:{dossier.code}", {
                "step": step.spec_id, "name": step.name, "role": step.role, "data": data,
                "used_minutes": step.used_minutes, "allocation_minutes": step.allocation_minutes}, at=now)
            session.flush()
    except StaleDataError:
        raise Conflict(N_("Someone else completed a step of this dossier at the same moment; "
                          "reload the page to see where it stands."), "step") from None
    except EngineError as exc:
        raise ValidationError(N_("%(detail)s"), exc.field or "step", detail=exc.message) from None
    return step
