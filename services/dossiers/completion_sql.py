"""The statements of a step completion (hoàn thành bước), as Core constants for ``services.sqlbatch``.

A completion reads everything it needs in one batch (after the writers' lock on PostgreSQL) and
writes in a second one; plain rows instead of ORM objects, because on the hot path the ORM's
identity map and unit of work cost more than the statements themselves.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update

from services import audit
from services.calendar import ROW_ID as CALENDAR_ROW
from services.models import (
    AuditEvent, CalendarConfig, Dossier, DossierStep, ProcedureVersion, RoleAssignment, User,
)
from services.models.dossiers import STEP_CANCELLED, STEP_CLAIMED, STEP_COMPLETED, STEP_READY

_s, _d, _v = DossierStep.__table__, Dossier.__table__, ProcedureVersion.__table__
_u, _ra = User.__table__, RoleAssignment.__table__
_STEP_ID = bindparam("step_id")


def _is_open(column):
    # Listed bindparams, not in_(tuple): a batched statement is compiled once, without expansion.
    return column.in_([bindparam("open_ready", STEP_READY), bindparam("open_claimed", STEP_CLAIMED)])


_ev, _cal = AuditEvent.__table__, CalendarConfig.__table__
_actor, _held = _u.alias("actor"), _ra.alias("held")
_last_event = select(func.max(_ev.c.seq)).scalar_subquery()

#: Everything else a completion reads first, as one row: the step, its dossier and the dossier's
#: version (without its BPMN: the runtime is cached); the official as they are now, with their
#: assignment of the step's role in the step's org unit if they hold it (at most one: unique);
#: the calendar's revision; the audit chain's head. No row: the step does not exist.
LOAD = (
    select(_s.c.id, _s.c.dossier_id, _s.c.task_id, _s.c.spec_id, _s.c.name, _s.c.role, _s.c.step,
           _s.c.org_unit_id, _s.c.status, _s.c.assignee_id, _s.c.completed_by_id, _s.c.started_at,
           _s.c.allocation_minutes,
           _d.c.code, _d.c.status.label("dossier_status"), _d.c.state, _d.c.state_version, _d.c.agency_id,
           _d.c.desk_id, _d.c.result_at, _d.c.result_class, _d.c.returned_at, _d.c.original_due_at,
           _d.c.version_id,
           _v.c.bpmn_sha256, _v.c.requires_vp_review,
           _actor.c.username, _actor.c.active, _held.c.role_code.label("held_role"),
           _held.c.org_unit_id.label("held_unit"),
           select(_cal.c.revision).where(_cal.c.id == CALENDAR_ROW).scalar_subquery().label("cal_revision"),
           select(_cal.c.updated_at).where(_cal.c.id == CALENDAR_ROW).scalar_subquery().label("cal_updated_at"),
           _last_event.label("head_seq"),
           select(_ev.c.hash).where(_ev.c.seq == _last_event).scalar_subquery().label("head_hash"))
    .select_from(
        _s.join(_d, _d.c.id == _s.c.dossier_id).join(_v, _v.c.id == _d.c.version_id)
        .outerjoin(_actor, _actor.c.id == bindparam("user_id"))
        .outerjoin(_held, and_(_held.c.user_id == _actor.c.id, _held.c.role_code == _s.c.role,
                               _held.c.org_unit_id == _s.c.org_unit_id)))
    .where(_s.c.id == _STEP_ID)
)

_of_step = _s.alias("of_step")
_dossier_of_step = select(_of_step.c.dossier_id).where(_of_step.c.id == _STEP_ID).scalar_subquery()

#: The open worklist rows of the step's dossier (the step itself among them while it is open).
OPEN_STEPS = (
    select(_s.c.id, _s.c.task_id, _s.c.step, _s.c.status)
    .where(_s.c.dossier_id == _dossier_of_step, _is_open(_s.c.status))
    .order_by(_s.c.id)
)

#: The BPMN, read only when the version's runtime is not cached yet.
BPMN = select(_v.c.bpmn).where(_v.c.id == bindparam("version_id"))

#: The new state; the WHERE on state_version is the optimistic check (0 rows: someone was first).
UPDATE_DOSSIER = (
    update(_d)
    .where(_d.c.id == bindparam("dossier_id"), _d.c.state_version == bindparam("expected_version"))
    .values(state=bindparam("new_state"), state_version=_d.c.state_version + 1,
            status=bindparam("new_status"), result_at=bindparam("new_result_at"),
            result_class=bindparam("new_result_class"), returned_at=bindparam("new_returned_at"))
)

#: The step itself, still open (0 rows: someone completed or cancelled it first).
COMPLETE_STEP = (
    update(_s)
    .where(_s.c.id == bindparam("step_id"), _is_open(_s.c.status))
    .values(status=bindparam("completed", STEP_COMPLETED), completed_at=bindparam("done_at"),
            completed_by_id=bindparam("done_by"), used_minutes=bindparam("used"), data=bindparam("data_json"),
            opinion=bindparam("opinion_text"))
)

#: Column names of a new worklist row (``plan_worklist``'s keys), without the dossier's id.
NEW_STEP_COLUMNS = ("task_id", "spec_id", "name", "role", "step", "org_unit_id", "status",
                    "allocation_minutes", "started_at", "due_at", "assignee_id", "warning")

# Bind names differ across the statements so that they can also be written as one (writes_in_one).
_shapes: dict[tuple, Any] = {}


def _shaped(key: tuple, build: Callable[[], Any]):
    # One statement object per shape, kept: services.sqlbatch compiles each once per process.
    stmt = _shapes.get(key)
    if stmt is None:
        stmt = _shapes.setdefault(key, build())
    return stmt


def cancel_steps(n: int):
    """The worklist rows a completion closes (a boundary event, the other branch of a race)."""
    return _shaped(("cancel", n), lambda: update(_s).where(_s.c.id.in_([bindparam(f"cancel_{i}") for i in range(n)]))
                   .values(status=bindparam("cancelled", STEP_CANCELLED)))


def insert_step(i: int):
    """The *i*-th worklist row a completion opens (its values are ``new{i}_…``). One INSERT per
    row: SQLAlchemy does not cache the compiled form of a multi-row VALUES."""
    return _shaped(("insert", i), lambda: insert(_s).values(
        {_s.c.dossier_id: bindparam("dossier_id"), **{_s.c[name]: bindparam(f"new{i}_{name}") for name in NEW_STEP_COLUMNS}}))


def write_params(*, dossier_id: int, expected_version: int, state: str, fields: dict, step_id: int, at, by: int,
                 used: int, data_json: str, opinion: str | None, cancelled: Sequence[int],
                 new: Sequence[dict], event: dict) -> dict[str, Any]:
    """The values of every write of a completion, under the bind names of the statements above."""
    params = {"dossier_id": dossier_id, "expected_version": expected_version, "new_state": state,
              "new_status": fields["status"], "new_result_at": fields["result_at"],
              "new_result_class": fields["result_class"], "new_returned_at": fields["returned_at"],
              "step_id": step_id, "done_at": at, "done_by": by, "used": used, "data_json": data_json,
              "opinion_text": opinion, **event}
    for i, step_row in enumerate(cancelled):
        params[f"cancel_{i}"] = step_row
    for i, values in enumerate(new):
        for name in NEW_STEP_COLUMNS:
            params[f"new{i}_{name}"] = values[name]
    return params


def writes_apart(n_cancelled: int, n_new: int) -> list:
    """The writes as separate statements, UPDATE_DOSSIER and COMPLETE_STEP first (their row
    counts are checked before COMMIT), then the other rows and the audit event."""
    writes = [UPDATE_DOSSIER, COMPLETE_STEP]
    if n_cancelled:
        writes.append(cancel_steps(n_cancelled))
    writes.extend(insert_step(i) for i in range(n_new))
    writes.append(audit.INSERT)
    return writes


def writes_in_one(n_cancelled: int, n_new: int):
    """The same writes as one PostgreSQL statement: data-modifying CTEs, each run exactly once;
    the final SELECT passes the two UPDATEs' row counts to ``quytrinh_expect_one`` (migration
    0006), which aborts the transaction with SQLSTATE QT409 unless both are 1 — so the COMMIT
    can follow in the same round trip and never commits a half-checked step."""
    def build():
        dossier = UPDATE_DOSSIER.returning(_d.c.id).cte("written_dossier")
        step = COMPLETE_STEP.returning(_s.c.id).cte("written_step")

        def expect_one(cte, what: str):
            return func.quytrinh_expect_one(select(func.count()).select_from(cte).scalar_subquery(), what)

        stmt = select(expect_one(dossier, "dossier state_version").label("dossier"),
                      expect_one(step, "open step").label("step"))
        for i, rest in enumerate(writes_apart(n_cancelled, n_new)[2:]):
            stmt = stmt.add_cte(rest.cte(f"written_{i}"))
        return stmt
    return _shaped(("one", n_cancelled, n_new), build)


#: SQLSTATE raised by quytrinh_expect_one: the writes found the dossier or the step changed.
WRITE_CONFLICT = "QT409"
