"""parse_procedure: the parsed procedure runs on SpiffWorkflow with the restricted evaluator."""
from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bpmn import ProcedureError, parse_procedure
from bpmn.expressions import compile_expression
from tests.unit.bpmn.builder import FLAVOURS, base, base_flows, base_nodes, document, node

ROOT = Path(__file__).resolve().parents[3]


class RestrictedEngine(PythonScriptEngine):
    """What the runtime will do: conditions and timer literals through bpmn.expressions only."""

    def evaluate(self, task, expression, external_context=None):
        return compile_expression(expression).evaluate(task.data)

    def execute(self, task, script, external_context=None):
        raise AssertionError("no script may run")


def _run(procedure, decisions: dict[str, list[str]], serializer_roundtrip: bool = False) -> list[str]:
    workflow = BpmnWorkflow(procedure.spec, procedure.subprocess_specs, script_engine=RestrictedEngine())
    workflow.do_engine_steps()
    done = []
    serializer = BpmnWorkflowSerializer()
    for _ in range(100):
        if workflow.is_completed():
            return done
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert ready, "workflow is stuck"
        task = ready[0]
        done.append(task.task_spec.bpmn_id)
        planned = decisions.get(task.task_spec.bpmn_id)
        task.data.update({"decision": planned.pop(0) if planned else "approve", "urgent": False})
        task.run()
        workflow.do_engine_steps()
        if serializer_roundtrip:
            workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
            workflow.script_engine = RestrictedEngine()
    raise AssertionError("workflow did not finish")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_reference_procedure_runs_in_every_flavour(flavour):
    procedure = parse_procedure(base(flavour))
    assert procedure.process_id == "Process_1"
    assert procedure.conditions["Flow_DongY"].python in ("decision == 'approve'", 'decision == "approve"')
    done = _run(procedure, {"Task_VP": ["return", "approve"]}, serializer_roundtrip=True)
    assert done == ["Task_TiepNhan", "Task_ThamDinh", "Task_VP", "Task_ThamDinh", "Task_VP", "Task_ChuTich",
                    "Task_TraKetQua"]


def test_spec_conditions_are_in_the_restricted_python_form():
    procedure = parse_procedure(base("zeebe"))
    gateway = procedure.spec.task_specs["Gateway_KetQua"]
    texts = [condition.args[0] for condition, _ in gateway.cond_task_specs if condition is not None]
    assert texts == ['decision == "approve"']


def test_task_specs_carry_the_profile():
    procedure = parse_procedure(base("spiff"))
    extensions = procedure.spec.task_specs["Task_VP"].extensions
    assert extensions["properties"] == {"tthc.allocation": "4h", "tthc.step": "vp_review"}
    assert extensions["tthc"]["role"] == "vp_chuyen_vien" and extensions["tthc"]["allocation_minutes"] == 240
    assert procedure.tasks["Task_ChuTich"].step == "chairman_approval"
    assert procedure.process.target_minutes == 1680 and procedure.allocated_minutes == 1080


def test_the_procedure_keeps_the_flow_graph_the_checks_ran_on():
    procedure = parse_procedure(base("camunda"))
    graph = procedure.graph
    assert graph.sources == ["StartEvent_1"]
    assert graph.weights["Task_ThamDinh"] == 480
    assert [edge.target for edge in graph.out["Gateway_KetQua"]] == ["Task_ChuTich", "Task_ThamDinh"]


def test_overrides_reach_the_procedure():
    procedure = parse_procedure(base("camunda"), legal_days="10", reduction="0.5")
    assert (procedure.process.legal_minutes, procedure.process.target_minutes) == (4800, 2400)


@pytest.mark.parametrize("name, decisions, expected_last", [
    ("chairman_decision.bpmn", {"Task_VP_LanhDao": ["return", "approve"]}, "Task_TraKetQua"),
    ("department_parallel.bpmn", {}, "Task_TraKetQua"),
    ("commune_level.bpmn", {"Task_ChuTichXaKy": ["return", "approve"]}, "Task_TraKetQua"),
])
def test_library_procedures_run(name, decisions, expected_last):
    procedure = parse_procedure((ROOT / "bpmn" / "library" / name).read_bytes())
    done = _run(procedure, decisions)
    assert done[-1] == expected_last


def test_flavour_fixtures_run_with_translated_conditions():
    for name in ("camunda7_modeler5_ok.bpmn", "camunda8_zeebe_ok.bpmn", "spiffarena_ok.bpmn"):
        procedure = parse_procedure((ROOT / "tests" / "fixtures" / "bpmn" / "flavours" / name).read_bytes())
        assert _run(procedure, {}), name


def test_policy_findings_do_not_stop_parsing_but_unrunnable_files_do():
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").props = {"tthc.allocation": "5d"}
    assert parse_procedure(document("camunda", nodes, base_flows(), {"tthc.legal_days": "5"})) is not None
    with pytest.raises(ProcedureError) as caught:
        parse_procedure(b"<html/>")
    assert caught.value.report.codes() == ["BPMN_INVALID"]
    node(nodes, "Task_ThamDinh").ext = "<camunda:taskListener event='create' class='x.Y'/>"
    with pytest.raises(ProcedureError) as caught:
        parse_procedure(document("camunda", nodes, base_flows(), {"tthc.legal_days": "5"}))
    assert caught.value.report.codes() == ["SCRIPT_FORBIDDEN", "TIME_BUDGET_EXCEEDED"]
