"""Structure: supported and unsupported elements, references, sub-processes and boundary timers."""
from __future__ import annotations

import pytest

from bpmn import lint
from tests.unit.bpmn.builder import (
    BASE_MINUTES, BASE_PROCESS_PROPS, Flow, Node, base_flows, base_nodes, document, flow_xml, node, node_xml,
)

PROPS = dict(BASE_PROCESS_PROPS)


def _lint(nodes=None, flows=None, flavour="camunda", **kwargs):
    return lint(document(flavour, base_nodes() if nodes is None else nodes,
                         base_flows() if flows is None else flows, dict(PROPS), **kwargs))


def _errors(report):
    return [(e.code, e.element) for e in report.errors]


@pytest.mark.parametrize("kind", [
    "serviceTask", "sendTask", "receiveTask", "businessRuleTask", "callActivity", "transaction",
    "adHocSubProcess", "eventBasedGateway", "complexGateway", "intermediateCatchEvent",
    "intermediateThrowEvent",
])
def test_unsupported_elements_are_named_by_id_and_type(kind):
    nodes = base_nodes()
    task = node(nodes, "Task_ThamDinh")
    task.kind, task.props = kind, {}
    report = _lint(nodes)
    assert _errors(report) == [("BPMN_UNSUPPORTED", "Task_ThamDinh")]
    text = report.errors[0].message.render("en")
    assert kind in text and "Task_ThamDinh" in text
    assert "Traceback" not in text and report.exit_code == 2


@pytest.mark.parametrize("body, reason", [
    ('<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>3'
     "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>", "multi-instance"),
    ('<bpmn:standardLoopCharacteristics loopMaximum="3"/>', "loops"),
])
def test_loops_and_multi_instance_are_unsupported(body, reason):
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").body = body
    report = _lint(nodes)
    assert _errors(report) == [("BPMN_UNSUPPORTED", "Task_ThamDinh")]
    assert reason in report.errors[0].message.render("en")


def test_triggered_start_and_end_events():
    nodes = base_nodes()
    node(nodes, "StartEvent_1").body = '<bpmn:messageEventDefinition id="Msg_1"/>'
    node(nodes, "EndEvent_1").body = '<bpmn:errorEventDefinition id="Err_1"/>'
    assert _errors(_lint(nodes)) == [("BPMN_UNSUPPORTED", "StartEvent_1"), ("BPMN_UNSUPPORTED", "EndEvent_1")]


def test_terminate_end_event_is_supported():
    nodes = base_nodes()
    node(nodes, "EndEvent_1").body = '<bpmn:terminateEventDefinition id="Term_1"/>'
    report = _lint(nodes)
    assert report.ok and report.procedure is not None


def test_task_with_two_outgoing_flows_needs_a_gateway():
    flows = base_flows() + [Flow("Flow_X", "Task_TiepNhan", "Task_VP")]
    assert _errors(_lint(flows=flows)) == [("BPMN_UNSUPPORTED", "Task_TiepNhan")]


def test_conditional_flow_from_a_task_and_on_a_parallel_gateway():
    flows = base_flows()
    flows[1] = Flow("Flow_2", "Task_TiepNhan", "Task_ThamDinh", condition="urgent")
    assert _errors(_lint(flows=flows)) == [("BPMN_UNSUPPORTED", "Flow_2")]
    nodes = base_nodes()
    gateway = node(nodes, "Gateway_KetQua")
    gateway.kind, gateway.attrs = "parallelGateway", {}
    report = _lint(nodes)
    assert ("CONDITION_INVALID", "Flow_DongY") in _errors(report)


