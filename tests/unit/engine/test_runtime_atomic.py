"""Every refusal leaves the instance exactly as it was, and names the field or element."""
from __future__ import annotations

import json
import math
import threading
from datetime import date, datetime
from enum import IntEnum

import pytest

from engine.runtime import EngineError, Instance, InvalidTaskData, ProcedureRuntime, TaskNotReady
from tests.unit.bpmn.builder import Flow, Node, document
from tests.unit.engine.test_runtime_library import CD, cd_plan, complete_spec, runtime


def fresh_dump(instance: Instance) -> str:
    """Serialize the workflow again rather than return the text kept for atomicity."""
    instance._state = None  # white-box: forces a new serialization of the live workflow
    return instance.dump()


def at_vp_leader() -> tuple[ProcedureRuntime, Instance]:
    """chairman_decision with every step done up to the Văn phòng leader's decision."""
    rt = runtime(CD)
    instance = rt.start({"dossier_code": "H01.15-261123-0007"})
    for spec_id, data in cd_plan(["approve"])[:6]:
        complete_spec(instance, spec_id, data)
    instance = rt.load(instance.dump())
    assert [t.spec_id for t in instance.ready_tasks()] == ["Task_VP_LanhDao"]
    return rt, instance


def assert_unchanged(instance: Instance, before: str) -> None:
    assert instance.dump() == before
    assert fresh_dump(instance) == before
    assert [t.spec_id for t in instance.ready_tasks()] == ["Task_VP_LanhDao"]


def task_ids_by_spec(state: str) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for task in json.loads(state)["workflow"]["tasks"].values():
        ids.setdefault(task["task_spec"], []).append(task["id"])
    return ids


def test_dump_of_a_loaded_state_serializes_to_the_same_text():
    """What the atomicity checks below rely on: load then serialize gives the text back."""
    rt = runtime(CD)
    state = rt.start().dump()
    for spec_id, data in cd_plan(["return", "approve"]):
        instance = rt.load(state)
        assert fresh_dump(instance) == state
        complete_spec(instance, spec_id, data)
        state = instance.dump()
    assert fresh_dump(rt.load(state)) == state


@pytest.mark.parametrize("data, field", [
    ({}, "decision"),
    ({"decision": ""}, "decision"),
    ({"decision": "maybe"}, "decision"),
    ({"decision": "APPROVE"}, "decision"),
    ({"decision": 1}, "decision"),
    ({"decision": ["approve"]}, "decision"),
    ({"decision": "approve", "opinion": 42}, "opinion"),
    ({"decision": "approve", "opinion": object()}, "opinion"),
    ({"decision": "approve", "opinion": datetime(2026, 1, 1)}, "opinion"),
    ({"decision": "approve", "note": {1, 2}}, "note"),
    ({"decision": "approve", "note": ("a", "b")}, "note"),
    ({"decision": "approve", "note": math.nan}, "note"),
    ({"decision": "approve", "note": {"a": [1, {"b": b"bytes"}]}}, "note"),
    ({"decision": "approve", "note": {"typename": "UUID", "value": "x"}}, "note"),
    ({"decision": "approve", "typename": "Task"}, "typename"),
    ({"decision": "approve", "note": {1: "non-text key"}}, "note"),
    ({"decision": "approve", "dossier_code": "H01.15-000000-0000"}, "dossier_code"),
])
def test_refused_data_names_the_field_and_changes_nothing(data, field):
    _, instance = at_vp_leader()
    before = instance.dump()
    (task,) = instance.ready_tasks()
    with pytest.raises(InvalidTaskData) as error:
        instance.complete(task.id, data)
    assert error.value.field == field and error.value.message
    assert_unchanged(instance, before)
    # and the same instance goes on normally
    assert [t.spec_id for t in instance.complete(task.id, {"decision": "approve"})] == ["Task_ChuTichKy"]


def test_a_step_cannot_forge_the_routing_of_the_approval_flow():
    """requires_vp_review is a start variable read by a gateway: only the services set it."""
    from tests.unit.engine.test_runtime_library import PA

    for start in ({"requires_vp_review": True}, {}):
        instance = runtime(PA).start(start)
        before = instance.dump()
        with pytest.raises(InvalidTaskData) as error:
            complete_spec(instance, "Task_TrinhPheDuyet", {"submission_note": "v2", "requires_vp_review": False})
        assert error.value.field == "requires_vp_review" and error.value.element == "Task_TrinhPheDuyet"
        assert fresh_dump(instance) == before


