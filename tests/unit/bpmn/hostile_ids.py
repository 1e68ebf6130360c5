"""Procedures with hostile ids, for the property "lint-clean ⇒ a dossier runs to the end" (issue 11).

One hypothesis strategy, :func:`procedures`, draws a variant of the builder's reference procedure
(receive → appraise → VP review → gateway → Chairman → return result) in which any element may get
a hostile id: the names SpiffWorkflow reserves (``Start``, ``End``, ``<id>.EndJoin`` …) and their
case variants, Unicode (Vietnamese, CJK, right-to-left, decomposed accents), ids near and over the
worklist's 200-character column, ids that differ from another only by case, duplicates — inside
the process, in an embedded sub-process, in a second process. :class:`Drawn` keeps what the test
needs to drive the result: the human steps in the order an all-approving dossier meets them.
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from tests.unit.bpmn.builder import BASE_PROCESS_PROPS, Flow, Node, base_flows, base_nodes, document, flow_xml, node_xml

#: The human steps of the reference procedure as an all-approving dossier meets them.
BASE_STEPS = ("Task_TiepNhan", "Task_ThamDinh", "Task_VP", "Task_ChuTich", "Task_TraKetQua")
APPROVE = {"decision": "approve"}

_RESERVED = ["Start", "End", "Root", "StartEventSplit", "StartEventJoin", "Process_1.EndJoin",
             "Sub_1.EndJoin", "Task_ThamDinh.BoundaryEventSplit", "Task_ThamDinh.BoundaryEventJoin",
             "x.EndJoin", "Start.EndJoin"]
# Close to the reserved names but free: SpiffWorkflow's names are case-sensitive and exact.
_NEAR_RESERVED = ["start", "START", "end", "END", "root", "Start_1", "End_", "_Start", "EndJoin",
                  "Process_1.endjoin", "BoundaryEventSplit", "StartEvent", "EndEvent", "Start.End",
                  "typename", "data", "task_spec", "Process_1_", "Sub_1"]
_LETTERS = ("abcxyzABCXYZ" "ăâđêôơưĂÂĐÊÔƠƯ" "áàảãạếềểễệốồổỗộứừửữự" "тиếпнhận" "受理审批" "مرحلة" "שלב" "Ωλ")
_TAIL = _LETTERS + "0123456789_.-"
_JUNK = ["", "1abc", "x y", "a/b", "a:b", "-x", ".x", "Task\u200fRTL", "emoji🙂", "tab\tid",
         "Tie\u0301p_nha\u0323n",  # decomposed accents (NFD): combining marks are not name characters here
         "a·b", "x" * 201, "受" * 1000]


def legal_ids():
    """Ids that should be usable: Unicode names, the near-reserved ones, long ones within 200."""
    unicode_ids = st.builds(lambda first, rest: first + rest, st.sampled_from(_LETTERS),
                            st.text(alphabet=_TAIL, max_size=24))
    long_ids = st.builds(lambda char, n: char * n, st.sampled_from(["a", "ệ", "受", "_"]),
                         st.sampled_from([150, 199, 200]))
    return st.one_of(unicode_ids, unicode_ids, st.sampled_from(_NEAR_RESERVED), long_ids)


def hostile_ids():
    """Ids the engine cannot take, or that are not names at all."""
    return st.one_of(st.sampled_from(_RESERVED), st.sampled_from(_JUNK))


def ids():
    return st.one_of(legal_ids(), legal_ids(), hostile_ids())


@dataclass
class Drawn:
    data: bytes
    steps: tuple[str, ...]  # the human step ids, in the order an all-approving dossier meets them
    description: str


def _rename(nodes: list[Node], flows: list[Flow], mapping: dict[str, str]) -> None:
    for n in nodes:
        if "default" in n.attrs:
            n.attrs["default"] = mapping.get(n.attrs["default"], n.attrs["default"])
        n.id = mapping.get(n.id, n.id)
    for f in flows:
        f.id, f.source, f.target = (mapping.get(f.id, f.id), mapping.get(f.source, f.source),
                                    mapping.get(f.target, f.target))


def _sub_process(flavour: str, sub_id: str, inner: list[str]) -> Node:
    """Task_ThamDinh wrapped in an embedded sub-process whose own ids are *inner*
    (start, task, end, two flows)."""
    start, task, end, f1, f2 = inner
    body = (node_xml(flavour, Node(start, "startEvent"))
            + node_xml(flavour, Node(task, "userTask", "Thẩm định hồ sơ", {"tthc.allocation": "1d"}))
            + node_xml(flavour, Node(end, "endEvent"))
            + flow_xml(flavour, Flow(f1, start, task)) + flow_xml(flavour, Flow(f2, task, end)))
    return Node(sub_id, "subProcess", "Thẩm định", lane="Chuyên viên", body=body)


@st.composite
def procedures(draw, flavour: str = "camunda") -> Drawn:
    nodes, flows = base_nodes(), base_flows()
    names = [n.id for n in nodes] + [f.id for f in flows]
    count = draw(st.integers(0, 6))
    targets = draw(st.permutations(names))[:count]
    mapping = dict(zip(targets, draw(st.lists(legal_ids(), min_size=count, max_size=count, unique=True))))
    twist = draw(st.sampled_from(["none", "hostile", "case twins", "duplicate"]))
    first, second = draw(st.permutations(names))[:2]
    if twist == "hostile":
        mapping[first] = draw(hostile_ids())
    elif twist == "case twins":  # two elements whose ids differ only by case
        mapping[second] = mapping.get(first, first).swapcase()
    elif twist == "duplicate":
        mapping[second] = mapping.get(first, first)
    process_id = draw(st.one_of(st.just("Process_1"), ids()))
    parts = [f"process={process_id!r}", f"renamed={mapping!r}"]
    steps = [mapping.get(s, s) for s in BASE_STEPS]
    taken = set(mapping.values()) | set(names)

    if draw(st.integers(0, 2)) == 0:  # the appraisal inside an embedded sub-process
        sub_id = draw(st.one_of(st.just("Sub_1"), ids()))
        inner = [draw(st.one_of(st.just(default), st.just(default), ids(), st.sampled_from(sorted(taken))))
                 for default in ("Sub_Start", "Sub_Task", "Sub_End", "Sub_F1", "Sub_F2")]
        appraise = mapping.get("Task_ThamDinh", "Task_ThamDinh")
        index = next(i for i, n in enumerate(nodes) if n.id == "Task_ThamDinh")
        nodes[index] = _sub_process(flavour, sub_id, inner)
        mapping["Task_ThamDinh"] = sub_id
        steps[1] = inner[1]
        parts.append(f"sub-process {sub_id!r} with {inner!r} (was {appraise!r})")
    _rename(nodes, flows, mapping)

    extra = ""
    if draw(st.integers(0, 2)) == 0:  # a second, non-executable process (a citizen's pool)
        mine = [n.id for n in nodes]
        others = [draw(st.one_of(st.just(default), ids(), st.sampled_from(mine).map(str.swapcase),
                                 st.sampled_from(mine)))
                  for default in ("CD_Start", "CD_Task", "CD_End")]
        start, task, end = others
        extra = (f'<bpmn:process id="Process_CongDan" isExecutable="false">'
                 f'<bpmn:startEvent id="{start}"/><bpmn:task id="{task}"/><bpmn:endEvent id="{end}"/>'
                 f'<bpmn:sequenceFlow id="CD_F1" sourceRef="{start}" targetRef="{task}"/>'
                 f'<bpmn:sequenceFlow id="CD_F2" sourceRef="{task}" targetRef="{end}"/></bpmn:process>')
        parts.append(f"second process with {others!r}")
    data = document(flavour, nodes, flows, dict(BASE_PROCESS_PROPS), process_id=process_id,
                    extra_definitions_xml=extra)
    return Drawn(data, tuple(steps), "; ".join(parts))
