"""Pieces every dossier use case shares: loading, the runtime, the calendar, the worklist rows."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from engine import sla
from engine.runtime import Instance, ProcedureRuntime, ReadyTask, runtime_for
from services.assignment import step_org_unit
from services.errors import N_, Conflict, found
from services.models import Dossier, DossierStep, ProcedureVersion
from services.models.dossiers import (
    CLOCK_STOPPED, DONE, OPEN_STATUSES, PROCESSING, RECEIVED, STEP_CANCELLED, STEP_OPEN, STEP_READY,
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything is stored in UTC."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def calendar(session: Session):
    from services.calendar import current_calendar

    return current_calendar(session)


def runtime(version: ProcedureVersion) -> ProcedureRuntime:
    # Keyed by id and content hash: a cached spec can never be applied to other BPMN.
    return runtime_for(f"version:{version.id}:{version.bpmn_sha256}", lambda: version.bpmn)


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


def sync_steps(session: Session, dossier: Dossier, version: ProcedureVersion, instance: Instance,
               now: datetime, *, receipt: bool = False, assignee_id: int | None = None,
               cal=None) -> list[DossierStep]:
    """Make the open worklist rows match the workflow's ready tasks; returns the new rows.

    A ready task gets its row with a due time from its allocation, counted in working time from
    `now` (from the receipt rule for the first steps of a dossier).
    """
    cal = cal or calendar(session)
    ready: dict[str, ReadyTask] = {t.id: t for t in instance.ready_tasks()}
    existing = {s.task_id: s for s in open_steps(dossier)}
    for task_id, step in existing.items():
        if task_id not in ready:  # e.g. a timer interrupted it
            step.status = STEP_CANCELLED
    created = []
    start = cal.effective_start(now, receipt=receipt)
    proc_runtime = runtime(version)
    for task in ready.values():
        if task.id in existing:
            continue
        profile = proc_runtime.human_task(task.spec_id)
        unit = step_org_unit(session, dossier, task.role, dict(profile.properties))
        minutes = task.allocation_minutes or 0
        row = DossierStep(
            dossier=dossier, task_id=task.id, spec_id=task.spec_id, name=task.name, role=task.role,
            step=task.step, org_unit_id=unit.id, status=STEP_READY, allocation_minutes=minutes,
            started_at=now, due_at=cal.add_working_time(start, minutes, receipt=False),
            assignee_id=assignee_id, warning=sla.WITHIN,
        )
        session.add(row)
        created.append(row)
    return created


def settle_status(dossier: Dossier, instance: Instance, now: datetime) -> None:
    """Status from where the workflow stands: a ready "return result" step means the result is ready."""
    steps = [s for s in dossier.steps if s.status in STEP_OPEN]
    if instance.completed and not steps:
        if dossier.status != DONE:
            _result_ready(dossier, now)
        return
    if any(s.step == "return_result" for s in steps):
        if dossier.result_at is None:
            _result_ready(dossier, now)
        return
    if dossier.status in (RECEIVED, DONE) and not any(s.step == "receive" for s in steps):
        dossier.status = PROCESSING


def _result_ready(dossier: Dossier, now: datetime) -> None:
    dossier.status, dossier.result_at = DONE, now
    # Measured against the due date before any apology letter: an apology does not make a late
    # dossier on time.
    dossier.result_class = sla.classify_result(now, aware(dossier.original_due_at))


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
