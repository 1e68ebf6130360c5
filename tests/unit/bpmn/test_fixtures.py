"""The small static fixtures in tests/fixtures/bpmn/lint and the benchmark's generator."""
from __future__ import annotations

from pathlib import Path

import pytest

from bpmn import lint
from tests.bench.bench_lint import hostile_inputs, procedure
from tests.bench.common import Timing, format_table, measure, row

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn" / "lint"


def test_nested_lanes_subprocess_and_timer():
    report = lint((FIXTURES / "nested_lanes_subprocess.bpmn").read_bytes())
    assert report.errors == [] and report.warnings == []
    roles = {task_id: task.role for task_id, task in report.tasks.items()}
    assert roles == {"Task_TiepNhan": "mot_cua", "Task_DonDoc": "lanh_dao_phong", "Task_Ky": "lanh_dao_so",
                     "Task_TraKetQua": "mot_cua", "Sub_TraCuu": "chuyen_vien", "Sub_CongAn": "chuyen_vien"}
    assert report.authority == "so"
    assert report.budget.allocated_minutes == 120 + 480 + 240 + 0
    assert report.budget.critical_path[:4] == ("StartEvent_1", "Task_TiepNhan", "SubProcess_XacMinh", "Sub_Start")
    assert "SubProcess_XacMinh" in report.procedure.subprocess_specs


@pytest.mark.parametrize("name, code", [("xxe_file.bpmn", "XML_UNSAFE"), ("billion_laughs.bpmn", "XML_UNSAFE"),
                                        ("html_page.bpmn", "BPMN_INVALID")])
def test_hostile_fixtures(name, code):
    report = lint((FIXTURES / name).read_bytes())
    assert report.codes() == [code] and report.exit_code == 2


def test_benchmark_inputs_are_what_they_claim():
    report = lint(procedure(200))
    assert report.exit_code == 0 and len(report.tasks) == 200
    for name, data in hostile_inputs().items():
        assert lint(data).exit_code == 2, name


def test_harness_table():
    timing = measure(lambda: sum(range(100)), repeat=3, warmup=1)
    assert timing.runs == 3 and timing.median_ms <= timing.p95_ms
    table = format_table([row("x", Timing(50.0, 60.0, 3), Timing(20.0, 25.0, 3), goal_ms=100),
                          row("y", Timing(3000.0, 3100.0, 3), goal_ms=2000, goal="< 2 s")])
    lines = table.splitlines()
    assert lines[0] == "| benchmark | ours | baseline | ratio | goal |"
    assert lines[2] == "| x | 50.0 ms (p95 60.0 ms) | 20.0 ms (p95 25.0 ms) | 2.50× | ≤ 100 ms ✓ |"
    assert lines[3].endswith("| — | — | < 2 s ✗ |")
