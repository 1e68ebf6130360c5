"""One procedure version at run time (quy trình nội bộ khi vận hành): parsed once, shared by threads.

A :class:`ProcedureRuntime` holds the SpiffWorkflow specs of one version, parsed once by
``bpmn.parse_procedure``, and what the instances need to know about them (task order, the
guard's rule, which flow each gateway condition belongs to). After ``__init__`` nothing in it
changes, so any number of threads may start and load instances from it at the same time; each
instance gets its own workflow and script engine.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException

from bpmn import InvalidOption, Procedure, ProcedureError, TaskProfile, parse_procedure
from bpmn.checks import VP_AUTHORITIES
from bpmn.workflow.script import ConditionError, RestrictedScriptEngine
from bpmn.workflow.start import prepare_specs, start_workflow, utc
from bpmn.workflow.state import History, dump_state, load_state
from engine.runtime.errors import EngineError, InvalidTaskData
from engine.runtime.guard import ReviewRule, rule_for
from engine.runtime.instance import Instance

#: The start variable the approval flow reads to skip the Văn phòng (bpmn/library/README.md).
REQUIRES_VP_REVIEW = "requires_vp_review"


class ProcedureRuntime:
    """One per procedure version: the parsed specs and the serializer; immutable after init."""

    def __init__(self, procedure: Procedure, fingerprint: str) -> None:
        self._procedure = procedure
        self._fingerprint = fingerprint
        specs = [procedure.spec, *procedure.subprocess_specs.values()]
        self._timer_count = prepare_specs(procedure.spec, procedure.subprocess_specs)
        self.rule: ReviewRule = rule_for(procedure)
        self.order = {task_id: index for index, task_id in enumerate(procedure.tasks)}
        #: Names read by any gateway condition: only a form that declares them may submit them.
        self.routed = frozenset().union(*(c.names for c in procedure.conditions.values()))
        graph = procedure.graph
        #: (gateway id, condition text as in the spec) -> sequence flow id, to name the flow.
        self.condition_flows: dict[tuple[str, str], str] = {}
        #: boundary event id -> id of the activity it is attached to.
        self.boundary_hosts: dict[str, str] = {}
        for source, edges in graph.out.items():
            for edge in edges:
                condition = procedure.conditions.get(edge.flow) if edge.flow else None
                if condition is not None:
                    self.condition_flows[(source, condition.python)] = edge.flow
                if edge.boundary:
                    self.boundary_hosts.setdefault(edge.target, source)
        self.end_events = frozenset(
            task_spec.bpmn_id for spec in specs for task_spec in spec.task_specs.values()
            if isinstance(task_spec, EndEvent))

    @classmethod
    def from_bpmn(cls, data: bytes, *, legal_days: Any = None, authority: Any = None,
                  reduction: Any = None) -> ProcedureRuntime:
        """Parse *data* (the version's BPMN bytes, with the upload form's overrides if any).

        EngineError when it cannot run: unreadable, unsupported, containing code. Policy
        findings (budget, VP review) do not stop it; publishing is gated on the lint report.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise EngineError(f"The BPMN must be bytes, not {type(data).__name__}.")
        data = bytes(data)
        try:
            procedure = parse_procedure(data, legal_days=legal_days, authority=authority, reduction=reduction)
        except InvalidOption as exc:
            raise EngineError(str(exc), field=getattr(exc, "option", None)) from None
        except ProcedureError as exc:
            first = exc.report.errors[0] if exc.report.errors else None
            text = first.message.render("en") if first is not None else "the file could not be parsed"
            raise EngineError(f"The procedure cannot be run ({exc}): {text}",
                              element=first.element if first is not None else None) from None
        return cls(procedure, hashlib.sha256(data).hexdigest())

    @property
    def procedure(self) -> Procedure:
        return self._procedure

    def spec_fingerprint(self) -> str:
        """sha256 (hex) of the BPMN bytes; stored in every dumped state and checked on load."""
        return self._fingerprint

    @property
    def has_timers(self) -> bool:
        """Whether any timer event exists, so background jobs can skip other versions' dossiers."""
        return self._timer_count > 0

    def human_task(self, spec_id: str) -> TaskProfile:
        try:
            return self._procedure.tasks[spec_id]
        except KeyError:
            raise EngineError(f"'{spec_id}' is not a step of this procedure.", element=spec_id) from None

    def review_required(self, start_data: dict[str, Any]) -> bool:
        """The Văn phòng review is required for authorities ubnd_tinh / chu_tich_ubnd_tinh, and
        for the approval flow when the services started it with ``requires_vp_review`` true."""
        return (self._procedure.process.authority in VP_AUTHORITIES
                or start_data.get(REQUIRES_VP_REVIEW) is True)

    def start(self, data: dict | None = None, *, now: datetime | None = None) -> Instance:
        """A new workflow with *data* as start variables, run until its first human task(s).

        *now* is the clock timers start from (default: the wall clock).
        """
        # The linter ran this same function on this version before it could be published
        # (bpmn.workflow.start.trial_start), so what fails here is the dossier's data.
        try:
            workflow = start_workflow(self._procedure.spec, self._procedure.subprocess_specs, data, now=now)
        except Exception as exc:
            translated = self.translate_error(exc)
            if translated is None:
                raise
            raise translated from None
        return Instance(self, workflow, [], None)

    def load(self, state: str | bytes) -> Instance:
        """The instance of a dumped state (StateError when it is not this version's)."""
        workflow, history = self.load_parts(state)
        return Instance(self, workflow, history, state if isinstance(state, str) else None)

    # --- used by Instance ------------------------------------------------------------------

    def script_engine(self, now: datetime | None = None) -> RestrictedScriptEngine:
        return RestrictedScriptEngine(utc(now))

    def load_parts(self, state: str | bytes) -> tuple[BpmnWorkflow, History]:
        return load_state(state, self._fingerprint, self._procedure.spec, self._procedure.subprocess_specs,
                          self.script_engine())

    def dump_parts(self, workflow: BpmnWorkflow, history: History) -> str:
        return dump_state(workflow, self._fingerprint, history)

    def translate_error(self, exc: Exception) -> EngineError | None:
        """The EngineError for a failure inside SpiffWorkflow's run, or None for our own bugs."""
        if isinstance(exc, ConditionError):
            flow = self.condition_flows.get((exc.gateway, exc.expression))
            names = sorted(exc.names)
            return InvalidTaskData(
                f"Gateway '{exc.gateway}' cannot decide: the condition on flow '{flow or '?'}' "
                f"({exc.expression}) fails on the submitted data ({exc.message}).",
                field=names[0] if names else None, element=flow or exc.gateway)
        if isinstance(exc, EngineError):
            return exc
        if isinstance(exc, SpiffWorkflowException):
            spec = getattr(exc, "task_spec", None) or getattr(getattr(exc, "task", None), "task_spec", None)
            element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
            read = sorted({name for (gateway, text), flow in self.condition_flows.items() if gateway == element
                           for name in self.procedure.conditions[flow].names})
            if read:
                return InvalidTaskData(
                    f"Gateway '{element}' cannot choose a flow: no condition holds for "
                    f"{', '.join(read)} and it has no default flow.", field=read[0], element=element)
            return EngineError(f"The workflow could not continue at '{element}': {exc}", element=element)
        return None
