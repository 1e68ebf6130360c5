"""The structure of a BPMN document (cấu trúc quy trình): which elements, how they connect.

:func:`read_model` walks the parsed tree once, picks the executable process, checks every
reference (ids, sequence flows, default flows, boundary attachments) and refuses the elements
the engine cannot run, naming each by id and type. Only a model without such errors is handed
to SpiffWorkflow, so the designer reads our message instead of a library's.

Supported flow elements: startEvent (none), endEvent (none or terminate), userTask, manualTask,
task, scriptTask (parsed, then refused as SCRIPT_FORBIDDEN), exclusiveGateway, parallelGateway,
inclusiveGateway, embedded subProcess, and timer boundaryEvent with a duration (timeDuration).
Everything else — serviceTask, sendTask, receiveTask, businessRuleTask, callActivity,
eventBasedGateway, complexGateway, transaction, adHocSubProcess, event sub-processes,
intermediate events, message/signal/timer/conditional start events, error/escalation/message/
signal end events, loops and multi-instance — is BPMN_UNSUPPORTED.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from bpmn.i18n import N_, message
from bpmn.loader import BPMN_NS
from bpmn.report import BPMN_INVALID, BPMN_UNSUPPORTED, ID_RESERVED, XML_UNSAFE, Report
from bpmn.spiff import reserved_id

_B = f"{{{BPMN_NS}}}"
ACTIVITIES = frozenset({"userTask", "manualTask", "task", "scriptTask", "subProcess"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway"})
CONDITIONAL_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway"})
SUPPORTED_NODES = ACTIVITIES | GATEWAYS | {"startEvent", "endEvent", "boundaryEvent"}
KNOWN_UNSUPPORTED = frozenset({
    "serviceTask", "sendTask", "receiveTask", "businessRuleTask", "callActivity",
    "eventBasedGateway", "complexGateway", "transaction", "adHocSubProcess",
    "intermediateCatchEvent", "intermediateThrowEvent", "dataStoreReference", "callChoreography",
    "choreographyTask", "subChoreography", "implicitThrowEvent",
})
_IGNORED_CHILDREN = frozenset({
    "documentation", "extensionElements", "laneSet", "textAnnotation", "association", "group",
    "dataObject", "dataObjectReference", "ioSpecification", "property", "auditing", "monitoring",
    "category", "supports", "correlationSubscription", "resourceRole", "performer",
    "potentialOwner", "humanPerformer", "dataInputAssociation", "dataOutputAssociation",
    "incoming", "outgoing", "extension",
})
_TRIGGER_DEFINITIONS = frozenset({
    "messageEventDefinition", "timerEventDefinition", "signalEventDefinition",
    "conditionalEventDefinition", "errorEventDefinition", "escalationEventDefinition",
    "compensateEventDefinition", "cancelEventDefinition", "linkEventDefinition",
    "terminateEventDefinition", "eventDefinitionRef",
})
# An ISO 8601 duration, bare (Camunda) or quoted (SpiffWorkflow's Python form).
_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?", re.I)
_NCNAME = re.compile(r"[^\W\d][\w.\-]*\Z")
#: The longest flow element id and name: the worklist stores a step's id and name in columns of
#: this size (dossier_steps.spec_id, .name; tests/unit/bpmn/test_engine_ids.py keeps them in step).
MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 500
_FLOW_NODES = SUPPORTED_NODES | KNOWN_UNSUPPORTED
_XINCLUDE = "{http://www.w3.org/2001/XInclude}include"
_ID_NAMESPACES = (f"{_B}*", "{http://www.omg.org/spec/BPMN/20100524/DI}*",
                  "{http://www.omg.org/spec/DD/20100524/DI}*", "{http://www.omg.org/spec/DD/20100524/DC}*")


@dataclass
class FlowNode:
    id: str
    kind: str  # BPMN local name: userTask, exclusiveGateway, …
    name: str | None
    element: etree._Element
    scope: str  # id of the process or sub-process that contains it
    lane: str | None = None


@dataclass
class SequenceFlow:
    id: str
    source: str
    target: str
    element: etree._Element
    condition: str | None = None  # the conditionExpression text, as written
    language: str | None = None
    resource: str | None = None  # camunda:resource: a script kept in another file


@dataclass
class Model:
    """The executable process as a graph of BPMN elements (sub-processes not yet flattened)."""

    process: etree._Element
    process_id: str
    process_name: str | None
    participant: etree._Element | None
    nodes: dict[str, FlowNode] = field(default_factory=dict)
    flows: dict[str, SequenceFlow] = field(default_factory=dict)
    outgoing: dict[str, list[str]] = field(default_factory=dict)
    incoming: dict[str, list[str]] = field(default_factory=dict)
    boundaries: dict[str, list[str]] = field(default_factory=dict)  # host id -> boundary ids
    children: dict[str, list[str]] = field(default_factory=dict)  # scope id -> node ids
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (kind, scope), reported
    refused_flows: set[str] = field(default_factory=set)  # flows touching a refused element

    def name_of(self, element_id: str) -> str:
        node = self.nodes.get(element_id)
        return (node.name or element_id) if node else element_id

    def starts(self, scope: str) -> list[str]:
        return [n for n in self.children.get(scope, []) if self.nodes[n].kind == "startEvent"]

    def ends(self, scope: str) -> list[str]:
        return [n for n in self.children.get(scope, []) if self.nodes[n].kind == "endEvent"]


def local(element: etree._Element) -> str | None:
    """The BPMN local name of *element*, or None for elements of other namespaces."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith(_B):
        return tag[len(_B):]
    return None


