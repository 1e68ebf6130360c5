"""Every error code, in Camunda 7, Camunda 8 (Zeebe) and SpiffArena flavour."""
from __future__ import annotations

import pytest

from bpmn import lint
from bpmn.report import ALL_CODES
from tests.unit.bpmn.builder import (
    BASE_MINUTES, BASE_PATH, BASE_PROCESS_PROPS, FLAVOURS, Flow, Node, base, base_flows, base_nodes,
    document, node,
)

pytestmark = pytest.mark.parametrize("flavour", FLAVOURS)


def _build(flavour, *, nodes=None, flows=None, props=None, **kwargs) -> bytes:
    return document(flavour, nodes if nodes is not None else base_nodes(),
                    flows if flows is not None else base_flows(),
                    dict(BASE_PROCESS_PROPS) if props is None else props, **kwargs)


def _single(report, code):
    found = [issue for issue in report.errors if issue.code == code]
    assert found, f"expected {code}, got {report.codes()}"
    return found[0]


def test_reference_procedure_is_compliant(flavour):
    report = lint(base(flavour))
    assert report.errors == [] and report.warnings == []
    assert report.exit_code == 0
    assert report.budget.legal_minutes == 2400
    assert report.budget.target_minutes == 1680
    assert report.budget.allocated_minutes == BASE_MINUTES
    assert list(report.budget.critical_path) == BASE_PATH
    assert report.procedure is not None
    assert report.tasks["Task_VP"].role == "vp_chuyen_vien"


def test_xml_unsafe_doctype(flavour):
    prolog = ('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<!DOCTYPE bpmn:definitions [<!ENTITY x "y">]>\n')
    report = lint(base(flavour, prolog=prolog))
    issue = _single(report, "XML_UNSAFE")
    assert issue.element is None
    assert report.exit_code == 2
    assert "DOCTYPE" in issue.message.render("vi")


def test_bpmn_invalid_broken_reference(flavour):
    flows = base_flows()
    flows[2] = Flow("Flow_3", "Task_ThamDinh", "Task_KhongCo")
    report = lint(_build(flavour, flows=flows))
    issue = _single(report, "BPMN_INVALID")
    assert issue.element == "Flow_3"
    assert "Task_KhongCo" in issue.message.render("vi")
    assert report.exit_code == 2


def test_bpmn_unsupported_names_id_and_type(flavour):
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").kind = "serviceTask"
    if flavour == "zeebe":
        node(nodes, "Task_ThamDinh").ext = '<zeebe:taskDefinition type="tham-dinh"/>'
    report = lint(_build(flavour, nodes=nodes))
    issue = _single(report, "BPMN_UNSUPPORTED")
    assert issue.element == "Task_ThamDinh"
    text = issue.message.render("en")
    assert "Task_ThamDinh" in text and "serviceTask" in text
    assert report.exit_code == 2
    assert report.procedure is None


_HOOKS = {
    "camunda": ('<camunda:executionListener event="start"><camunda:script scriptFormat="groovy">'
                "execution.setVariable('x', 1)</camunda:script></camunda:executionListener>"),
    "zeebe": ('<zeebe:executionListeners><zeebe:executionListener eventType="start" type="audit"/>'
              "</zeebe:executionListeners>"),
    "spiff": "<spiffworkflow:preScript>import os; os.system('id')</spiffworkflow:preScript>",
}


def test_script_forbidden_hook(flavour):
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").ext = _HOOKS[flavour]
    report = lint(_build(flavour, nodes=nodes))
    issue = _single(report, "SCRIPT_FORBIDDEN")
    assert issue.element == "Task_ThamDinh"
    assert set(report.codes()) == {"SCRIPT_FORBIDDEN"}
    assert report.exit_code == 1
    assert report.procedure is None


def test_script_forbidden_script_task(flavour):
    nodes = base_nodes()
    task = node(nodes, "Task_ThamDinh")
    task.kind = "scriptTask"
    task.props = {}
    if flavour == "zeebe":
        task.ext = '<zeebe:script expression="=decision" resultVariable="x"/>'
    else:
        task.body = "<bpmn:script>decision = 'approve'</bpmn:script>"
    report = lint(_build(flavour, nodes=nodes))
    assert _single(report, "SCRIPT_FORBIDDEN").element == "Task_ThamDinh"
    assert report.exit_code == 1


_BAD_CONDITIONS = {
    "camunda": "${execution.getVariable('decision') == 'approve'}",
    "zeebe": '=contains(decision, "appr")',
    "spiff": "__import__('os').system('id') == 0",
}


