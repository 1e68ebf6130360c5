"""The demo library runs through the runtime API alone, with a dump and load between every step,
as the services run it: every path of every file."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from engine.runtime import Instance, ProcedureRuntime

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = ROOT / "bpmn" / "library"
FLAVOURS = ROOT / "tests" / "fixtures" / "bpmn" / "flavours"

APPROVE = {"decision": "approve", "opinion": "Đồng ý."}
RETURN = {"decision": "return", "opinion": "Đề nghị bổ sung, hoàn thiện hồ sơ."}
RECEIVE = {"applicant_name": "Hội Nông dân thủy sản An Giang", "documents_complete": True}
NOTE = {"opinion": "Đã xử lý."}


@functools.cache
def runtime(path: Path) -> ProcedureRuntime:
    return ProcedureRuntime.from_bpmn(path.read_bytes())


def drive(rt: ProcedureRuntime, plan, start=None):
    """Complete the plan's (spec id, data) steps, loading and dumping around each step.

    Returns (completed spec ids, the READY spec ids seen before each step, the final instance)."""
    state = rt.start(start).dump()
    done, ready_seen = [], []
    for spec_id, data in plan:
        instance = rt.load(state)
        ready = instance.ready_tasks()
        ready_seen.append([t.spec_id for t in ready])
        matching = [t for t in ready if t.spec_id == spec_id]
        assert matching, f"{spec_id} is not ready after {done}; ready: {ready_seen[-1]}"
        newly = instance.complete(matching[0].id, data)
        assert {t.id for t in newly} <= {t.id for t in instance.ready_tasks()}
        state = instance.dump()
        done.append(spec_id)
    final = rt.load(state)
    assert final.ready_tasks() == []
    assert [s.spec_id for s in final.history()] == done
    return done, ready_seen, final


def complete_spec(instance: Instance, spec_id: str, data: dict):
    (task,) = [t for t in instance.ready_tasks() if t.spec_id == spec_id]
    return instance.complete(task.id, data)


# ---- chairman_decision.bpmn
CD = LIBRARY / "chairman_decision.bpmn"
CD_DEPARTMENT = ["Task_ThamDinh", "Task_LanhDaoPhong", "Task_LanhDaoSo"]
CD_VP = ["Task_VP_ThamTra", "Task_VP_LanhDao"]
CD_AFTER = ["Task_ChuTichKy", "Task_VanThuUBND", "Task_TraKetQua"]


def cd_plan(vp_decisions):
    plan = [("Task_TiepNhan", RECEIVE), ("Task_VanThuSo", {"incoming_number": "125/SNV"})]
    department = [("Task_ThamDinh", {"opinion": "Đủ điều kiện."}), ("Task_LanhDaoPhong", NOTE),
                  ("Task_LanhDaoSo", {"submission_number": "88/TTr-SNV"})]
    for decision in vp_decisions:
        plan += department
        plan += [("Task_VP_ThamTra", {"opinion": "Hồ sơ đủ điều kiện.", "proposal": decision}),
                 ("Task_VP_LanhDao", APPROVE if decision == "approve" else RETURN)]
    return plan + [("Task_ChuTichKy", NOTE), ("Task_VanThuUBND", {"decision_number": "1234/QĐ-UBND",
                                                                  "issued_date": "2026-11-23"}),
                   ("Task_TraKetQua", {"received_by": "Nguyễn Văn A"})]


def test_chairman_decision_approve_path():
    done, ready_seen, final = drive(runtime(CD), cd_plan(["approve"]))
    assert done == ["Task_TiepNhan", "Task_VanThuSo", *CD_DEPARTMENT, *CD_VP, *CD_AFTER]
    assert all(len(seen) == 1 for seen in ready_seen)
    assert final.completed and final.end_events == ("EndEvent_DaTraKetQua",)
    assert final.data["decision_number"] == "1234/QĐ-UBND"


@pytest.mark.parametrize("returns", [1, 2])
def test_chairman_decision_returned_by_van_phong_then_approved(returns):
    done, _, final = drive(runtime(CD), cd_plan(["return"] * returns + ["approve"]))
    assert done == ["Task_TiepNhan", "Task_VanThuSo", *(CD_DEPARTMENT + CD_VP) * (returns + 1), *CD_AFTER]
    assert final.completed
    decisions = [s.data.get("decision") for s in final.history() if s.spec_id == "Task_VP_LanhDao"]
    assert decisions == ["return"] * returns + ["approve"]


def test_ready_task_carries_the_profile():
    rt = runtime(CD)
    (task,) = rt.start().ready_tasks()
    assert (task.spec_id, task.role, task.step, task.allocation_minutes) == ("Task_TiepNhan", "mot_cua", "receive", 90)
    assert task.name == "Tiếp nhận hồ sơ, chuyển Sở Nội vụ" and "Một cửa" in task.lane
    assert [f.id for f in task.form_fields] == ["applicant_name", "applicant_phone", "documents_complete", "opinion"]
    assert rt.human_task("Task_VP_LanhDao").step == "vp_review"


# ---- department_parallel.bpmn
DP = LIBRARY / "department_parallel.bpmn"
DP_CONSULT = ["Task_YKien_SoNNMT", "Task_YKien_CongAn"]
CONSULT_DATA = {"Task_YKien_SoNNMT": {"snnmt_opinion": "Thống nhất.", "snnmt_agrees": True},
                "Task_YKien_CongAn": {"pccc_opinion": "Đạt yêu cầu PCCC.", "pccc_agrees": True}}


def dp_plan(order, ldp_decisions=("approve",)):
    plan = [("Task_TiepNhan", RECEIVE), ("Task_KiemTra", {"opinion": "Hồ sơ hợp lệ."})]
    plan += [(t, CONSULT_DATA[t]) for t in order]
    for decision in ldp_decisions:
        plan += [("Task_ThamDinh", {"opinion": "Đủ điều kiện cấp phép."}),
                 ("Task_LanhDaoPhong", APPROVE if decision == "approve" else RETURN)]
    return plan + [("Task_LanhDaoSo", NOTE), ("Task_VanThu", {"permit_number": "45/GPXD"}),
                   ("Task_TraKetQua", {"received_by": "Công ty TNHH Xây dựng Long Xuyên"})]


@pytest.mark.parametrize("order", [DP_CONSULT, DP_CONSULT[::-1]], ids=["snnmt_first", "cong_an_first"])
def test_department_parallel_consultation_in_either_order(order):
    done, ready_seen, final = drive(runtime(DP), dp_plan(order))
    assert done == ["Task_TiepNhan", "Task_KiemTra", *order, "Task_ThamDinh", "Task_LanhDaoPhong",
                    "Task_LanhDaoSo", "Task_VanThu", "Task_TraKetQua"]
    assert ready_seen[2] == DP_CONSULT  # both open at once, in document order
    assert ready_seen[3] == [order[1]]  # the join waits for the second
    assert final.data["snnmt_agrees"] is True and final.data["pccc_agrees"] is True
    assert final.end_events == ("EndEvent_DaTraKetQua",)


def test_parallel_branches_reach_the_join_with_both_opinions():
    rt = runtime(DP)
    instance = rt.start()
    complete_spec(instance, "Task_TiepNhan", RECEIVE)
    complete_spec(instance, "Task_KiemTra", {"opinion": "Hồ sơ hợp lệ."})
    assert complete_spec(instance, "Task_YKien_CongAn", CONSULT_DATA["Task_YKien_CongAn"]) == []
    newly = complete_spec(rt.load(instance.dump()), "Task_YKien_SoNNMT", CONSULT_DATA["Task_YKien_SoNNMT"])
    assert [t.spec_id for t in newly] == ["Task_ThamDinh"]


def test_department_parallel_returned_by_head_of_division_once():
    done, _, final = drive(runtime(DP), dp_plan(DP_CONSULT, ("return", "approve")))
    assert done == ["Task_TiepNhan", "Task_KiemTra", *DP_CONSULT, "Task_ThamDinh", "Task_LanhDaoPhong",
                    "Task_ThamDinh", "Task_LanhDaoPhong", "Task_LanhDaoSo", "Task_VanThu", "Task_TraKetQua"]
    assert final.completed


# ---- commune_level.bpmn
CL = LIBRARY / "commune_level.bpmn"


def cl_plan(decisions):
    plan = [("Task_TiepNhan", RECEIVE)]
    for decision in decisions:
        plan += [("Task_KiemTra", {"opinion": "Đã xác minh.", "verification_needed": False}),
                 ("Task_ChuTichXaKy", APPROVE if decision == "approve" else RETURN)]
    return plan + [("Task_VanThuXa", {"register_number": "17/XN"}), ("Task_TraKetQua", {"received_by": "Trần Thị B"})]


@pytest.mark.parametrize("decisions", [["approve"], ["return", "approve"]], ids=["approve", "returned_once"])
def test_commune_level_paths(decisions):
    done, _, final = drive(runtime(CL), cl_plan(decisions))
    assert done == [spec for spec, _ in cl_plan(decisions)]
    assert final.completed and final.end_events == ("EndEvent_DaTraKetQua",)


def test_commune_chairman_is_not_the_provincial_chairman():
    """A commune chairman's task has no tthc.step, so the review guard never applies to it."""
    instance = runtime(CL).start()
    complete_spec(instance, "Task_TiepNhan", RECEIVE)
    complete_spec(instance, "Task_KiemTra", {"opinion": "Đã xác minh."})
    (task,) = instance.ready_tasks()
    assert task.spec_id == "Task_ChuTichXaKy" and task.step is None
    assert instance.chairman_guard(task.id, required=True)