def _check_document(root: etree._Element, report: Report) -> None:
    if root.find(f".//{_XINCLUDE}") is not None or root.find(f"{_B}import") is not None:
        report.error(XML_UNSAFE, None, message(
            N_("The file refers to other documents (XInclude or bpmn:import); external references are not allowed.")))
    seen: set[str] = set()
    # Only BPMN and diagram elements have document-wide ids; extension elements (a form
    # field's id, for instance) are names local to their owner.
    for element in root.iter(*_ID_NAMESPACES):
        element_id = element.get("id")
        if element_id is None:
            kind = local(element)
            if kind in SUPPORTED_NODES or kind in KNOWN_UNSUPPORTED or kind in (
                    "sequenceFlow", "process", "message", "signal", "error", "escalation"):
                report.error(BPMN_INVALID, None, message(
                    N_("Element <%(tag)s> at line %(line)s has no id."), tag=kind, line=element.sourceline))
            continue
        if not _NCNAME.match(element_id):
            report.error(BPMN_INVALID, None, message(
                N_("The id '%(id)s' at line %(line)s is not a valid XML name."),
                id=element_id[:80], line=element.sourceline))
        elif element_id in seen:
            report.error(BPMN_INVALID, element_id, message(
                N_("The id '%(id)s' is used by more than one element."), id=element_id))
        elif local(element) in _FLOW_NODES:
            _check_node_id(element, element_id, report)
        seen.add(element_id)
    # Data stores need an implementation and correlations belong to messages: neither runs here.
    for tag in ("dataStore", "correlationProperty"):
        for element in root.iterfind(f"{_B}{tag}"):
            _unsupported(report, element)


def _check_node_id(element: etree._Element, element_id: str, report: Report) -> None:
    """A flow element's id and name must be usable by the engine and fit the worklist, in every
    process of the file (the engine builds sub-processes, and any process may be made executable)."""
    kind = local(element)
    reserved = reserved_id(element_id)
    if reserved is not None:
        report.error(ID_RESERVED, element_id, message(
            N_("The id '%(id)s' of %(type)s '%(name)s' is reserved by the workflow engine, which names "
               "its own task '%(reserved)s': the element would replace it and the procedure could not "
               "run. Rename the element (for example '%(suggestion)s')."),
            id=element_id, type=kind, name=element.get("name") or element_id, reserved=reserved,
            suggestion=f"{kind[0].upper()}{kind[1:]}_{element_id.replace('.', '_')}"[:MAX_ID_LENGTH]))
    elif len(element_id) > MAX_ID_LENGTH:
        report.error(BPMN_INVALID, element_id, message(
            N_("The id of %(type)s at line %(line)s is %(length)s characters long; at most %(limit)s "
               "are allowed."), type=kind, line=element.sourceline, length=len(element_id),
            limit=MAX_ID_LENGTH))
    name = element.get("name")
    if name is not None and len(name) > MAX_NAME_LENGTH:
        report.error(BPMN_INVALID, element_id, message(
            N_("The name of '%(id)s' (%(type)s) is %(length)s characters long; at most %(limit)s are "
               "allowed."), id=element_id[:80], type=kind, length=len(name), limit=MAX_NAME_LENGTH))


def _pick_process(root: etree._Element, report: Report) -> etree._Element | None:
    candidates = [p for p in root.findall(f"{_B}process")
                  if p.get("isExecutable", "true") != "false"
                  and any(local(child) in SUPPORTED_NODES or local(child) in KNOWN_UNSUPPORTED
                          for child in p)]
    if not candidates:
        report.error(BPMN_INVALID, None, message(
            N_("The file has no executable process (a process with isExecutable=\"true\" and flow elements).")))
        return None
    for extra in candidates[1:]:
        report.error(BPMN_UNSUPPORTED, extra.get("id"), message(
            N_("The file has several executable processes ('%(first)s', '%(other)s'); "
               "the engine runs one process per procedure."),
            first=candidates[0].get("id"), other=extra.get("id")))
    return candidates[0]