def test_scripted_condition_language_is_refused():
    flows = base_flows()
    flows[4] = Flow("Flow_DongY", "Gateway_KetQua", "Task_ChuTich")
    data = document("camunda", base_nodes(), flows, dict(PROPS)).replace(
        b'<bpmn:sequenceFlow id="Flow_DongY" sourceRef="Gateway_KetQua" targetRef="Task_ChuTich"/>',
        b'<bpmn:sequenceFlow id="Flow_DongY" sourceRef="Gateway_KetQua" targetRef="Task_ChuTich">'
        b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">'
        b"decision == 'approve'</bpmn:conditionExpression></bpmn:sequenceFlow>")
    report = lint(data)
    assert _errors(report) == [("CONDITION_INVALID", "Flow_DongY")]
    assert "javascript" in report.errors[0].message.render("en")


@pytest.mark.parametrize("mutate, expected", [
    (lambda n, f: setattr(node(n, "Gateway_KetQua"), "attrs", {"default": "Flow_KhongCo"}),
     ("BPMN_INVALID", "Gateway_KetQua")),
    (lambda n, f: f.append(Flow("Flow_X", "Task_KhongCo", "Task_VP")), ("BPMN_INVALID", "Flow_X")),
    (lambda n, f: f.append(Flow("Flow_X", "EndEvent_1", "Task_VP")), ("BPMN_INVALID", "EndEvent_1")),
    (lambda n, f: f.append(Flow("Flow_X", "Task_VP", "StartEvent_1")), ("BPMN_UNSUPPORTED", "Task_VP")),
    (lambda n, f: n.append(Node("Task_VP")), ("BPMN_INVALID", "Task_VP")),
])
def test_broken_references(mutate, expected):
    nodes, flows = base_nodes(), base_flows()
    mutate(nodes, flows)
    report = _lint(nodes, flows)
    assert expected in _errors(report)
    assert report.exit_code == 2


def test_missing_id_and_bad_ids():
    data = document("camunda", base_nodes(), base_flows(), dict(PROPS)).replace(
        b'<bpmn:userTask id="Task_VP"', b'<bpmn:userTask')
    report = lint(data)
    assert report.codes()[0] == "BPMN_INVALID" and report.exit_code == 2
    data = document("camunda", base_nodes(), base_flows(), dict(PROPS)).replace(b'"Task_VP"', b"\"Task'VP\"")
    assert "BPMN_INVALID" in lint(data).codes()


@pytest.mark.parametrize("replace, expected", [
    ((b'isExecutable="true"', b'isExecutable="false"'), "BPMN_INVALID"),
    ((b"</bpmn:definitions>", b'<bpmn:process id="Process_2" isExecutable="true"><bpmn:startEvent id="S2"/>'
                              b"</bpmn:process></bpmn:definitions>"), "BPMN_UNSUPPORTED"),
    ((b"<bpmn:startEvent", b"<bpmn:task"), "BPMN_INVALID"),
    ((b"</bpmn:definitions>", b'<bpmn:import importType="x" location="http://127.0.0.1:9/x.bpmn" '
                              b'namespace="urn:x"/></bpmn:definitions>'), "XML_UNSAFE"),
    ((b"</bpmn:definitions>", b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>'
                              b"</bpmn:definitions>"), "XML_UNSAFE"),
    ((b"</bpmn:definitions>", b'<bpmn:dataStore id="DS_1" name="db"/></bpmn:definitions>'), "BPMN_UNSUPPORTED"),
])
def test_document_level_problems(replace, expected):
    data = document("camunda", base_nodes(), base_flows(), dict(PROPS)).replace(*replace)
    report = lint(data)
    assert expected in report.codes()
    assert report.exit_code == 2


def test_non_executable_pools_are_ignored():
    extra = '<bpmn:process id="Process_CongDan" isExecutable="false"><bpmn:task id="T_CD"/></bpmn:process>'
    report = _lint(extra_definitions_xml=extra)
    assert report.ok and report.process_id == "Process_1"


def test_event_subprocess_is_unsupported():
    extra = ('<bpmn:subProcess id="Sub_Event" triggeredByEvent="true"><bpmn:startEvent id="SE">'
             '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>'
             "</bpmn:timerEventDefinition></bpmn:startEvent></bpmn:subProcess>")
    assert _errors(_lint(extra_process_xml=extra)) == [("BPMN_UNSUPPORTED", "Sub_Event")]


