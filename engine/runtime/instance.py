"""One dossier's workflow (quy trình của một hồ sơ): ready tasks, completion, timers, the dump.

An :class:`Instance` belongs to the thread that created or loaded it (SpiffWorkflow objects are
not thread-safe; the services load one per request). Every change is atomic: the instance keeps
the dumped text of its last consistent state — the state it was loaded from, or its last dump —
and when anything fails half-way it is rebuilt from that text, so a caller that catches the error
holds exactly the instance it had before. In the services' pattern (load → complete → dump) that
text exists already, so atomicity costs nothing on the hot path.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from bpmn.procedure import CHAIRMAN_APPROVAL, FormField
from bpmn.workflow.start import utc
from bpmn.workflow.values import thaw_mapping
from engine.runtime.errors import EngineError, ReviewNotFresh, TaskNotReady
from engine.runtime.forms import validate_submission


@dataclass(frozen=True)
class ReadyTask:
    """A human task (bước xử lý) that can be completed now."""

    id: str  # SpiffWorkflow task UUID, stable across dump and load
    spec_id: str  # BPMN element id
    name: str | None
    lane: str | None
    role: str | None
    step: str | None  # receive / vp_review / chairman_approval / return_result / None
    allocation_minutes: int | None
    form_fields: tuple[FormField, ...]


@dataclass(frozen=True)
class CompletedStep:
    """A completed human task (bước đã xử lý) with a copy of the data submitted at it."""

    task_id: str
    spec_id: str
    step: str | None
    role: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class WaitingTimer:
    """A timer event (sự kiện hẹn giờ) waiting to fire; ``due`` is UTC."""

    task_id: str
    spec_id: str  # the timer event's BPMN id
    attached_to: str | None  # the activity a boundary timer sits on
    due: datetime | None
    interrupting: bool


_STATE_NAMES = {TaskState.COMPLETED: "already completed", TaskState.CANCELLED: "cancelled",
                TaskState.WAITING: "waiting", TaskState.ERROR: "in error"}


class Instance:
    """One dossier's workflow; never shared between threads.

    Made by its version's :class:`~engine.runtime.procedure.ProcedureRuntime` (``start`` or
    ``load``), which it asks for the version's facts, its state format and its error texts.
    """

    def __init__(self, runtime, workflow, history, state: str | None) -> None:
        self._runtime = runtime
        self._workflow = workflow
        self._history = history
        self._state = state  # the dump of the current workflow, None once it has changed
        self._owner = threading.get_ident()

    # --- reading ---------------------------------------------------------------------------

    def ready_tasks(self) -> list[ReadyTask]:
        """Human tasks READY now, in document order of their elements, then by id."""
        self._check_thread()
        return self._ready()

    @property
    def completed(self) -> bool:
        self._check_thread()
        return self._workflow.is_completed()

    @property
    def end_events(self) -> tuple[str, ...]:
        """Ids of the end events reached (e.g. approved vs. rejected in the approval flow)."""
        self._check_thread()
        return tuple(t.task_spec.bpmn_id for t in self._workflow.get_tasks(state=TaskState.COMPLETED)
                     if t.task_spec.bpmn_id in self._runtime.end_events)

    @property
    def modified(self) -> bool:
        """True when the workflow changed since it was started, loaded or last dumped."""
        return self._state is None

    @property
    def data(self) -> dict[str, Any]:
        """A copy of the dossier's data: the start variables updated with each completed step's
        submitted data, in completion order (every branch included)."""
        self._check_thread()
        merged = dict(self._workflow.task_tree.data)
        for _, _, submitted in self._history:
            merged.update(submitted)
        return thaw_mapping(merged)

    def history(self) -> list[CompletedStep]:
        """Completed human tasks in completion order, with copies of the submitted data."""
        self._check_thread()
        steps = []
        for task_id, spec_id, submitted in self._history:
            profile = self._runtime.procedure.tasks.get(spec_id)
            steps.append(CompletedStep(task_id, spec_id, profile.step if profile else None,
                                       profile.role if profile else None, thaw_mapping(submitted)))
        return steps

    def waiting_timers(self) -> list[WaitingTimer]:
        self._check_thread()
        timers = []
        for task in self._workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition):
                continue
            spec_id = task.task_spec.bpmn_id
            timers.append(WaitingTimer(str(task.id), spec_id, self._runtime.boundary_hosts.get(spec_id),
                                       _due(task), bool(getattr(task.task_spec, "cancel_activity", True))))
        return sorted(timers, key=lambda t: (t.due is None, t.due or datetime.min, t.task_id))

    def chairman_guard(self, task_id: str, *, required: bool | None = None) -> bool:
        """False when *task_id* is a chairman_approval task that the review rule forbids now.

        *required* says whether the procedure requires the Văn phòng review; by default it does
        for authorities ubnd_tinh / chu_tich_ubnd_tinh and when the start data sets
        ``requires_vp_review`` true.
        """
        self._check_thread()
        task = self._ready_task(task_id)
        return self._guard_allows(task.task_spec.bpmn_id, required)

    # --- changing --------------------------------------------------------------------------

    def complete(self, task_id: str, data: dict | None = None, *, now: datetime | None = None) -> list[ReadyTask]:
        """Complete a READY human task with *data* and run the engine; return the newly READY tasks.

        The data is checked against the step's form and copied (see :mod:`engine.runtime.forms`).
        A chairman_approval task whose review is required and not fresh raises ReviewNotFresh.
        On any error the instance is exactly as before. *now* is the clock for timers that start
        waiting in this step (default: the wall clock).
        """
        self._check_thread()
        task = self._ready_task(task_id)
        spec_id = task.task_spec.bpmn_id
        profile = self._runtime.procedure.tasks[spec_id]
        if not self._guard_allows(spec_id, None):
            raise ReviewNotFresh(
                f"Step '{profile.name or spec_id}' goes to the Chairman, but the Văn phòng UBND has not "
                "reviewed the file since it was last submitted.", element=spec_id)
        values = validate_submission(profile, data, start_variables=self._workflow.task_tree.data.keys(),
                                     routed=self._runtime.routed)

        def run() -> None:
            task.data.update(values)
            task.run()
            self._history.append((str(task.id), spec_id, values))
            self._workflow.do_engine_steps()

        return self._change(run, now)

    def refresh(self, now: datetime) -> list[ReadyTask]:
        """Fire the timers due at *now* and run the engine; return the newly READY human tasks.

        Nothing is done (and :attr:`modified` stays false) when no timer is due. A fired timer
        may also cancel a task or end the workflow, so check :attr:`modified` rather than the
        returned list to know whether to store the state.
        """
        self._check_thread()
        now = utc(now)
        if now is None:
            raise EngineError("refresh() needs the current time.")
        if not any(t.due is not None and t.due <= now for t in self.waiting_timers()):
            return []

        def run() -> None:
            self._workflow.refresh_timers()
            self._workflow.do_engine_steps()

        return self._change(run, now)

    def dump(self) -> str:
        """The state as JSON text, without the spec (see :mod:`bpmn.workflow.state`)."""
        self._check_thread()
        if self._state is None:
            self._state = self._runtime.dump_parts(self._workflow, self._history)
        return self._state

    # --- internals -------------------------------------------------------------------------

    def _change(self, run, now: datetime | None) -> list[ReadyTask]:
        snapshot = self.dump()
        before = {str(task.id) for task in self._ready_spiff_tasks()}
        engine = self._workflow.script_engine
        engine.now = utc(now)
        try:
            run()
        except BaseException as exc:  # an interrupt half-way must not leave a half-run workflow either
            self._workflow, self._history = self._runtime.load_parts(snapshot)
            self._state = snapshot
            if not isinstance(exc, Exception):
                raise
            translated = self._runtime.translate_error(exc)
            if translated is None:
                raise
            raise translated from None
        finally:
            engine.now = None
        self._state = None
        return [t for t in self._ready() if t.id not in before]

    def _ready_spiff_tasks(self):
        # A scan of the task maps: SpiffWorkflow's tree iterator costs several times more, and
        # the order is imposed by _ready anyway.
        workflow = self._workflow
        for tasks in (workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())):
            for task in tasks.values():
                if task.state == TaskState.READY and task.task_spec.manual:
                    yield task

    def _ready(self) -> list[ReadyTask]:
        tasks = self._runtime.procedure.tasks
        order = self._runtime.order
        ready = []
        for task in self._ready_spiff_tasks():
            profile = tasks.get(task.task_spec.bpmn_id)
            if profile is not None:
                ready.append(ReadyTask(str(task.id), profile.id, profile.name, profile.lane, profile.role,
                                       profile.step, profile.allocation_minutes, profile.form_fields))
        ready.sort(key=lambda t: (order.get(t.spec_id, len(order)), t.spec_id, t.id))
        return ready

    def _ready_task(self, task_id: str):
        try:
            uuid = UUID(str(task_id))
        except ValueError:
            raise TaskNotReady(f"'{task_id}' is not a task id.", field="task_id") from None
        task = self._workflow.get_task_from_id(uuid) if self._has_task(uuid) else None
        if task is None:
            raise TaskNotReady(f"Task {task_id} does not exist in this dossier's workflow.", field="task_id")
        spec_id = getattr(task.task_spec, "bpmn_id", None)
        if spec_id not in self._runtime.procedure.tasks:
            raise TaskNotReady(f"Task {task_id} ({spec_id or task.task_spec.name}) is not a human step.",
                               element=spec_id)
        if task.state != TaskState.READY:
            state = _STATE_NAMES.get(task.state, "not ready yet")
            raise TaskNotReady(f"Step '{spec_id}' (task {task_id}) is {state}; it cannot be completed.",
                               element=spec_id)
        return task

    def _has_task(self, uuid: UUID) -> bool:
        workflow = self._workflow
        return uuid in workflow.tasks or any(uuid in sp.tasks for sp in workflow.subprocesses.values())

    def _guard_allows(self, spec_id: str, required: bool | None) -> bool:
        profile = self._runtime.procedure.tasks.get(spec_id)
        if profile is None or profile.step != CHAIRMAN_APPROVAL:
            return True
        if required is None:
            required = self._runtime.review_required(self._workflow.task_tree.data)
        return not required or self._runtime.rule.is_fresh([spec for _, spec, _ in self._history])

    def _check_thread(self) -> None:
        if threading.get_ident() != self._owner:
            raise EngineError("This workflow instance belongs to another thread; load the state again "
                              "in this thread (a workflow is never shared between threads).")


def _due(task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if not isinstance(value, str):
        return None
    try:
        return TimerEventDefinition.get_datetime(value)
    except ValueError:
        parsed = TimerEventDefinition.parse_time_or_duration(value)
        return parsed if isinstance(parsed, datetime) else None
