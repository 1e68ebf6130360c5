"""The parsed procedure (quy trình nội bộ đã phân tích): what the engine runtime reuses.

A :class:`Procedure` is built once per procedure version (``bpmn.parse_procedure``) and holds the
SpiffWorkflow specs together with the TTHC profile, so the runtime never parses the BPMN again
for each dossier.

The specs come from :class:`bpmn.spiff.TthcParser`, a subclass of SpiffWorkflow's plain
``BpmnParser``: task specs are SpiffWorkflow's default classes, so the default
``BpmnWorkflowSerializer`` configuration serialises workflows built from them. Each human task
spec carries ``extensions["properties"]`` (every camunda:/zeebe:/spiffworkflow: property) and
``extensions["tthc"]`` (the resolved lane, role, step and allocation). Gateway conditions in the
spec are already translated to the restricted Python form of :mod:`bpmn.expressions`; timer
durations are string literals (``'PT4H'``) of the same grammar.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from bpmn.graph import FlowGraph
from bpmn.expressions import Condition

#: Values of tthc.step.
RECEIVE = "receive"
VP_REVIEW = "vp_review"
CHAIRMAN_APPROVAL = "chairman_approval"
RETURN_RESULT = "return_result"
STEPS = frozenset({RECEIVE, VP_REVIEW, CHAIRMAN_APPROVAL, RETURN_RESULT})

#: BPMN elements profiled as human steps (a plain ``task`` is a manual step in SpiffWorkflow).
HUMAN_TASKS = frozenset({"userTask", "manualTask", "task"})


@dataclass(frozen=True)
class FormField:
    """A field of a Camunda 7 generated form (camunda:formData/camunda:formField)."""

    id: str
    label: str | None = None
    type: str | None = None
    default: str | None = None
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TaskProfile:
    """A human step (bước xử lý) with its TTHC properties resolved.

    ``allocation_minutes`` is ``None`` when tthc.allocation is missing or unreadable. Only
    ``step`` (tthc.step) carries policy meaning: a ``chu_tich`` role alone does not make a task
    the provincial Chairman's approval (a commune chairman holds that role too).
    """

    id: str
    name: str | None
    kind: str
    lane: str | None
    role: str | None
    step: str | None
    allocation_minutes: int | None
    properties: dict[str, str] = field(default_factory=dict)
    form_fields: tuple[FormField, ...] = ()

    def tthc(self) -> dict[str, Any]:
        """The resolved profile as plain data (stored in the task spec's extensions)."""
        return {"lane": self.lane, "role": self.role, "step": self.step,
                "allocation_minutes": self.allocation_minutes,
                "form_fields": [vars(f) | {"options": [list(o) for o in f.options]}
                                for f in self.form_fields]}


@dataclass(frozen=True)
class ProcessProfile:
    """The process-level TTHC properties, after any override from the upload form or CLI."""

    id: str
    name: str | None
    code: str | None
    authority: str | None
    legal_days: Fraction | None
    reduction: Fraction
    legal_minutes: int | None
    target_minutes: int | None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class Procedure:
    """Everything the engine needs from one procedure version, parsed once."""

    process: ProcessProfile
    tasks: dict[str, TaskProfile]
    spec: Any  # SpiffWorkflow BpmnProcessSpec
    subprocess_specs: dict[str, Any]
    conditions: dict[str, Condition]  # sequence flow id -> checked condition
    allocated_minutes: int
    critical_path: tuple[str, ...]
    #: The flattened flow graph (bpmn.graph.FlowGraph) the policy checks ran on; the runtime
    #: guard reads it, so that the project has one definition of the flow graph.
    graph: FlowGraph | None = None

    @property
    def process_id(self) -> str:
        return self.process.id

    def task(self, task_id: str) -> TaskProfile:
        return self.tasks[task_id]