def _with_subprocess(flavour="camunda"):
    """Appraisal as an embedded sub-process: a 1d check, then a 4h opinion in parallel with a 1d one."""
    nodes = base_nodes()
    sub = node(nodes, "Task_ThamDinh")
    sub.kind, sub.props = "subProcess", {}
    inner = [
        Node("Sub_Start", "startEvent"),
        Node("Sub_Check", "userTask", "Kiểm tra", {"tthc.allocation": "1d", "tthc.role": "chuyen_vien"}),
        Node("Sub_Split", "parallelGateway"),
        Node("Sub_A", "userTask", "Ý kiến A", {"tthc.allocation": "4h", "tthc.role": "chuyen_vien"}),
        Node("Sub_B", "userTask", "Ý kiến B", {"tthc.allocation": "1d", "tthc.role": "chuyen_vien"}),
        Node("Sub_Join", "parallelGateway"),
        Node("Sub_End", "endEvent"),
    ]
    inner_flows = [Flow("SF1", "Sub_Start", "Sub_Check"), Flow("SF2", "Sub_Check", "Sub_Split"),
                   Flow("SF3", "Sub_Split", "Sub_A"), Flow("SF4", "Sub_Split", "Sub_B"),
                   Flow("SF5", "Sub_A", "Sub_Join"), Flow("SF6", "Sub_B", "Sub_Join"),
                   Flow("SF7", "Sub_Join", "Sub_End")]
    sub.body = "".join(node_xml(flavour, n) for n in inner) + "".join(flow_xml(flavour, f) for f in inner_flows)
    return nodes, base_flows()


def test_embedded_subprocess_is_flattened_for_the_budget():
    nodes, flows = _with_subprocess()
    report = _lint(nodes, flows)
    assert report.ok, report.codes()
    assert report.budget.allocated_minutes == 120 + 480 + 480 + 240 + 240
    assert list(report.budget.critical_path) == [
        "StartEvent_1", "Task_TiepNhan", "Task_ThamDinh", "Sub_Start", "Sub_Check", "Sub_Split", "Sub_B",
        "Sub_Join", "Sub_End", "Task_VP", "Gateway_KetQua", "Task_ChuTich", "Task_TraKetQua", "EndEvent_1"]
    assert report.tasks["Sub_B"].lane == "Chuyên viên"  # inherited from the sub-process
    assert "Task_ThamDinh" in report.procedure.subprocess_specs


_TIMER = ('<bpmn:boundaryEvent id="Timer_Late" name="Quá hạn" attachedToRef="{host}" cancelActivity="false">'
          '<bpmn:timerEventDefinition id="TD_1"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{value}'
          "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>")


def test_timer_boundary_event_path_starts_from_the_host():
    # A late appraisal is escalated straight to the Chairman: that path skips the VP review.
    flows = base_flows() + [Flow("Flow_Late", "Timer_Late", "Task_ChuTich")]
    report = _lint(flows=flows, extra_process_xml=_TIMER.format(host="Task_ThamDinh", value="P2D"))
    assert _errors(report) == [("VP_REVIEW_BYPASSED", "Task_ChuTich")]
    spec = lint(document("camunda", base_nodes(), base_flows() + [Flow("Flow_Late", "Timer_Late", "EndEvent_1")],
                         dict(PROPS), extra_process_xml=_TIMER.format(host="Task_ThamDinh", value="'PT4H'")))
    assert spec.ok and spec.procedure is not None
    timer = spec.procedure.spec.task_specs["Timer_Late"]
    assert timer.event_definition.expression == "'PT4H'"