def test_condition_invalid_names_the_flow(flavour):
    flows = base_flows()
    flows[4] = Flow("Flow_DongY", "Gateway_KetQua", "Task_ChuTich", raw_condition=_BAD_CONDITIONS[flavour])
    report = lint(_build(flavour, flows=flows))
    issue = _single(report, "CONDITION_INVALID")
    assert issue.element == "Flow_DongY"
    assert "Flow_DongY" in issue.message.render("vi")
    assert report.exit_code == 1


def test_condition_missing_on_a_split(flavour):
    nodes = base_nodes()
    node(nodes, "Gateway_KetQua").attrs = {}
    report = lint(_build(flavour, nodes=nodes))
    assert _single(report, "CONDITION_INVALID").element == "Flow_TraLai"


def test_allocation_missing(flavour):
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").props = {}
    report = lint(_build(flavour, nodes=nodes))
    issue = _single(report, "ALLOCATION_MISSING")
    assert issue.element == "Task_ThamDinh"
    assert issue.message.render("vi") == (
        "Bước 'Thẩm định hồ sơ' (Task_ThamDinh) chưa có thời gian thực hiện (tthc.allocation).")
    assert report.exit_code == 1


@pytest.mark.parametrize("value", ["-1d", "abc", "0.01h", "P1W", "2"])
def test_allocation_invalid(flavour, value):
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").props = {"tthc.allocation": value}
    report = lint(_build(flavour, nodes=nodes))
    issue = _single(report, "ALLOCATION_INVALID")
    assert issue.element == "Task_ThamDinh"
    assert value in issue.message.render("en")
    assert report.tasks["Task_ThamDinh"].allocation_minutes is None


def test_legal_time_missing(flavour):
    props = dict(BASE_PROCESS_PROPS)
    del props["tthc.legal_days"]
    report = lint(_build(flavour, props=props))
    issue = _single(report, "LEGAL_TIME_MISSING")
    assert issue.element == "Process_1"
    assert report.budget.legal_minutes is None and report.budget.target_minutes is None
    assert report.budget.allocated_minutes == BASE_MINUTES
    assert lint(_build(flavour, props=props), legal_days="5").ok


def test_role_unknown_is_a_warning(flavour):
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").lane = "Người dân"
    node(nodes, "Task_VP").props["tthc.role"] = "thu_ky"
    report = lint(_build(flavour, nodes=nodes))
    assert report.errors == []
    assert report.exit_code == 0
    assert [(w.code, w.element) for w in report.warnings] == [
        ("ROLE_UNKNOWN", "Task_ThamDinh"), ("ROLE_UNKNOWN", "Task_VP")]


def test_time_budget_exceeded_names_the_critical_path(flavour):
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").props = {"tthc.allocation": "3d"}
    report = lint(_build(flavour, nodes=nodes))
    issue = _single(report, "TIME_BUDGET_EXCEEDED")
    assert issue.element == "Process_1"
    assert report.budget.allocated_minutes == 120 + 1440 + 240 + 240
    assert list(report.budget.critical_path) == BASE_PATH
    assert "Thẩm định hồ sơ" in issue.message.render("vi")
    assert report.exit_code == 1


def test_vp_review_missing(flavour):
    nodes = base_nodes()
    del node(nodes, "Task_VP").props["tthc.step"]
    report = lint(_build(flavour, nodes=nodes))
    issue = _single(report, "VP_REVIEW_MISSING")
    assert issue.element == "Process_1"
    assert report.codes() == ["VP_REVIEW_MISSING"]


def test_vp_review_bypassed_names_the_chairman_task(flavour):
    nodes = base_nodes()
    nodes.insert(3, Node("Gateway_Khan", "exclusiveGateway", "Khẩn?", attrs={"default": "Flow_BinhThuong"},
                         lane="Chuyên viên"))
    flows = base_flows()
    flows[2] = Flow("Flow_3", "Task_ThamDinh", "Gateway_Khan")
    flows += [Flow("Flow_Khan", "Gateway_Khan", "Task_ChuTich", condition="urgent == True"),
              Flow("Flow_BinhThuong", "Gateway_Khan", "Task_VP")]
    report = lint(_build(flavour, nodes=nodes, flows=flows))
    issue = _single(report, "VP_REVIEW_BYPASSED")
    assert issue.element == "Task_ChuTich"
    assert report.codes() == ["VP_REVIEW_BYPASSED"]
    assert "Khẩn?" in issue.message.render("vi")


