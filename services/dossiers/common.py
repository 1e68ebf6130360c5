"""Pieces every dossier use case shares: loading, the runtime, the calendar, the worklist rows."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from sqlalchemy.orm import Session

from engine import sla
from engine.runtime import Instance, ProcedureRuntime, ReadyTask
from services.assignment import Units, step_org_unit_id
from services.calendar import current_calendar
from services.errors import N_, Conflict, found
from services.models import Dossier, DossierStep, ProcedureVersion
from services.models.dossiers import (
    CLOCK_STOPPED, DONE, OPEN_STATUSES, PROCESSING, RECEIVED, STEP_CANCELLED, STEP_OPEN, STEP_READY,
)
from services.procedure_runtime import runtime


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything is stored in UTC."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def calendar(session: Session):
    return current_calendar(session)


def get_dossier(session: Session, dossier_id: int) -> Dossier:
    return found(session.get(Dossier, dossier_id), N_("Dossier #%(id)s does not exist."), "dossier", id=dossier_id)


def get_step(session: Session, step_id: int) -> DossierStep:
    return found(session.get(DossierStep, step_id), N_("Step #%(id)s does not exist."), "step", id=step_id)


def require_open(dossier: Dossier) -> None:
    if dossier.status not in OPEN_STATUSES:
        raise Conflict(N_("Dossier %(code)s is %(status)s; nothing more can be done on it."), "dossier",
                       code=dossier.code, status=dossier.status)


def require_running(dossier: Dossier, *, handing_over: bool = False) -> None:
    """Steps can be worked on; a ready result (done) can still be handed over by its last step."""
    if handing_over and dossier.status == DONE:
        return
    require_open(dossier)
    if dossier.status in CLOCK_STOPPED:
        raise Conflict(N_("Dossier %(code)s is waiting (%(status)s); resume it before working on its steps."),
                       "dossier", code=dossier.code, status=dossier.status)


def open_steps(dossier: Dossier) -> list[DossierStep]:
    return [s for s in dossier.steps if s.status in STEP_OPEN]


@dataclass
class WorklistPlan:
    """How the open worklist rows must change to match the workflow's ready tasks."""

    cancelled: list  # open rows whose task is no longer ready (e.g. a timer interrupted it)
    new: list[dict[str, Any]]  # column values of the rows to add

    def open_kinds(self, open_rows: Iterable) -> list[str | None]:
        """The `tthc.step` kinds of the rows open once the plan is applied."""
        gone = {id(row) for row in self.cancelled}
        return [r.step for r in open_rows if id(r) not in gone] + [n["step"] for n in self.new]


def plan_worklist(open_rows: Iterable, instance: Instance, proc_runtime: ProcedureRuntime, cal, now: datetime,
                  *, unit_for: Callable[[str | None, dict], int], receipt: bool = False,
                  assignee_id: int | None = None) -> WorklistPlan:
    """Compare the open rows (anything with task_id and step) with the workflow's ready tasks.

    A ready task without a row gets one, with a due time from its allocation counted in working
    time from `now` (from the receipt rule for the first steps of a dossier); *unit_for(role,
    properties)* gives its org unit id.
    """
    ready: dict[str, ReadyTask] = {t.id: t for t in instance.ready_tasks()}
    existing = {s.task_id: s for s in open_rows}
    cancelled = [row for task_id, row in existing.items() if task_id not in ready]
    new = []
    start = cal.effective_start(now, receipt=receipt)
    for task in ready.values():
        if task.id in existing:
            continue
        profile = proc_runtime.human_task(task.spec_id)
        minutes = task.allocation_minutes or 0
        new.append({
            "task_id": task.id, "spec_id": task.spec_id, "name": task.name, "role": task.role, "step": task.step,
            "org_unit_id": unit_for(task.role, dict(profile.properties)), "status": STEP_READY,
            "allocation_minutes": minutes, "started_at": now,
            "due_at": cal.add_working_time(start, minutes, receipt=False),
            "assignee_id": assignee_id, "warning": sla.WITHIN,
        })
    return WorklistPlan(cancelled, new)


def sync_steps(session: Session, dossier: Dossier, version: ProcedureVersion, instance: Instance,
               now: datetime, *, receipt: bool = False, assignee_id: int | None = None,
               cal=None) -> list[DossierStep]:
    """Make the dossier's open worklist rows (ORM objects) match the workflow; returns the new rows."""
    units = Units(session, near=dossier.agency_id)
    plan = plan_worklist(
        open_steps(dossier), instance, runtime(version), cal or calendar(session), now, receipt=receipt,
        assignee_id=assignee_id,
        unit_for=lambda role, props: step_org_unit_id(units, dossier.agency_id, dossier.desk_id, role, props))
    for row in plan.cancelled:
        row.status = STEP_CANCELLED
    created = [DossierStep(dossier=dossier, **values) for values in plan.new]
    session.add_all(created)
    return created


def settled(status: str, result_at: datetime | None, original_due_at: datetime | None, *, completed: bool,
            open_kinds: list[str | None], now: datetime) -> dict[str, Any]:
    """The dossier's status fields that change with where the workflow stands: a ready "return
    result" step, or a finished workflow with nothing open, means the result is ready."""
    if completed and not open_kinds:
        return {} if status == DONE else _result_ready(now, original_due_at)
    if "return_result" in open_kinds:
        return _result_ready(now, original_due_at) if result_at is None else {}
    if status in (RECEIVED, DONE) and "receive" not in open_kinds:
        return {"status": PROCESSING}
    return {}


def settle_status(dossier: Dossier, instance: Instance, now: datetime) -> None:
    """``settled`` applied to a dossier's ORM object."""
    changes = settled(dossier.status, dossier.result_at, dossier.original_due_at, completed=instance.completed,
                      open_kinds=[s.step for s in dossier.steps if s.status in STEP_OPEN], now=now)
    for name, value in changes.items():
        setattr(dossier, name, value)


def _result_ready(now: datetime, original_due_at: datetime | None) -> dict[str, Any]:
    # Measured against the due date before any apology letter: an apology does not make a late
    # dossier on time.
    return {"status": DONE, "result_at": now, "result_class": sla.classify_result(now, aware(original_due_at))}


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
