"""The linter on the demo library and on the modeller-flavour fixtures (other engineers' files).

Every bpmn/library/*.bpmn must lint clean, with nothing skipped. The flavour fixtures' expected
outcomes are the table in tests/fixtures/bpmn/flavours/README.md.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bpmn import lint

ROOT = Path(__file__).resolve().parents[3]
LIBRARY_FILES = sorted((ROOT / "bpmn" / "library").glob("*.bpmn"))
FLAVOURS = ROOT / "tests" / "fixtures" / "bpmn" / "flavours"


def test_the_library_is_there():
    assert len(LIBRARY_FILES) >= 3, "bpmn/library/ must hold at least three procedures"


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: p.name)
def test_library_file_is_clean(path):
    report = lint(path.read_bytes())
    assert report.errors == [] and report.warnings == [], report.to_dict("en")
    assert report.exit_code == 0
    assert report.procedure is not None
    assert report.budget.allocated_minutes <= report.budget.target_minutes
    assert all(task.role for task in report.tasks.values())


LIBRARY_BUDGETS = {
    "chairman_decision.bpmn": (4800, 3360, 3330),
    "department_parallel.bpmn": (9600, 6720, 6240),
    "commune_level.bpmn": (1440, 1008, 960),
    "procedure_approval.bpmn": (9600, 6720, 2880),
}


@pytest.mark.parametrize("name, budget", sorted(LIBRARY_BUDGETS.items()))
def test_library_budgets_match_their_step_tables(name, budget):
    path = ROOT / "bpmn" / "library" / name
    report = lint(path.read_bytes())
    b = report.budget
    assert (b.legal_minutes, b.target_minutes, b.allocated_minutes) == budget


def test_the_approval_flow_would_bypass_if_it_declared_a_provincial_authority():
    path = ROOT / "bpmn" / "library" / "procedure_approval.bpmn"
    report = lint(path.read_bytes(), authority="ubnd_tinh")
    assert [(e.code, e.element) for e in report.errors] == [("VP_REVIEW_BYPASSED", "Task_ChuTichPheDuyet")]


FLAVOUR_EXPECTATIONS = {
    "camunda7_modeler5_ok.bpmn": (0, [], (2400, 1680, 1560)),
    "camunda7_modeler5_bypass.bpmn": (1, [("VP_REVIEW_BYPASSED", "Activity_13eq64m")], (2400, 1680, 1560)),
    "camunda8_zeebe_ok.bpmn": (0, [], (3360, 2352, 2040)),
    "camunda8_zeebe_bypass.bpmn": (1, [("VP_REVIEW_BYPASSED", "Activity_13dfbqz")], (3360, 2352, 2040)),
    "spiffarena_ok.bpmn": (0, [], (1920, 1344, 1140)),
    "spiffarena_bypass.bpmn": (1, [("VP_REVIEW_BYPASSED", "chu_tich_ky")], (1920, 1344, 1140)),
}
CRITICAL_PATHS = {
    "camunda7_modeler5_ok.bpmn": "StartEvent_1 Activity_10q560l Activity_1z1rk2o Activity_0govw71 Activity_1368kra "
                                 "Gateway_0i1bp7e Activity_13eq64m Activity_0yphn92 Event_1mdqmdm",
    "camunda8_zeebe_bypass.bpmn": "StartEvent_1 Activity_0hkmbqu Activity_0ebflx2 Activity_12h9ez3 Gateway_14all3k "
                                  "Activity_1mx9gu5 Gateway_0z1m0ea Gateway_0czz808 Activity_13dfbqz "
                                  "Activity_1a95lfg Event_1fp20gp",
    "spiffarena_bypass.bpmn": "StartEvent_1 tiep_nhan_ho_so tham_dinh_ho_so tham_tra_van_phong chu_tich_ky "
                              "Gateway_126wefg phat_hanh_quyet_dinh tra_ket_qua EndEvent_1",
}


@pytest.mark.parametrize("name", sorted(FLAVOUR_EXPECTATIONS))
def test_flavour_fixtures(name):
    path = FLAVOURS / name
    assert path.exists(), f"missing fixture {name}"
    exit_code, errors, budget = FLAVOUR_EXPECTATIONS[name]
    report = lint(path.read_bytes())
    assert report.exit_code == exit_code
    assert [(e.code, e.element) for e in report.errors] == errors
    assert report.warnings == []
    b = report.budget
    assert (b.legal_minutes, b.target_minutes, b.allocated_minutes) == budget
    if name in CRITICAL_PATHS:
        assert list(b.critical_path) == CRITICAL_PATHS[name].split()