def test_deeply_nested_value_is_refused():
    _, instance = at_vp_leader()
    before = instance.dump()
    value: list = []
    for _ in range(40):
        value = [value]
    with pytest.raises(InvalidTaskData) as error:
        instance.complete(instance.ready_tasks()[0].id, {"decision": "approve", "note": value})
    assert error.value.field == "note"
    assert_unchanged(instance, before)


def test_data_must_be_a_mapping():
    _, instance = at_vp_leader()
    before = instance.dump()
    with pytest.raises(InvalidTaskData):
        instance.complete(instance.ready_tasks()[0].id, [("decision", "approve")])
    assert_unchanged(instance, before)


@pytest.mark.parametrize("value, expected", [
    ("2026-11-23", "2026-11-23"), ("2026-11-23T08:30:00+07:00", "2026-11-23T08:30:00+07:00"), (None, None),
])
def test_date_fields_accept_iso_dates(value, expected):
    rt = runtime(CD)
    instance = rt.start()
    for spec_id, data in cd_plan(["approve"])[:8]:
        complete_spec(instance, spec_id, data)
    complete_spec(instance, "Task_VanThuUBND", {"decision_number": "1/QĐ", "issued_date": value})
    assert instance.history()[-1].data["issued_date"] == expected


@pytest.mark.parametrize("value", ["23/11/2026", "2026-13-01", "tomorrow", 20261123, True])
def test_malformed_date_is_refused_naming_the_field(value):
    rt = runtime(CD)
    instance = rt.start()
    for spec_id, data in cd_plan(["approve"])[:8]:
        complete_spec(instance, spec_id, data)
    before = instance.dump()
    with pytest.raises(InvalidTaskData) as error:
        complete_spec(instance, "Task_VanThuUBND", {"decision_number": "1/QĐ", "issued_date": value})
    assert error.value.field == "issued_date" and "issued_date" in error.value.message
    assert instance.dump() == before == fresh_dump(instance)


def test_wrong_type_for_a_boolean_field():
    instance = runtime(CD).start()
    before = instance.dump()
    with pytest.raises(InvalidTaskData) as error:
        complete_spec(instance, "Task_TiepNhan", {"applicant_name": "A", "documents_complete": "yes"})
    assert error.value.field == "documents_complete"
    assert fresh_dump(instance) == before


def test_json_subclasses_are_stored_as_plain_values():
    class Level(IntEnum):
        HIGH = 2

    class Text(str):
        pass

    instance = runtime(CD).start()
    complete_spec(instance, "Task_TiepNhan", {"applicant_name": Text("A"), "priority": Level.HIGH})
    data = instance.history()[0].data
    assert type(data["applicant_name"]) is str and type(data["priority"]) is int and data["priority"] == 2


def test_unknown_task_ids():
    _, instance = at_vp_leader()
    before = instance.dump()
    ids = task_ids_by_spec(before)
    cases = {
        "not-a-uuid": "task_id",
        "00000000-0000-4000-8000-000000000000": "task_id",
    }
    for task_id, field in cases.items():
        with pytest.raises(TaskNotReady) as error:
            instance.complete(task_id, {"decision": "approve"})
        assert error.value.field == field
    for spec_id, reason in [("Task_TiepNhan", "already completed"), ("Gateway_HoanThien", "not a human step"),
                            ("Task_ChuTichKy", "not ready yet")]:
        with pytest.raises(TaskNotReady) as error:
            instance.complete(ids[spec_id][0], {"decision": "approve"})
        assert reason in error.value.message
        if spec_id.startswith("Task_"):
            assert error.value.element == spec_id
    assert_unchanged(instance, before)


