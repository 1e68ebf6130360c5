"""The runtime guard: a Chairman step only after a vp_review completed since the last submission."""
from __future__ import annotations

import pytest

from bpmn import lint
from engine.runtime import ProcedureRuntime, ReviewNotFresh, review_is_fresh
from engine.runtime.guard import build_rule
from tests.unit.bpmn.builder import Flow, Node, document
from tests.unit.engine.test_runtime_atomic import fresh_dump
from tests.unit.engine.test_runtime_library import (
    CD, CL, FLAVOURS, PA, cd_plan, complete_spec, drive, runtime,
)

DEPARTMENT = ["Task_TiepNhan", "Task_VanThuSo", "Task_ThamDinh", "Task_LanhDaoPhong", "Task_LanhDaoSo"]
VP = ["Task_VP_ThamTra", "Task_VP_LanhDao"]


def test_submissions_of_chairman_decision():
    rule = build_rule(runtime(CD).procedure)
    assert rule.reviews == frozenset(VP)
    assert rule.chairmen == {"Task_ChuTichKy"}
    # upstream of the review (the return loop's edge removed), plus the Chairman's own step
    assert rule.submissions == frozenset(DEPARTMENT) | {"Task_ChuTichKy"}


def test_submissions_of_the_approval_flow():
    rule = build_rule(runtime(PA).procedure)
    assert rule.submissions == {"Task_TrinhPheDuyet", "Task_ChuTichPheDuyet"}


@pytest.mark.parametrize("history, fresh", [
    ([], False),
    (DEPARTMENT, False),
    (DEPARTMENT + VP[:1], True),
    (DEPARTMENT + VP, True),
    # the Văn phòng returned it, the department resubmitted: stale until the next review
    (DEPARTMENT + VP + ["Task_ThamDinh"], False),
    (DEPARTMENT + VP + ["Task_ThamDinh", "Task_LanhDaoPhong", "Task_LanhDaoSo"], False),
    (DEPARTMENT + VP + ["Task_ThamDinh", "Task_LanhDaoPhong", "Task_LanhDaoSo"] + VP, True),
    # the Chairman's own completion makes the next arrival a resubmission
    (DEPARTMENT + VP + ["Task_ChuTichKy"], False),
    # steps after the Chairman are not submissions
    (DEPARTMENT + VP + ["Task_VanThuUBND"], True),
])
def test_review_is_fresh_on_histories(history, fresh):
    rt = runtime(CD)
    assert review_is_fresh(rt.procedure, history) is fresh
    assert review_is_fresh(rt, history) is fresh


def test_guard_allows_the_chairman_after_the_second_review():
    rt = runtime(CD)
    plan = cd_plan(["return", "approve"])
    state = rt.start().dump()
    for spec_id, data in plan:
        instance = rt.load(state)
        (task,) = [t for t in instance.ready_tasks() if t.spec_id == spec_id]
        history = [s.spec_id for s in instance.history()]
        if spec_id == "Task_ChuTichKy":
            assert instance.chairman_guard(task.id) and review_is_fresh(rt.procedure, history)
        else:
            assert instance.chairman_guard(task.id)  # not a Chairman step: always allowed
        instance.complete(task.id, data)
        state = instance.dump()
    assert rt.load(state).completed


# --- a clerk between the review and the Chairman ---------------------------------------------