def test_a_timer_on_the_review_itself_bypasses_it():
    # The timer fires while the review is still open, so its path has not passed the review.
    flows = base_flows() + [Flow("Flow_Late", "Timer_Late", "Task_ChuTich")]
    report = _lint(flows=flows, extra_process_xml=_TIMER.format(host="Task_VP", value="PT4H"))
    assert _errors(report) == [("VP_REVIEW_BYPASSED", "Task_ChuTich")]
    assert report.errors[0].message.render("en").count("Văn phòng thẩm tra") == 1


def test_a_timer_after_the_review_is_fine_and_counts_its_host():
    flows = base_flows() + [Flow("Flow_Late", "Timer_Late", "Task_Nhac")]
    nodes = base_nodes() + [Node("Task_Nhac", "userTask", "Nhắc Chủ tịch",
                                 {"tthc.allocation": "1d", "tthc.role": "vp_lanh_dao"}),
                            Node("End_Nhac", "endEvent")]
    flows.append(Flow("Flow_Nhac", "Task_Nhac", "End_Nhac"))
    report = _lint(nodes, flows, extra_process_xml=_TIMER.format(host="Task_ChuTich", value="PT4H"))
    assert report.ok, report.codes()
    assert report.budget.allocated_minutes == BASE_MINUTES + 480
    assert list(report.budget.critical_path)[-3:] == ["Timer_Late", "Task_Nhac", "End_Nhac"]


def test_a_timer_on_a_subprocess_can_fire_at_any_point_inside():
    nodes, flows = _with_subprocess()
    flows.append(Flow("Flow_Late", "Timer_Late", "Task_ChuTich"))
    report = _lint(nodes, flows, extra_process_xml=_TIMER.format(host="Task_ThamDinh", value="P1D"))
    assert _errors(report) == [("VP_REVIEW_BYPASSED", "Task_ChuTich")]


@pytest.mark.parametrize("definition, code", [
    ('<bpmn:messageEventDefinition id="M"/>', "BPMN_UNSUPPORTED"),
    ("<bpmn:timerEventDefinition><bpmn:timeDate>2026-12-01T00:00:00</bpmn:timeDate></bpmn:timerEventDefinition>",
     "BPMN_UNSUPPORTED"),
    ("<bpmn:timerEventDefinition><bpmn:timeDuration>4 hours</bpmn:timeDuration></bpmn:timerEventDefinition>",
     "BPMN_UNSUPPORTED"),
])
def test_other_boundary_events_are_unsupported(definition, code):
    extra = f'<bpmn:boundaryEvent id="B_1" attachedToRef="Task_VP">{definition}</bpmn:boundaryEvent>'
    assert _errors(_lint(extra_process_xml=extra)) == [(code, "B_1")]


def test_boundary_on_something_that_is_not_an_activity():
    extra = _TIMER.format(host="Gateway_KetQua", value="PT1H")
    assert _errors(_lint(extra_process_xml=extra)) == [("BPMN_INVALID", "Timer_Late")]


def test_plain_and_manual_tasks_are_human_steps():
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").kind = "manualTask"
    node(nodes, "Task_TiepNhan").kind = "task"
    report = _lint(nodes)
    assert report.ok
    assert report.tasks["Task_ThamDinh"].kind == "manualTask" and report.tasks["Task_TiepNhan"].kind == "task"
    assert report.budget.allocated_minutes == BASE_MINUTES


def test_too_long_a_chain_is_reported_not_raised():
    nodes = [Node("S", "startEvent")] + [
        Node(f"T{i}", "userTask", f"Bước {i}", {"tthc.allocation": "1m", "tthc.role": "chuyen_vien"})
        for i in range(700)] + [Node("E", "endEvent")]
    ids = [n.id for n in nodes]
    flows = [Flow(f"F{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:]))]
    report = lint(document("spiff", nodes, flows, {"tthc.legal_days": "10"}))
    assert report.budget.allocated_minutes == 700
    assert report.exit_code in (0, 2)
    if report.exit_code == 2:  # SpiffWorkflow's recursive parser refuses chains this long
        assert report.codes() == ["BPMN_UNSUPPORTED"] and report.errors[0].element == "Process_1"