def test_completing_twice_is_refused_and_changes_nothing():
    rt, instance = at_vp_leader()
    (task,) = instance.ready_tasks()
    instance.complete(task.id, {"decision": "approve"})
    after_first = instance.dump()
    with pytest.raises(TaskNotReady) as error:
        instance.complete(task.id, {"decision": "return"})
    assert "already completed" in error.value.message and error.value.element == "Task_VP_LanhDao"
    assert instance.dump() == after_first == fresh_dump(instance)
    # a second official working from the same stored state also finds it done
    with pytest.raises(TaskNotReady):
        rt.load(after_first).complete(task.id, {"decision": "approve"})


# --- a gateway that cannot choose ----------------------------------------------------------

def _gateway_without_default() -> bytes:
    """Appraise (no form) → gateway with 'approve' / 'return' flows and no default; the second
    gateway compares a number."""
    lane = "Chuyên viên"
    nodes = [
        Node("StartEvent_1", "startEvent", lane=lane),
        Node("Task_ThamDinh", "userTask", "Thẩm định", {"tthc.allocation": "1h", "tthc.role": "chuyen_vien"}, lane=lane),
        Node("Gateway_1", "exclusiveGateway", "Kết quả?", lane=lane),
        Node("Gateway_2", "exclusiveGateway", "Lớn?", lane=lane, attrs={"default": "Flow_Small"}),
        Node("Task_Lon", "userTask", "Hồ sơ lớn", {"tthc.allocation": "1h", "tthc.role": "chuyen_vien"}, lane=lane),
        Node("Task_Nho", "userTask", "Hồ sơ nhỏ", {"tthc.allocation": "1h", "tthc.role": "chuyen_vien"}, lane=lane),
        Node("EndEvent_1", "endEvent", lane=lane),
    ]
    flows = [
        Flow("Flow_1", "StartEvent_1", "Task_ThamDinh"),
        Flow("Flow_2", "Task_ThamDinh", "Gateway_1"),
        Flow("Flow_Approve", "Gateway_1", "Gateway_2", condition="decision == 'approve'"),
        Flow("Flow_Return", "Gateway_1", "Task_ThamDinh", condition="decision == 'return'"),
        Flow("Flow_Big", "Gateway_2", "Task_Lon", condition="amount > 100"),
        Flow("Flow_Small", "Gateway_2", "Task_Nho"),
        Flow("Flow_3", "Task_Lon", "EndEvent_1"),
        Flow("Flow_4", "Task_Nho", "EndEvent_1"),
    ]
    return document("camunda", nodes, flows, {"tthc.legal_days": "2", "tthc.authority": "so"})


def test_gateway_that_cannot_choose_names_the_gateway_and_field():
    rt = ProcedureRuntime.from_bpmn(_gateway_without_default())
    instance = rt.start()
    before = instance.dump()
    (task,) = instance.ready_tasks()
    for data in ({"decision": "maybe"}, {}):
        with pytest.raises(InvalidTaskData) as error:
            instance.complete(task.id, data)
        assert error.value.element == "Gateway_1" and error.value.field == "decision"
        assert instance.dump() == before == fresh_dump(instance)
        assert instance.history() == [] and [t.id for t in instance.ready_tasks()] == [task.id]
    with pytest.raises(InvalidTaskData) as error:
        instance.complete(task.id, {"decision": "approve", "amount": "nhiều"})
    assert error.value.element == "Flow_Big" and error.value.field == "amount"
    assert "Gateway_2" in error.value.message
    assert fresh_dump(instance) == before
    assert [t.spec_id for t in instance.complete(task.id, {"decision": "approve", "amount": 250})] == ["Task_Lon"]


def test_a_missing_name_makes_a_condition_false():
    rt = ProcedureRuntime.from_bpmn(_gateway_without_default())
    instance = rt.start()
    assert [t.spec_id for t in complete_spec(instance, "Task_ThamDinh", {"decision": "approve"})] == ["Task_Nho"]


def test_instance_is_bound_to_its_thread():
    _, instance = at_vp_leader()
    errors = []

    def use():
        try:
            instance.ready_tasks()
        except EngineError as exc:
            errors.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "thread" in errors[0].message


def test_start_data_is_checked():
    rt = runtime(CD)
    with pytest.raises(InvalidTaskData) as error:
        rt.start({"when": date(2026, 1, 1)})
    assert error.value.field == "when"
    with pytest.raises(InvalidTaskData):
        rt.start("not a mapping")
