"""Completing a step (hoàn thành bước) — one transaction, two batches of statements, one commit.

Authorize (the step's role in the step's org unit) → load the workflow → run the guard → complete
→ store the state, the worklist rows and one audit event → commit. Two officials completing the
same step: the second finds the step closed or the dossier's state_version moved, and gets a
Conflict; nothing of theirs is written.

This is the hot path of the whole system, so it reads plain rows and writes with Core statements
(services.dossiers.completion_sql) in two batches: on PostgreSQL the writers' lock and every read
go to the server in one round trip, the writes and the COMMIT in a second.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

import services.dossiers.completion_sql as sql
from engine.runtime import (
    EngineError, InvalidTaskData, ReviewNotFresh, TaskNotReady, review_is_fresh, runtime_for,
)
from services import audit, dates
from services.assignment import Units, holds, step_org_unit_id
from services.calendar import current_calendar
from services.db import TEXT_LIMIT
from services.dossiers.common import aware, dumps, plan_worklist, require_running, settled, utcnow
from services.errors import N_, Conflict, Forbidden, ValidationError, found
from services.models import Dossier, DossierStep, OrgUnit, User
from services.models.dossiers import RETURNED, STEP_COMPLETED, STEP_OPEN
from services.sqlbatch import Batch
from services.uow import transaction
from services.validation import TextField

#: The step's opinion (ý kiến), checked against the column that keeps it (refused, never cut).
OPINION = TextField(DossierStep.opinion, "opinion", N_("The opinion is longer than %(n)d characters."))
#: A text typed into a field of the task's form, kept in the step's data (refused beyond it, never cut).
FORM_TEXT_LIMIT = TEXT_LIMIT


@dataclass(frozen=True)
class Completion:
    """What a completion did: the step, where its dossier stands, and the steps it went to."""

    step_id: int
    dossier_id: int
    dossier_code: str
    dossier_status: str
    action: str  # the audit action: step_completed, or step_returned for a "return" decision
    next_steps: tuple[str, ...]  # names of the worklist rows it opened


def _name(session: Session, user_id: int | None) -> str | None:
    return session.scalar(select(User.full_name).where(User.id == user_id)) if user_id else None


def _authorize(session: Session, step) -> str:
    """The official's username if they may complete *step* now; Forbidden otherwise. The row
    carries the official's assignment matching the step, if any: the rule is ``holds``."""
    held = [(step.held_role, step.held_unit)] if step.held_role is not None else []
    if step.username is None or not holds(step.active, held, step.role, step.org_unit_id):
        unit = session.scalar(select(OrgUnit.code).where(OrgUnit.id == step.org_unit_id))
        raise Forbidden(N_("Step '%(name)s' is for role %(role)s in %(unit)s; you do not hold it there."),
                        "step", name=step.name or step.spec_id, role=step.role, unit=unit)
    return step.username


def _calendar_head(step) -> SimpleNamespace | None:
    """The calendar's (revision, updated_at) as services.calendar.HEAD gives it."""
    if step.cal_revision is None:
        return None
    return SimpleNamespace(revision=step.cal_revision, updated_at=step.cal_updated_at)


def require_open(session: Session, step) -> None:
    """A Conflict naming who closed *step* (an ORM row or a plain one) if it is no longer open."""
    if step.status in STEP_OPEN:
        return
    who = _name(session, step.completed_by_id)
    if step.status == STEP_COMPLETED and who:
        raise Conflict(N_("Step '%(name)s' was already completed by %(who)s."), "step",
                       name=step.name or step.spec_id, who=who)
    raise Conflict(N_("Step '%(name)s' is no longer open (%(status)s)."), "step",
                   name=step.name or step.spec_id, status=step.status)


def _chain_head(step) -> tuple[int, str] | None:
    """The audit chain's last (seq, hash) as audit.HEAD gives it; None while the log is empty."""
    return (step.head_seq, step.head_hash) if step.head_seq is not None else None


def _run(proc_runtime, step, data: dict, now: datetime):
    """The workflow with *step* completed: the guard first, then the engine, errors translated."""
    instance = proc_runtime.load(step.state)
    if step.step == "chairman_approval" and step.requires_vp_review:
        if not review_is_fresh(proc_runtime.procedure, [h.spec_id for h in instance.history()]):
            raise _not_reviewed()
    try:
        instance.complete(step.task_id, data, now=now)
    except ReviewNotFresh:
        raise _not_reviewed() from None
    except InvalidTaskData as exc:
        raise ValidationError(N_("%(detail)s"), exc.field or "data", detail=exc.message) from None
    except TaskNotReady as exc:
        raise Conflict(N_("%(detail)s"), "step", detail=exc.message) from None
    return instance


def _not_reviewed() -> Forbidden:
    return Forbidden(N_("The Văn phòng UBND tỉnh has not reviewed this submission: the Chairman's "
                        "step cannot be completed before its review."), "step")


def _forget(session: Session, dossier_id: int, step_ids) -> None:
    """Expire the ORM copies of the rows written here, for a session that keeps objects across
    commits: the next access reads them again instead of showing the state before."""
    keys = [identity_key(Dossier, dossier_id)] + [identity_key(DossierStep, i) for i in step_ids]
    for key in keys:
        obj = session.identity_map.get(key)
        if obj is not None:
            session.expire(obj)