# ---- procedure_approval.bpmn
PA = LIBRARY / "procedure_approval.bpmn"
SUBMIT = ("Task_TrinhPheDuyet", {"submission_note": "Phiên bản 2: cắt giảm 30 % thời gian."})
VP_REVIEW = ("Task_VP_ThamTra", {"opinion": "Quy trình phù hợp."})


@pytest.mark.parametrize("start, plan, end", [
    ({"requires_vp_review": True}, [SUBMIT, VP_REVIEW, ("Task_VP_YKien", APPROVE), ("Task_ChuTichPheDuyet", APPROVE)],
     "EndEvent_SanSangCongBo"),
    ({"requires_vp_review": False}, [SUBMIT, ("Task_ChuTichPheDuyet", APPROVE)], "EndEvent_SanSangCongBo"),
    ({}, [SUBMIT, VP_REVIEW, ("Task_VP_YKien", APPROVE), ("Task_ChuTichPheDuyet", APPROVE)],
     "EndEvent_SanSangCongBo"),
    ({"requires_vp_review": True}, [SUBMIT, VP_REVIEW, ("Task_VP_YKien", RETURN), SUBMIT, VP_REVIEW,
                                    ("Task_VP_YKien", APPROVE), ("Task_ChuTichPheDuyet", APPROVE)],
     "EndEvent_SanSangCongBo"),
    ({"requires_vp_review": True}, [SUBMIT, VP_REVIEW, ("Task_VP_YKien", APPROVE), ("Task_ChuTichPheDuyet", RETURN),
                                    SUBMIT, VP_REVIEW, ("Task_VP_YKien", APPROVE),
                                    ("Task_ChuTichPheDuyet", APPROVE)], "EndEvent_SanSangCongBo"),
    ({"requires_vp_review": False}, [SUBMIT, ("Task_ChuTichPheDuyet", RETURN), SUBMIT,
                                     ("Task_ChuTichPheDuyet", APPROVE)], "EndEvent_SanSangCongBo"),
    ({"requires_vp_review": True}, [SUBMIT, VP_REVIEW, ("Task_VP_YKien", APPROVE),
                                    ("Task_ChuTichPheDuyet", {"decision": "reject", "opinion": "Không phù hợp."})],
     "EndEvent_KhongPheDuyet"),
], ids=["vp_then_approve", "no_vp_needed", "variable_unset_means_review", "vp_returns", "chairman_returns",
        "chairman_returns_without_vp", "chairman_rejects"])