def _unsupported(report: Report, element: etree._Element, reason: str | None = None) -> None:
    kind = local(element) or etree.QName(element).localname
    if reason:
        report.error(BPMN_UNSUPPORTED, element.get("id"), message(
            N_("Element '%(id)s' (%(type)s) is not supported by the engine: %(reason)s."),
            id=element.get("id"), type=kind, reason=message(reason)))
    else:
        report.error(BPMN_UNSUPPORTED, element.get("id"), message(
            N_("Element '%(id)s' (%(type)s) is not supported by the engine."),
            id=element.get("id"), type=kind))


def _definitions(element: etree._Element) -> list[str]:
    return [local(child) for child in element if local(child) in _TRIGGER_DEFINITIONS]


def _check_node(element: etree._Element, kind: str, report: Report) -> bool:
    """Refuse the variants of supported elements the engine cannot run; True when usable."""
    if kind in ACTIVITIES:
        for child in element:
            if local(child) in ("standardLoopCharacteristics", "multiInstanceLoopCharacteristics"):
                _unsupported(report, element, N_("loops and multi-instance activities"))
                return False
        if kind == "subProcess" and element.get("triggeredByEvent") == "true":
            _unsupported(report, element, N_("event sub-processes"))
            return False
    definitions = _definitions(element)
    if kind == "startEvent" and definitions:
        _unsupported(report, element, N_("start events with a trigger (message, timer, signal…); "
                                         "use a plain start event"))
        return False
    if kind == "endEvent" and definitions not in ([], ["terminateEventDefinition"]):
        _unsupported(report, element, N_("end events other than plain and terminate end events"))
        return False
    return True


def _check_timer(element: etree._Element, report: Report) -> bool:
    definitions = _definitions(element)
    if definitions != ["timerEventDefinition"]:
        _unsupported(report, element, N_("boundary events other than timers"))
        return False
    timer = element.find(f"{_B}timerEventDefinition")
    duration = timer.find(f"{_B}timeDuration")
    if duration is None:
        _unsupported(report, element, N_("timers other than a duration (timeDuration)"))
        return False
    text = (duration.text or "").strip().strip("'\"").strip()
    if not _DURATION.fullmatch(text):
        report.error(BPMN_UNSUPPORTED, element.get("id"), message(
            N_("Timer '%(id)s': the duration '%(value)s' is not an ISO 8601 duration such as PT4H or P2D."),
            id=element.get("id"), value=text[:60]))
        return False
    return True


def _walk_scope(scope: etree._Element, model: Model, report: Report) -> None:
    """Collect the nodes and flows of the process and its sub-processes, without recursion."""
    pending = [scope]
    while pending:
        current = pending.pop()
        scope_id = current.get("id")
        model.children.setdefault(scope_id, [])
        for child in current:
            kind = local(child)
            child_id = child.get("id")
            if kind is None or kind in _IGNORED_CHILDREN:
                continue
            if kind == "sequenceFlow":
                if child_id:
                    model.flows[child_id] = _read_flow(child)
                continue
            if not child_id:
                continue  # reported with the document's ids
            if kind not in SUPPORTED_NODES:
                _unsupported(report, child)
                model.refused[child_id] = (kind, scope_id)
                continue
            if not _check_node(child, kind, report) or (kind == "boundaryEvent" and not _check_timer(child, report)):
                model.refused[child_id] = (kind, scope_id)
                continue
            model.nodes[child_id] = FlowNode(child_id, kind, child.get("name"), child, scope_id)
            model.children[scope_id].append(child_id)
            if kind == "subProcess":
                pending.append(child)


def _read_flow(element: etree._Element) -> SequenceFlow:
    expression = element.find(f"{_B}conditionExpression")
    condition = language = resource = None
    if expression is not None:
        condition = "".join(expression.itertext())
        language = expression.get("language")
        resource = expression.get("{http://camunda.org/schema/1.0/bpmn}resource")
    return SequenceFlow(element.get("id"), element.get("sourceRef") or "", element.get("targetRef") or "",
                        element, condition, language, resource)