def _clerk_between() -> bytes:
    props = {"tthc.legal_days": "5", "tthc.authority": "chu_tich_ubnd_tinh"}

    def task(node_id, name, role, step=None):
        values = {"tthc.allocation": "1h", "tthc.role": role} | ({"tthc.step": step} if step else {})
        return Node(node_id, "userTask", name, values, lane=role)

    nodes = [
        Node("StartEvent_1", "startEvent", lane="mot_cua"),
        task("Task_TiepNhan", "Tiếp nhận", "mot_cua", "receive"),
        task("Task_ThamDinh", "Thẩm định", "chuyen_vien"),
        task("Task_VP", "Văn phòng thẩm tra", "vp_chuyen_vien", "vp_review"),
        Node("Gateway_VP", "exclusiveGateway", lane="vp_chuyen_vien", attrs={"default": "Flow_TraLai"}),
        task("Task_ChuyenHoSo", "Văn thư chuyển hồ sơ trình Chủ tịch", "van_thu"),
        task("Task_ChuTich", "Chủ tịch ký", "chu_tich", "chairman_approval"),
        task("Task_TraKetQua", "Trả kết quả", "mot_cua", "return_result"),
        Node("EndEvent_1", "endEvent", lane="mot_cua"),
    ]
    flows = [
        Flow("Flow_1", "StartEvent_1", "Task_TiepNhan"), Flow("Flow_2", "Task_TiepNhan", "Task_ThamDinh"),
        Flow("Flow_3", "Task_ThamDinh", "Task_VP"), Flow("Flow_4", "Task_VP", "Gateway_VP"),
        Flow("Flow_DongY", "Gateway_VP", "Task_ChuyenHoSo", condition="decision == 'approve'"),
        Flow("Flow_TraLai", "Gateway_VP", "Task_ThamDinh"),
        Flow("Flow_5", "Task_ChuyenHoSo", "Task_ChuTich"), Flow("Flow_6", "Task_ChuTich", "Task_TraKetQua"),
        Flow("Flow_7", "Task_TraKetQua", "EndEvent_1"),
    ]
    return document("camunda", nodes, flows, props)


def test_a_clerk_between_review_and_chairman_keeps_the_review_fresh():
    data = _clerk_between()
    assert lint(data).ok
    rt = ProcedureRuntime.from_bpmn(data)
    assert "Task_ChuyenHoSo" not in build_rule(rt.procedure).submissions
    plan = [("Task_TiepNhan", {}), ("Task_ThamDinh", {}), ("Task_VP", {"decision": "return"}), ("Task_ThamDinh", {}),
            ("Task_VP", {"decision": "approve"}), ("Task_ChuyenHoSo", {}), ("Task_ChuTich", {}),
            ("Task_TraKetQua", {})]
    done, _, final = drive(rt, plan)
    assert final.completed
    assert review_is_fresh(rt.procedure, ["Task_TiepNhan", "Task_ThamDinh", "Task_VP", "Task_ChuyenHoSo"])


# --- bypasses: the diagram lets the Chairman be reached without a fresh review ---------------

def _reach_chairman(rt, plan):
    instance = rt.start()
    for spec_id, data in plan:
        complete_spec(instance, spec_id, data)
    chairman = [t for t in instance.ready_tasks() if t.step == "chairman_approval"]
    assert len(chairman) == 1, [t.spec_id for t in instance.ready_tasks()]
    return instance, chairman[0]


def _assert_refused(instance, task):
    assert not instance.chairman_guard(task.id)
    before = instance.dump()
    with pytest.raises(ReviewNotFresh) as error:
        instance.complete(task.id, {"decision": "approve"})
    assert error.value.element == task.spec_id
    assert fresh_dump(instance) == before


def test_camunda7_bypass_urgent_flow_is_refused():
    rt = runtime(FLAVOURS / "camunda7_modeler5_bypass.bpmn")
    assert lint((FLAVOURS / "camunda7_modeler5_bypass.bpmn").read_bytes()).codes() == ["VP_REVIEW_BYPASSED"]
    instance, task = _reach_chairman(rt, [("Activity_10q560l", {}), ("Activity_1z1rk2o", {}),
                                          ("Activity_0govw71", {"urgent": True})])
    _assert_refused(instance, task)
    # the same file through its review is fine
    instance, task = _reach_chairman(rt, [("Activity_10q560l", {}), ("Activity_1z1rk2o", {}),
                                          ("Activity_0govw71", {"urgent": False}),
                                          ("Activity_1368kra", {"decision": "approve"})])
    assert instance.chairman_guard(task.id)
    instance.complete(task.id, {})


def test_spiffarena_bypass_resubmission_to_the_chairman_is_refused():
    rt = runtime(FLAVOURS / "spiffarena_bypass.bpmn")
    instance, task = _reach_chairman(rt, [("tiep_nhan_ho_so", {}), ("tham_dinh_ho_so", {}),
                                          ("tham_tra_van_phong", {})])
    assert instance.chairman_guard(task.id)
    complete_spec(instance, "chu_tich_ky", {"decision": "return"})
    complete_spec(instance, "hoan_thien_theo_y_kien_chu_tich", {})
    (task,) = instance.ready_tasks()
    assert task.spec_id == "chu_tich_ky"
    _assert_refused(instance, task)


