"""Small BPMN documents in the three modeller flavours, from one description.

A procedure is described once (nodes, flows, lanes, properties, conditions written in the
Python form) and written out the way each tool saves it: Camunda Modeler 5 for Camunda 7
(camunda:properties, JUEL conditions), Camunda Modeler 5 for Camunda 8 (zeebe:properties,
zeebe:userTask, FEEL conditions) and SpiffArena (spiffworkflow:properties, Python conditions).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

FLAVOURS = ("camunda", "zeebe", "spiff")

_NAMESPACES = {
    "camunda": ('xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
                'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
                'exporter="Camunda Modeler" exporterVersion="5.28.0" '
                'modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.22.0"'),
    "zeebe": ('xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
              'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
              'exporter="Camunda Modeler" exporterVersion="5.36.1" '
              'modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.7.0"'),
    "spiff": ('xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
              'exporter="Camunda Modeler" exporterVersion="3.0.0-dev"'),
}
_PREFIX = {"camunda": "camunda", "zeebe": "zeebe", "spiff": "spiffworkflow"}


@dataclass
class Node:
    id: str
    kind: str = "userTask"
    name: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    lane: str | None = None
    body: str = ""  # extra child XML (event definitions, loop characteristics …)
    ext: str = ""  # extra XML inside extensionElements (listeners, scripts …)
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Flow:
    id: str
    source: str
    target: str
    condition: str | None = None  # Python form; translated per flavour
    raw_condition: str | None = None  # written verbatim (already in the flavour's syntax)


def feel(python_condition: str) -> str:
    """``decision == 'approve'`` → ``=decision = "approve"`` (only for the simple test conditions)."""
    return "=" + python_condition.replace("==", "=").replace("'", '"')


def condition_text(flavour: str, python_condition: str) -> str:
    if flavour == "camunda":
        return "${" + python_condition + "}"
    if flavour == "zeebe":
        return feel(python_condition)
    return python_condition


def properties_xml(flavour: str, props: dict[str, str]) -> str:
    if not props:
        return ""
    p = _PREFIX[flavour]
    items = "".join(f'<{p}:property name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in props.items())
    return f"<{p}:properties>{items}</{p}:properties>"


def node_xml(flavour: str, node: Node) -> str:
    attrs = f' id="{node.id}"'
    if node.name is not None:
        attrs += f" name={quoteattr(node.name)}"
    attrs += "".join(f" {k}={quoteattr(v)}" for k, v in node.attrs.items())
    extensions = properties_xml(flavour, node.props) + node.ext
    if flavour == "zeebe" and node.kind == "userTask":
        extensions = "<zeebe:userTask/>" + extensions
    inner = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>" if extensions else ""
    return f"<bpmn:{node.kind}{attrs}>{inner}{node.body}</bpmn:{node.kind}>"


def flow_xml(flavour: str, flow: Flow) -> str:
    text = flow.raw_condition
    if text is None and flow.condition is not None:
        text = condition_text(flavour, flow.condition)
    if text is None:
        return f'<bpmn:sequenceFlow id="{flow.id}" sourceRef="{flow.source}" targetRef="{flow.target}"/>'
    xsi = ' xsi:type="bpmn:tFormalExpression"' if flavour != "spiff" else ""
    return (f'<bpmn:sequenceFlow id="{flow.id}" sourceRef="{flow.source}" targetRef="{flow.target}">'
            f"<bpmn:conditionExpression{xsi}>{escape(text)}</bpmn:conditionExpression></bpmn:sequenceFlow>")


def document(flavour: str, nodes: list[Node], flows: list[Flow], process_props: dict[str, str] | None = None,
             *, process_id: str = "Process_1", extra_process_xml: str = "", extra_definitions_xml: str = "",
             prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    """The BPMN document, with a collaboration and one lane per distinct lane name."""
    lanes: dict[str, list[str]] = {}
    for node in nodes:
        if node.lane:
            lanes.setdefault(node.lane, []).append(node.id)
    lane_xml = ""
    if lanes:
        lane_xml = '<bpmn:laneSet id="LaneSet_1">' + "".join(
            f'<bpmn:lane id="Lane_{i}" name={quoteattr(name)}>'
            + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs) + "</bpmn:lane>"
            for i, (name, refs) in enumerate(lanes.items())) + "</bpmn:laneSet>"
    props = properties_xml(flavour, process_props or {})
    process_ext = f"<bpmn:extensionElements>{props}</bpmn:extensionElements>" if props else ""
    body = "".join(node_xml(flavour, n) for n in nodes) + "".join(flow_xml(flavour, f) for f in flows)
    text = (
        f'{prolog}<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'{_NAMESPACES[flavour]} id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">'
        f'<bpmn:collaboration id="Collaboration_1"><bpmn:participant id="Participant_1" name="UBND tỉnh" '
        f'processRef="{process_id}"/></bpmn:collaboration>'
        f'<bpmn:process id="{process_id}" name="Thủ tục thử" isExecutable="true">'
        f"{process_ext}{lane_xml}{body}{extra_process_xml}</bpmn:process>{extra_definitions_xml}</bpmn:definitions>"
    )
    return text.encode("utf-8")


# --- the reference procedure ------------------------------------------------------------------

BASE_PROCESS_PROPS = {"tthc.code": "1.004227", "tthc.legal_days": "5",
                      "tthc.authority": "chu_tich_ubnd_tinh", "tthc.reduction": "0.3"}


def base_nodes() -> list[Node]:
    """Receive 2h → appraise 1d → VP review 4h → gateway → Chairman 4h → return 0 → end."""
    return [
        Node("StartEvent_1", "startEvent", "Hồ sơ đến", lane="Bộ phận Một cửa"),
        Node("Task_TiepNhan", "userTask", "Tiếp nhận hồ sơ",
             {"tthc.allocation": "2h", "tthc.step": "receive"}, lane="Bộ phận Một cửa"),
        Node("Task_ThamDinh", "userTask", "Thẩm định hồ sơ", {"tthc.allocation": "1d"}, lane="Chuyên viên"),
        Node("Task_VP", "userTask", "Văn phòng thẩm tra",
             {"tthc.allocation": "4h", "tthc.step": "vp_review"}, lane="Chuyên viên VP UBND"),
        Node("Gateway_KetQua", "exclusiveGateway", "Kết quả thẩm tra?", attrs={"default": "Flow_TraLai"},
             lane="Chuyên viên VP UBND"),
        Node("Task_ChuTich", "userTask", "Chủ tịch ký quyết định",
             {"tthc.allocation": "4h", "tthc.step": "chairman_approval"}, lane="Chủ tịch UBND tỉnh"),
        Node("Task_TraKetQua", "userTask", "Trả kết quả",
             {"tthc.allocation": "0", "tthc.step": "return_result"}, lane="Bộ phận Một cửa"),
        Node("EndEvent_1", "endEvent", "Đã trả kết quả", lane="Bộ phận Một cửa"),
    ]


def base_flows() -> list[Flow]:
    return [
        Flow("Flow_1", "StartEvent_1", "Task_TiepNhan"),
        Flow("Flow_2", "Task_TiepNhan", "Task_ThamDinh"),
        Flow("Flow_3", "Task_ThamDinh", "Task_VP"),
        Flow("Flow_4", "Task_VP", "Gateway_KetQua"),
        Flow("Flow_DongY", "Gateway_KetQua", "Task_ChuTich", condition="decision == 'approve'"),
        Flow("Flow_TraLai", "Gateway_KetQua", "Task_ThamDinh"),
        Flow("Flow_5", "Task_ChuTich", "Task_TraKetQua"),
        Flow("Flow_6", "Task_TraKetQua", "EndEvent_1"),
    ]


BASE_MINUTES = 120 + 480 + 240 + 240  # the longest path of the reference procedure
BASE_PATH = ["StartEvent_1", "Task_TiepNhan", "Task_ThamDinh", "Task_VP", "Gateway_KetQua",
             "Task_ChuTich", "Task_TraKetQua", "EndEvent_1"]


def base(flavour: str, **kwargs) -> bytes:
    return document(flavour, base_nodes(), base_flows(), dict(BASE_PROCESS_PROPS), **kwargs)


def node(nodes: list[Node], node_id: str) -> Node:
    return next(n for n in nodes if n.id == node_id)