def _link(model: Model, report: Report) -> None:
    for flow in list(model.flows.values()):
        scope = model.nodes[flow.source].scope if flow.source in model.nodes else None
        for end, ref in (("sourceRef", flow.source), ("targetRef", flow.target)):
            node = model.nodes.get(ref)
            if not ref or node is None or (scope is not None and node.scope != scope):
                if ref in model.refused:
                    model.refused_flows.add(flow.id)
                    break  # the element itself is already reported
                report.error(BPMN_INVALID, flow.id, message(
                    N_("Sequence flow '%(flow)s': %(end)s '%(ref)s' is not a flow element of the same process."),
                    flow=flow.id, end=end, ref=ref or "—"))
                break
        else:
            model.outgoing.setdefault(flow.source, []).append(flow.id)
            model.incoming.setdefault(flow.target, []).append(flow.id)
            continue
        del model.flows[flow.id]


def _check_connections(model: Model, report: Report) -> None:
    for node in model.nodes.values():
        out = model.outgoing.get(node.id, [])
        if node.kind == "endEvent" and out:
            report.error(BPMN_INVALID, node.id, message(
                N_("End event '%(id)s' has outgoing sequence flows."), id=node.id))
        if node.kind in ("startEvent", "boundaryEvent") and model.incoming.get(node.id):
            report.error(BPMN_INVALID, node.id, message(
                N_("'%(id)s' (%(type)s) cannot have incoming sequence flows."), id=node.id, type=node.kind))
        if (node.kind in ACTIVITIES or node.kind == "boundaryEvent") and len(out) > 1:
            report.error(BPMN_UNSUPPORTED, node.id, message(
                N_("'%(id)s' (%(type)s) has %(count)s outgoing sequence flows; split the flow with a gateway."),
                id=node.id, type=node.kind, count=len(out)))
        default = node.element.get("default")
        if default is not None and default not in out and default not in model.refused_flows:
            report.error(BPMN_INVALID, node.id, message(
                N_("'%(id)s' names '%(flow)s' as its default flow, but that is not one of its outgoing flows."),
                id=node.id, flow=default))
        if node.kind == "boundaryEvent":
            host = model.nodes.get(node.element.get("attachedToRef") or "")
            if host is None or host.kind not in ACTIVITIES or host.scope != node.scope:
                report.error(BPMN_INVALID, node.id, message(
                    N_("Boundary event '%(id)s' is attached to '%(ref)s', which is not an activity of the same process."),
                    id=node.id, ref=node.element.get("attachedToRef") or "—"))
            else:
                model.boundaries.setdefault(host.id, []).append(node.id)
    for scope_id in model.children:
        is_process = scope_id == model.process_id
        starts, ends = model.starts(scope_id), model.ends(scope_id)
        refused_start = any(kind == "startEvent" and scope == scope_id for kind, scope in model.refused.values())
        if not starts and not refused_start:
            report.error(BPMN_INVALID, scope_id, message(
                N_("'%(id)s' has no start event."), id=scope_id))
        elif not is_process and len(starts) > 1:
            report.error(BPMN_UNSUPPORTED, scope_id, message(
                N_("Sub-process '%(id)s' has %(count)s start events; the engine needs exactly one."),
                id=scope_id, count=len(starts)))
        if not is_process and not ends:
            report.error(BPMN_INVALID, scope_id, message(
                N_("Sub-process '%(id)s' has no end event."), id=scope_id))


def _assign_lanes(model: Model) -> None:
    # Document order visits a lane before its child lanes, so the innermost lane wins.
    for lane in model.process.iter(f"{_B}lane"):
        for ref in lane.findall(f"{_B}flowNodeRef"):
            node = model.nodes.get((ref.text or "").strip())
            if node is not None:
                node.lane = lane.get("name")
    # Each scope once: with duplicate ids (reported, but the model is still read) a sub-process
    # can carry its own or the process's id, and the walk would never end.
    pending, seen = [model.process_id], {model.process_id}
    while pending:
        scope = pending.pop()
        for node_id in model.children.get(scope, []):
            node = model.nodes[node_id]
            if node.lane is None and scope in model.nodes:
                node.lane = model.nodes[scope].lane
            if node.kind == "subProcess" and node_id not in seen:
                seen.add(node_id)
                pending.append(node_id)


def read_model(root: etree._Element, report: Report) -> Model | None:
    """The executable process of *root*; structural problems are added to *report*.

    Returns None when there is no process to work on at all; otherwise the model, which is
    only fit for SpiffWorkflow when the report has no XML_UNSAFE/BPMN_INVALID/BPMN_UNSUPPORTED.
    """
    _check_document(root, report)
    process = _pick_process(root, report)
    if process is None or not process.get("id"):
        return None
    participant = next((p for p in root.iterfind(f"{_B}collaboration/{_B}participant")
                        if p.get("processRef") == process.get("id")), None)
    model = Model(process, process.get("id"), process.get("name"), participant)
    report.process_id, report.process_name = model.process_id, model.process_name
    _walk_scope(process, model, report)
    _link(model, report)
    _check_connections(model, report)
    _assign_lanes(model)
    return model