@pytest.mark.parametrize("first", ["Activity_1mx9gu5", "Activity_04ot0wl"])
def test_camunda8_parallel_branch_beside_the_review_joins_before_the_chairman(first):
    """The branch beside the review rejoins it, so at run time the Chairman always follows the
    review: the guard allows it in either order (the linter still flags the diagram)."""
    rt = runtime(FLAVOURS / "camunda8_zeebe_bypass.bpmn")
    other = {"Activity_1mx9gu5": "Activity_04ot0wl", "Activity_04ot0wl": "Activity_1mx9gu5"}[first]
    data = {"Activity_1mx9gu5": {"decision": "approve"}, "Activity_04ot0wl": {}}
    instance, task = _reach_chairman(rt, [("Activity_0hkmbqu", {}), ("Activity_0ebflx2", {}), ("Activity_12h9ez3", {}),
                                          (first, data[first]), (other, data[other])])
    assert instance.chairman_guard(task.id)


def _parallel_bypass() -> bytes:
    """A parallel split whose second branch goes to the Chairman without joining the review."""
    props = {"tthc.legal_days": "5", "tthc.authority": "chu_tich_ubnd_tinh"}
    nodes = [
        Node("StartEvent_1", "startEvent", lane="mot_cua"),
        Node("Task_ThamDinh", "userTask", "Thẩm định", {"tthc.allocation": "1h", "tthc.role": "chuyen_vien"},
             lane="chuyen_vien"),
        Node("Gateway_Split", "parallelGateway", lane="chuyen_vien"),
        Node("Task_VP", "userTask", "Văn phòng thẩm tra",
             {"tthc.allocation": "2h", "tthc.role": "vp_chuyen_vien", "tthc.step": "vp_review"}, lane="vp"),
        Node("Task_GuiDuThao", "userTask", "Gửi dự thảo cho Chủ tịch", {"tthc.allocation": "1h", "tthc.role": "van_thu"},
             lane="van_thu"),
        Node("Task_ChuTich", "userTask", "Chủ tịch ký",
             {"tthc.allocation": "1h", "tthc.role": "chu_tich", "tthc.step": "chairman_approval"}, lane="chu_tich"),
        Node("EndEvent_1", "endEvent", lane="chu_tich"),
    ]
    flows = [
        Flow("Flow_1", "StartEvent_1", "Task_ThamDinh"), Flow("Flow_2", "Task_ThamDinh", "Gateway_Split"),
        Flow("Flow_3", "Gateway_Split", "Task_VP"), Flow("Flow_4", "Gateway_Split", "Task_GuiDuThao"),
        Flow("Flow_5", "Task_VP", "Task_ChuTich"), Flow("Flow_6", "Task_GuiDuThao", "Task_ChuTich"),
        Flow("Flow_7", "Task_ChuTich", "EndEvent_1"),
    ]
    return document("camunda", nodes, flows, props)


def test_parallel_branch_bypass_is_refused_before_the_review():
    data = _parallel_bypass()
    assert lint(data).codes() == ["VP_REVIEW_BYPASSED"]
    rt = ProcedureRuntime.from_bpmn(data)
    instance, task = _reach_chairman(rt, [("Task_ThamDinh", {}), ("Task_GuiDuThao", {})])
    assert "Task_VP" in [t.spec_id for t in instance.ready_tasks()]  # the review is still open
    _assert_refused(instance, task)
    complete_spec(instance, "Task_VP", {})
    assert instance.chairman_guard(task.id)


# --- whether the review is required -----------------------------------------------------------

def test_approval_flow_without_review_when_not_required():
    rt = runtime(PA)
    instance = rt.start({"requires_vp_review": False})
    complete_spec(instance, "Task_TrinhPheDuyet", {"submission_note": "v2"})
    (task,) = instance.ready_tasks()
    assert task.step == "chairman_approval"
    assert instance.chairman_guard(task.id)  # not required for this version
    assert not instance.chairman_guard(task.id, required=True)  # but no review happened


def test_review_required_by_authority_or_start_variable():
    assert not runtime(CL).review_required({})
    assert runtime(CD).review_required({})
    assert runtime(PA).review_required({"requires_vp_review": True})
    assert not runtime(PA).review_required({"requires_vp_review": False}) and not runtime(PA).review_required({})