def test_procedure_approval_paths(start, plan, end):
    done, _, final = drive(runtime(PA), plan, start)
    assert done == [spec for spec, _ in plan]
    assert final.completed and final.end_events == (end,)
    assert final.data.get("requires_vp_review") == start.get("requires_vp_review")


# ---- flavour fixtures (Camunda 8 FEEL, SpiffArena Python, Camunda 7 JUEL conditions)

@pytest.mark.parametrize("name, plan", [
    ("camunda7_modeler5_ok.bpmn", [("Activity_10q560l", {}), ("Activity_1z1rk2o", {}), ("Activity_0govw71", {}),
                                   ("Activity_1368kra", {"decision": "return"}), ("Activity_1z1rk2o", {}),
                                   ("Activity_0govw71", {}), ("Activity_1368kra", {"decision": "approve"}),
                                   ("Activity_13eq64m", {}), ("Activity_0yphn92", {})]),
    ("camunda8_zeebe_ok.bpmn", [("Activity_0hkmbqu", {}), ("Activity_0ebflx2", {}), ("Activity_12h9ez3", {}),
                                ("Activity_1mx9gu5", {"decision": "approve"}), ("Activity_13dfbqz", {}),
                                ("Activity_1a95lfg", {})]),
    ("spiffarena_ok.bpmn", [("tiep_nhan_ho_so", {}), ("tham_dinh_ho_so", {}), ("tham_tra_van_phong", {}),
                            ("chu_tich_ky", {"decision": "return"}), ("tham_dinh_ho_so", {}),
                            ("tham_tra_van_phong", {}), ("chu_tich_ky", {"decision": "approve"}),
                            ("phat_hanh_quyet_dinh", {}), ("tra_ket_qua", {})]),
])
def test_flavour_fixtures_run(name, plan):
    done, _, final = drive(runtime(FLAVOURS / name), plan)
    assert done == [spec for spec, _ in plan] and final.completed