def _write(session: Session, params: dict, n_cancelled: int, n_new: int) -> None:
    """The completion's writes, checked: the dossier still at the state_version read and the step
    still open, or a Conflict and nothing written. On PostgreSQL the writes are one statement that
    checks itself (``completion_sql.writes_in_one``), sent with the COMMIT in one round trip;
    elsewhere they are separate statements whose row counts are checked before the COMMIT."""
    writes = Batch(session)
    if writes.pipelined:
        writes.add(sql.writes_in_one(n_cancelled, n_new), **params)
        try:
            writes.run(commit=True)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == sql.WRITE_CONFLICT:
                raise _written_first() from None
            raise
        return
    for stmt in sql.writes_apart(n_cancelled, n_new):
        writes.add(stmt, **params)
    dossier_written, step_written = writes.run()[:2]
    if dossier_written.rowcount != 1 or step_written.rowcount != 1:
        raise _written_first()


def _written_first() -> Conflict:
    return Conflict(N_("Someone else completed a step of this dossier at the same moment; "
                       "reload the page to see where it stands."), "step")


def complete(session: Session, actor: User | None, step_id: int, data: dict | None = None, *,
             opinion: str | None = None, now: datetime | None = None) -> Completion:
    """Complete a step with the form data."""
    now = now or utcnow()
    data = dict(data or {})
    opinion = OPINION.clean(opinion)
    for key, value in data.items():
        if isinstance(value, str) and len(value) > FORM_TEXT_LIMIT:
            raise ValidationError(N_("The field %(name)s is longer than %(n)d characters."), key, name=key,
                                  n=FORM_TEXT_LIMIT)
    # The caller's copy of the official may be stale (or expired: reading it would cost a query);
    # who they are now is read with the rest, by id.
    identity = inspect(actor).identity if actor is not None else None
    try:
        with transaction(session, lock=False):
            reads = Batch(session)
            audit.lock_chain(session, reads)  # first in the batch, so the reads see the last writer
            load = reads.add(sql.LOAD, step_id=step_id, user_id=identity[0] if identity else -1)
            open_rows = reads.add(sql.OPEN_STEPS, step_id=step_id)
            out = reads.run()
            step = found(out[load].first(), N_("Step #%(id)s does not exist."), "step", id=step_id)
            username = _authorize(session, step)
            require_open(session, step)
            if step.assignee_id not in (None, identity[0]):
                raise Conflict(N_("%(who)s has claimed step '%(name)s'; only they can complete it."), "step",
                               who=_name(session, step.assignee_id), name=step.name or step.spec_id)
            require_running(SimpleNamespace(code=step.code, status=step.dossier_status),
                            handing_over=step.step == "return_result")
            proc_runtime = runtime_for(f"version:{step.version_id}:{step.bpmn_sha256}",
                                       lambda: session.scalar(sql.BPMN, {"version_id": step.version_id}))
            if opinion is not None:
                data.setdefault("opinion", opinion)
            instance = _run(proc_runtime, step, data, now)
            cal = current_calendar(session, _calendar_head(step))
            with dates.computing("step"):  # an old bad row: a refusal naming the step, not a 500
                used = cal.working_minutes_between(aware(step.started_at), now)
            still_open = [r for r in out[open_rows].rows if r.id != step.id]
            known = Units(session, near=step.agency_id)
            plan = plan_worklist(
                still_open, instance, proc_runtime, cal, now,
                unit_for=lambda role, props: step_org_unit_id(known, step.agency_id, step.desk_id, role, props))
            fields = {"status": step.dossier_status, "result_at": step.result_at,
                      "result_class": step.result_class, "returned_at": step.returned_at}
            fields.update(settled(step.dossier_status, step.result_at, step.original_due_at,
                                  completed=instance.completed, open_kinds=plan.open_kinds(still_open), now=now))
            if step.step == "return_result":
                fields.update(status=RETURNED, returned_at=now)
            action = "step_returned" if data.get("decision") == "return" else "step_completed"

            payload = {"step": step.spec_id, "name": step.name, "role": step.role, "data": data,
                       "used_minutes": used, "allocation_minutes": step.allocation_minutes}
            params = sql.write_params(
                dossier_id=step.dossier_id, expected_version=step.state_version, state=instance.dump(),
                fields=fields, step_id=step.id, at=now, by=identity[0], used=used, data_json=dumps(data),
                opinion=opinion, cancelled=[row.id for row in plan.cancelled], new=plan.new,
                event=audit.chained(_chain_head(step), username, action, f"dossier:{step.code}", payload, at=now))
            _write(session, params, len(plan.cancelled), len(plan.new))
            _forget(session, step.dossier_id, [step.id] + [row.id for row in plan.cancelled])
    except EngineError as exc:
        raise ValidationError(N_("%(detail)s"), exc.field or "step", detail=exc.message) from None
    return Completion(step.id, step.dossier_id, step.code, fields["status"], action,
                      tuple(values["name"] or values["spec_id"] for values in plan.new))
