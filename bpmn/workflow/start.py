"""Starting a workflow (khởi động quy trình): the runtime's one start path, and its trial run.

:func:`start_workflow` is what :meth:`ProcedureRuntime.start <engine.runtime.ProcedureRuntime.start>`
runs when a desk receives a dossier. :func:`trial_start` runs that same function once on a
procedure that has just been parsed — the linter's last check — and then does what the services
do next (read the first human tasks, store the state, load it back), so that a file that passes
lint is a file whose first dossier starts. No code runs: conditions and timers go through the
restricted script engine, as in production.

It lives in :mod:`bpmn`, below the runtime (docs/architecture.md, "Layers"): the linter and
:class:`~engine.runtime.ProcedureRuntime` import this one function, and nothing here imports
:mod:`engine`.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bpmn.workflow.errors import EngineError
from bpmn.workflow.script import RestrictedScriptEngine, install_clock_timers
from bpmn.workflow.state import dump_state, load_state
from bpmn.workflow.values import checked

#: The fingerprint of a trial state (it is never stored).
_TRIAL = "trial"


class StartFailed(Exception):
    """The trial start failed. ``kind`` says how (one of the constants below), ``element`` is the
    BPMN id where it stopped, ``detail`` the engine's own words (English, short; may be empty)."""

    ENGINE = "engine"  # SpiffWorkflow or the script engine raised
    TOO_DEEP = "too_deep"  # the engine recursed too deeply
    STUCK = "stuck"  # the workflow waits with no human step ready
    NOT_A_STEP = "not_a_step"  # a ready task that the worklist would not show
    STATE = "state"  # the started workflow cannot be stored and loaded back

    def __init__(self, kind: str, element: str | None, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.element = element
        self.detail = detail


def utc(now: datetime | None) -> datetime | None:
    """*now* as an aware UTC datetime; a naive one is taken to be UTC already (as stored)."""
    if now is None:
        return None
    if not isinstance(now, datetime):
        raise EngineError(f"The clock must be a datetime, not {type(now).__name__}.")
    return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)


def prepare_specs(spec, subprocess_specs: Mapping[str, Any]) -> int:
    """Give the specs the clock-aware timers; returns how many timer events there are.

    Idempotent (a timer already replaced is left alone), so the linter and the runtime may both
    call it on the same specs.
    """
    return install_clock_timers([spec, *subprocess_specs.values()])


def start_workflow(spec, subprocess_specs: Mapping[str, Any], data: Mapping[str, Any] | None, *,
                   now: datetime | None = None) -> BpmnWorkflow:
    """A new workflow with *data* (plain JSON) as start variables, run to its first human task(s).

    Errors are SpiffWorkflow's or the script engine's, raised as they are: the caller translates
    them (the runtime into an EngineError, the linter into a report error).
    """
    values = checked(data, "start data")
    engine = RestrictedScriptEngine(utc(now))
    try:
        workflow = BpmnWorkflow(spec, dict(subprocess_specs), script_engine=engine)
        workflow.task_tree.data = dict(values)
        workflow.do_engine_steps()
    finally:
        engine.now = None
    return workflow


def trial_start(spec, subprocess_specs: Mapping[str, Any], human_tasks: Collection[str],
                process_id: str) -> None:
    """Start a workflow as a receipt would, and check that a dossier could go on from there.

    *human_tasks* are the ids of the procedure's human steps (what the worklist shows). Raises
    :class:`StartFailed` when the engine fails, when the workflow waits with no human step
    ready (no one could ever move the dossier), when a ready step is not one of *human_tasks*,
    or when its state cannot be stored and loaded back.
    """
    prepare_specs(spec, subprocess_specs)
    try:
        workflow = start_workflow(spec, subprocess_specs, {})
    except RecursionError:
        raise StartFailed(StartFailed.TOO_DEEP, process_id) from None
    except Exception as exc:  # noqa: BLE001 - whatever stops the engine is the finding
        raise StartFailed(StartFailed.ENGINE, _element_of(exc) or process_id, _detail(exc)) from None
    ready = [task for task in _tasks(workflow) if task.state == TaskState.READY and task.task_spec.manual]
    for task in ready:
        if task.task_spec.bpmn_id not in human_tasks:
            raise StartFailed(StartFailed.NOT_A_STEP, task.task_spec.bpmn_id or task.task_spec.name)
    if not ready and not workflow.is_completed():
        waiting = next((t for t in _tasks(workflow) if t.state == TaskState.WAITING), None)
        element = getattr(waiting.task_spec, "bpmn_id", None) if waiting is not None else None
        raise StartFailed(StartFailed.STUCK, element or process_id)
    try:
        state = dump_state(workflow, _TRIAL, [])
        load_state(state, _TRIAL, spec, dict(subprocess_specs), RestrictedScriptEngine())
    except Exception as exc:  # noqa: BLE001
        raise StartFailed(StartFailed.STATE, _element_of(exc) or process_id, _detail(exc)) from None


def _tasks(workflow: BpmnWorkflow):
    for tasks in (workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())):
        yield from tasks.values()


def _element_of(exc: Exception) -> str | None:
    element = getattr(exc, "element", None)
    if isinstance(element, str) and element:
        return element
    spec = getattr(exc, "task_spec", None) or getattr(getattr(exc, "task", None), "task_spec", None)
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", None) or None


def _detail(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
