"""Engine benchmarks: one step of a dossier (load, complete, dump) against SpiffWorkflow alone.

Goal (DESIGN.md, "Storage and scale"): completing a step costs at most 2.5× what SpiffWorkflow
alone needs to deserialize, complete and serialize the same workflow.

* **baseline** — SpiffWorkflow 3.2 as its documentation shows it: ``BpmnWorkflowSerializer``
  ``deserialize_json`` of the full state (the spec is inside, as SpiffWorkflow stores it), the READY
  user task's ``set_data`` + ``run``, ``do_engine_steps``, ``serialize_json``; specs parsed by its
  own ``BpmnParser``; conditions by its default script engine (``eval``).
* **ours** — ``ProcedureRuntime.load`` + ``Instance.complete`` (form checks, data copy, the review
  guard, restricted evaluator) + ``Instance.dump`` (no spec in the state).

One sample runs a whole dossier, step after step from the first ready task to the end, each step
from the previous step's serialized text; the rows give the time per step. The services benchmark
reuses :func:`make_raw_run`, :func:`make_engine_run` and :func:`generate_sequential_bpmn` for its
"with persistence" comparison.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.runtime import ProcedureRuntime
from tests.bench.common import Timing, compare, row
from tests.unit.bpmn.builder import Flow, Node, document

LIBRARY = Path(__file__).resolve().parents[2] / "bpmn" / "library"
GOAL_RATIO = 2.5

Plan = Sequence[tuple[str, dict[str, Any]]]

APPROVE = {"decision": "approve", "opinion": "Đồng ý."}
NOTE = {"opinion": "Đã xử lý."}
#: chairman_decision.bpmn on its approve path: ten human steps.
CHAIRMAN_DECISION_PLAN: Plan = (
    ("Task_TiepNhan", {"applicant_name": "Hội Nông dân thủy sản An Giang", "documents_complete": True}),
    ("Task_VanThuSo", {"incoming_number": "125/SNV"}),
    ("Task_ThamDinh", {"opinion": "Đủ điều kiện."}),
    ("Task_LanhDaoPhong", NOTE),
    ("Task_LanhDaoSo", {"submission_number": "88/TTr-SNV", "opinion": "Trình UBND tỉnh."}),
    ("Task_VP_ThamTra", {"opinion": "Hồ sơ đủ điều kiện.", "proposal": "approve"}),
    ("Task_VP_LanhDao", APPROVE),
    ("Task_ChuTichKy", NOTE),
    ("Task_VanThuUBND", {"decision_number": "1234/QĐ-UBND", "issued_date": "2026-11-23"}),
    ("Task_TraKetQua", {"received_by": "Nguyễn Văn A", "returned_date": "2026-11-24"}),
)


def generate_sequential_bpmn(tasks: int = 10) -> bytes:
    """A Camunda 7 procedure of *tasks* user tasks in a row, with the TTHC profile (1 h each)."""
    lanes = ("Bộ phận Một cửa", "Chuyên viên", "Lãnh đạo phòng", "Lãnh đạo Sở", "Văn thư")
    nodes = [Node("StartEvent_1", "startEvent", "Hồ sơ đến", lane=lanes[0])]
    flows = []
    previous = "StartEvent_1"
    for index in range(tasks):
        task_id = f"Task_{index + 1:03d}"
        nodes.append(Node(task_id, "userTask", f"Bước {index + 1}",
                          {"tthc.allocation": "1h", "tthc.role": "chuyen_vien"}, lane=lanes[index % len(lanes)]))
        flows.append(Flow(f"Flow_{index + 1:03d}", previous, task_id))
        previous = task_id
    nodes.append(Node("EndEvent_1", "endEvent", "Trả kết quả", lane=lanes[0]))
    flows.append(Flow("Flow_End", previous, "EndEvent_1"))
    legal_days = str(max(1, tasks // 4))
    return document("camunda", nodes, flows, {"tthc.legal_days": legal_days, "tthc.authority": "so"})


def sequential_plan(tasks: int = 10) -> Plan:
    return tuple((f"Task_{index + 1:03d}", dict(NOTE)) for index in range(tasks))


def _process_id(data: bytes) -> str:
    parser = BpmnParser()
    parser.add_bpmn_str(data)
    (process_id,) = parser.get_process_ids()
    return process_id


def make_raw_run(data: bytes, plan: Plan) -> Callable[[], str]:
    """A callable running *plan* on SpiffWorkflow alone, deserializing and serializing each step."""
    parser = BpmnParser()
    parser.add_bpmn_str(data)
    process_id = _process_id(data)
    serializer = BpmnWorkflowSerializer()
    workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
    workflow.do_engine_steps()
    initial = serializer.serialize_json(workflow)

    def run() -> str:
        state = initial
        for spec_id, values in plan:
            workflow = serializer.deserialize_json(state)
            task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                        if t.task_spec.name == spec_id)
            task.set_data(**values)
            task.run()
            workflow.do_engine_steps()
            state = serializer.serialize_json(workflow)
        assert workflow.is_completed()
        return state

    return run


def make_engine_run(data: bytes, plan: Plan, runtime: ProcedureRuntime | None = None) -> Callable[[], str]:
    """A callable running *plan* through quytrinh's runtime, loading and dumping each step."""
    runtime = runtime or ProcedureRuntime.from_bpmn(data)
    initial = runtime.start().dump()

    def run() -> str:
        state = initial
        for spec_id, values in plan:
            instance = runtime.load(state)
            task = next(t for t in instance.ready_tasks() if t.spec_id == spec_id)
            instance.complete(task.id, values)
            state = instance.dump()
        assert instance.completed
        return state

    return run


