"""SpiffWorkflow parsing (phân tích bằng SpiffWorkflow) of an already-checked tree.

:class:`TthcParser` is SpiffWorkflow's plain ``BpmnParser`` (default task spec classes, so the
default serializer applies) with three changes, which let it take files from all three
modellers:

* human tasks keep every camunda:/zeebe:/spiffworkflow: property in
  ``extensions["properties"]`` (each flavour's own parser keeps only its own);
* gateway conditions are stored in the restricted Python form of :mod:`bpmn.expressions`
  (JUEL ``${…}`` and FEEL ``=…`` translated), so the runtime needs one evaluator;
* timer durations are stored as string literals (``'PT4H'``), which that evaluator returns as is.

It is only given trees that :mod:`bpmn.structure` accepted, and never reads bytes itself.

SpiffWorkflow names its task specs by the BPMN ids and adds its own ones to every process spec
(``Start``, ``End``, ``<process>.EndJoin``, …). An element whose id is one of those replaces the
engine's task silently — a start event called ``Start`` leaves the workflow with no way out of
its start, a task called ``End`` is skipped — so :func:`reserved_id` names them for the linter.
"""
from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.event_parsers import BoundaryEventParser
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent, ExclusiveGateway, InclusiveGateway, ManualTask, NoneTask, UserTask,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition

from bpmn.procedure import TaskProfile
from bpmn.profile import read_properties
from bpmn.expressions import compile_condition


def _reserved_names() -> tuple[frozenset[str], tuple[str, ...]]:
    """(exact names, suffixes) SpiffWorkflow gives its own task specs.

    The ones every process spec is created with are read off an empty spec, so a SpiffWorkflow
    upgrade that adds one is caught; the parser's are written in its code: ``StartEventSplit``
    and ``StartEventJoin`` (ProcessParser.add_tasks, several start events),
    ``<id>.BoundaryEventSplit`` / ``<id>.BoundaryEventJoin`` (TaskParser._add_boundary_event),
    ``<id> [child]`` (loops; refused anyway) and ``Root``, the root of older versions that the
    serializer and WorkflowSpec.validate still treat specially.
    """
    probe = "quytrinh-probe"
    names = set(BpmnProcessSpec(name=probe).task_specs)
    exact = {name for name in names if probe not in name} | {"StartEventSplit", "StartEventJoin", "Root"}
    suffixes = {name[len(probe):] for name in names if name.startswith(probe)}
    suffixes |= {".BoundaryEventSplit", ".BoundaryEventJoin", " [child]"}
    return frozenset(exact), tuple(sorted(suffixes))


RESERVED_NAMES, RESERVED_SUFFIXES = _reserved_names()


def reserved_id(element_id: str) -> str | None:
    """The engine's own task name that *element_id* would replace or imitate, or None.

    Case matters, as in SpiffWorkflow: ``start`` and ``Start_1`` are free.
    """
    if element_id in RESERVED_NAMES:
        return element_id
    for suffix in RESERVED_SUFFIXES:
        if element_id.endswith(suffix):
            return f"…{suffix}"
    return None


class ProfiledTaskParser(TaskParser):
    def parse_extensions(self, node=None):
        node = self.node if node is None else node
        profile = self.process_parser.parser.profiles.get(node.get("id"))
        properties = profile.properties if profile is not None else read_properties(node)[0]
        return {"properties": dict(properties)} if properties else {}


class TranslatingGatewayParser(ConditionalGatewayParser):
    def parse_condition(self, sequence_flow):
        expression = sequence_flow.find(full_tag("conditionExpression"))
        text = "".join(expression.itertext()) if expression is not None else ""
        return compile_condition(text).python if text.strip() else None


class TimerBoundaryEventParser(BoundaryEventParser):
    def parse_timer_event(self, event):
        duration = event.find(full_tag("timeDuration"))
        text = (duration.text or "").strip().strip("'\"").strip().upper()
        return DurationTimerEventDefinition(self.node.get("name", self.node.get("id")), repr(text),
                                            description=self.get_event_description(event))


class TthcParser(BpmnParser):
    """``profiles`` (task id -> TaskProfile) saves reading each task's properties twice."""

    def __init__(self, profiles: dict[str, TaskProfile] | None = None) -> None:
        super().__init__()
        self.profiles = profiles or {}

    OVERRIDE_PARSER_CLASSES = {
        full_tag("userTask"): (ProfiledTaskParser, UserTask),
        full_tag("manualTask"): (ProfiledTaskParser, ManualTask),
        full_tag("task"): (ProfiledTaskParser, NoneTask),
        full_tag("exclusiveGateway"): (TranslatingGatewayParser, ExclusiveGateway),
        full_tag("inclusiveGateway"): (TranslatingGatewayParser, InclusiveGateway),
        full_tag("boundaryEvent"): (TimerBoundaryEventParser, BoundaryEvent),
    }


class SpecError(Exception):
    """SpiffWorkflow refused the tree; ``element`` is the offending id when it named one."""

    def __init__(self, element: str | None, too_deep: bool = False) -> None:
        super().__init__(element)
        self.element = element
        self.too_deep = too_deep


def build_specs(root: etree._Element, process_id: str, tasks: dict[str, TaskProfile]):
    """(process spec, {sub-process id: spec}) for *process_id*; SpecError when SpiffWorkflow fails."""
    try:
        parser = TthcParser(tasks)
        parser.add_bpmn_xml(root)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except RecursionError:
        raise SpecError(None, too_deep=True) from None
    except ValidationException as exc:
        too_deep = isinstance(exc.__context__, RecursionError)
        raise SpecError(getattr(exc, "id", None) or None, too_deep=too_deep) from None
    for process_spec in (spec, *subprocess_specs.values()):
        for task_spec in process_spec.task_specs.values():
            profile = tasks.get(getattr(task_spec, "bpmn_id", None))
            if profile is not None:
                task_spec.extensions = {**getattr(task_spec, "extensions", {}), "tthc": profile.tthc()}
    return spec, subprocess_specs
