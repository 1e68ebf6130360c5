"""The engine benchmark's inputs and runners do what the benchmark claims (no timings checked)."""
from __future__ import annotations

import json

from bpmn import lint
from tests.bench.bench_engine import (
    CHAIRMAN_DECISION_PLAN, LIBRARY, generate_sequential_bpmn, make_engine_run, make_raw_run, per_step,
    raw_step_cost, sequential_plan,
)
from tests.bench.common import Timing


def test_generated_procedure_is_a_clean_sequence():
    data = generate_sequential_bpmn(10)
    report = lint(data)
    assert report.ok and report.errors == [] and report.warnings == []
    assert list(report.tasks) == [f"Task_{i:03d}" for i in range(1, 11)]
    assert [spec for spec, _ in sequential_plan(10)] == list(report.tasks)


def test_both_runners_complete_the_same_dossier():
    for data, plan in ((generate_sequential_bpmn(10), sequential_plan(10)),
                       ((LIBRARY / "chairman_decision.bpmn").read_bytes(), CHAIRMAN_DECISION_PLAN)):
        ours = json.loads(make_engine_run(data, plan)())
        raw = json.loads(make_raw_run(data, plan)())
        assert "spec" in raw and "spec" not in ours["workflow"]
        assert [spec for _, spec, _ in ours["history"]] == [spec for spec, _ in plan]
        assert ours["workflow"]["completed"] and raw["completed"]
        raw_done = sorted(t["task_spec"] for t in raw["tasks"].values() if t["state"] == 64)
        ours_done = sorted(t["task_spec"] for t in ours["workflow"]["tasks"].values() if t["state"] == 64)
        assert raw_done == ours_done


def test_step_cost_helpers():
    assert per_step(Timing(10.0, 20.0, 3), 10) == Timing(1.0, 2.0, 3)
    assert raw_step_cost(generate_sequential_bpmn(3), repeat=2).runs == 2