def per_step(timing: Timing, steps: int) -> Timing:
    return Timing(timing.median_ms / steps, timing.p95_ms / steps, timing.runs)


def raw_step_cost(data: bytes, plan: Plan | None = None, *, repeat: int = 30) -> Timing:
    """SpiffWorkflow alone: deserialize + complete + engine steps + serialize, per step."""
    plan = plan if plan is not None else _default_plan(data)
    return per_step(compare(make_raw_run(data, plan), None, repeat=repeat)[0], len(plan))


def engine_step_cost(data: bytes, plan: Plan | None = None, *, repeat: int = 30) -> Timing:
    """quytrinh's runtime: load + complete + dump, per step."""
    plan = plan if plan is not None else _default_plan(data)
    return per_step(compare(make_engine_run(data, plan), None, repeat=repeat)[0], len(plan))


def _default_plan(data: bytes) -> Plan:
    runtime = ProcedureRuntime.from_bpmn(data)
    return tuple((task_id, {}) for task_id in runtime.procedure.tasks)


def compare_steps(name: str, data: bytes, plan: Plan, *, repeat: int) -> dict[str, Any]:
    ours, baseline = compare(make_engine_run(data, plan), make_raw_run(data, plan), repeat=repeat, warmup=2)
    ours, baseline = per_step(ours, len(plan)), per_step(baseline, len(plan))
    runtime = ProcedureRuntime.from_bpmn(data)
    size = len(make_engine_run(data, plan, runtime)().encode())
    raw_size = len(make_raw_run(data, plan)().encode())
    return row(name, ours, baseline, goal_ms=GOAL_RATIO * baseline.median_ms, goal=f"≤ {GOAL_RATIO}× baseline",
               note=f"final state {size:,} B ours vs {raw_size:,} B with the spec")


def run(quick: bool = False) -> list[dict]:
    repeat = 5 if quick else 40
    return [
        compare_steps("engine step: 10-task sequential procedure", generate_sequential_bpmn(10),
                      sequential_plan(10), repeat=repeat),
        compare_steps("engine step: chairman_decision.bpmn (approve path)",
                      (LIBRARY / "chairman_decision.bpmn").read_bytes(), CHAIRMAN_DECISION_PLAN, repeat=repeat),
    ]