def test_vp_checks_apply_only_to_provincial_authorities(flavour):
    nodes = base_nodes()
    del node(nodes, "Task_VP").props["tthc.step"]
    assert lint(_build(flavour, nodes=nodes), authority="so").ok
    assert lint(_build(flavour, nodes=nodes), authority="ubnd_tinh").codes() == ["VP_REVIEW_MISSING"]


@pytest.mark.parametrize("cut", ["0", "0%", "1e-300", "0.29", "29.99%"])
def test_reduction_below_policy_names_the_process_the_cut_and_the_minimum(flavour, cut):
    """A cut below the province's minimum (0.30 unless the caller gives another) switches the
    time rule off: refused, whether it is given as an option or written in the file."""
    as_option = lint(base(flavour), reduction=cut)
    in_file = lint(_build(flavour, props={**BASE_PROCESS_PROPS, "tthc.reduction": cut}))
    for report, source in ((as_option, "upload"), (in_file, "tthc.reduction")):
        issue = _single(report, "REDUCTION_BELOW_POLICY")
        assert issue.element == "Process_1" and report.codes() == ["REDUCTION_BELOW_POLICY"]
        assert report.exit_code == 1 and report.min_reduction == "0.3"
        english = issue.message.render("en")
        assert source in english and "minimum of 0.3 (30%)" in english
        assert "tối thiểu" in issue.message.render("vi")
    assert "1e-300" in _single(lint(base(flavour), reduction="1e-300"), "REDUCTION_BELOW_POLICY").message.render("en")


def test_reduction_minimum_is_a_parameter(flavour):
    assert lint(base(flavour), reduction="0.3").ok  # at the minimum is enough
    raised = lint(base(flavour), reduction="0.3", min_reduction="0.5")
    assert raised.codes() == ["REDUCTION_BELOW_POLICY"] and raised.min_reduction == "0.5"
    assert "50%" in raised.errors[0].message.render("en")
    # No tthc.reduction and no option: the default 0.30 is what is checked, and said so.
    props = {k: v for k, v in BASE_PROCESS_PROPS.items() if k != "tthc.reduction"}
    default = lint(_build(flavour, props=props), min_reduction="50%")
    assert "the default" in _single(default, "REDUCTION_BELOW_POLICY").message.render("en")
    assert "REDUCTION_BELOW_POLICY" not in lint(base(flavour), reduction="0.99", min_reduction="0.5").codes()
    # An unreadable tthc.reduction is BPMN_INVALID, not also below the policy.
    unreadable = lint(_build(flavour, props={**BASE_PROCESS_PROPS, "tthc.reduction": "nan"}))
    assert unreadable.codes() == ["BPMN_INVALID"]


def test_id_reserved_names_the_element(flavour):
    # The engine names its own tasks Start and End: elements with those ids replaced them, and a
    # file that passed lint answered 500 at every receipt (issue 11, finding 0).
    renamed = {"StartEvent_1": "Start", "EndEvent_1": "End"}
    nodes, flows = base_nodes(), base_flows()
    for n in nodes:
        n.id = renamed.get(n.id, n.id)
    for f in flows:
        f.source, f.target = renamed.get(f.source, f.source), renamed.get(f.target, f.target)
    report = lint(_build(flavour, nodes=nodes, flows=flows))
    assert report.codes() == ["ID_RESERVED", "ID_RESERVED"]
    assert [issue.element for issue in report.errors] == ["Start", "End"]
    assert report.exit_code == 2 and report.procedure is None
    text = report.errors[0].message.render("vi")
    assert "'Start'" in text and "Hồ sơ đến" in text and "dành riêng" in text
    assert "reserved by the workflow engine" in report.errors[1].message.render("en")


def test_every_code_is_covered_here(flavour):
    tested = {"XML_UNSAFE", "BPMN_INVALID", "BPMN_UNSUPPORTED", "SCRIPT_FORBIDDEN", "CONDITION_INVALID",
              "ALLOCATION_MISSING", "ALLOCATION_INVALID", "LEGAL_TIME_MISSING", "ROLE_UNKNOWN",
              "TIME_BUDGET_EXCEEDED", "VP_REVIEW_MISSING", "VP_REVIEW_BYPASSED", "ID_RESERVED",
              "REDUCTION_BELOW_POLICY"}
    assert tested == set(ALL_CODES)
