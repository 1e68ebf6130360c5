"""Timer events fire on the clock the caller passes (background jobs, simulations), not the wall's."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.runtime import EngineError, ProcedureRuntime, TaskNotReady
from tests.unit.bpmn.builder import Flow, Node, document
from tests.unit.engine.test_runtime_atomic import fresh_dump
from tests.unit.engine.test_runtime_library import CD, complete_spec, runtime

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn" / "lint" / "nested_lanes_subprocess.bpmn"
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc)  # Monday 08:30 in Hà Nội


def _ids(tasks):
    return sorted(t.spec_id for t in tasks)


def test_non_interrupting_timer_on_a_sub_process():
    rt = ProcedureRuntime.from_bpmn(FIXTURE.read_bytes())
    assert rt.has_timers and not runtime(CD).has_timers
    instance = rt.start(now=T0)
    assert instance.waiting_timers() == []
    newly = complete_spec(instance, "Task_TiepNhan", {})
    assert _ids(newly) == ["Sub_CongAn", "Sub_TraCuu"]  # the sub-process's parallel steps
    (timer,) = instance.waiting_timers()
    assert (timer.spec_id, timer.attached_to, timer.interrupting) == ("Timer_Nhac", "SubProcess_XacMinh", False)
    assert timer.due.tzinfo is not None

    state = rt.load(instance.dump()).dump()
    instance = rt.load(state)
    (timer,) = instance.waiting_timers()
    due = timer.due
    assert instance.refresh(due - timedelta(seconds=1)) == [] and not instance.modified
    assert instance.dump() == state

    newly = instance.refresh(due)
    assert _ids(newly) == ["Task_DonDoc"] and instance.modified
    assert _ids(instance.ready_tasks()) == ["Sub_CongAn", "Sub_TraCuu", "Task_DonDoc"]
    assert instance.waiting_timers() == []

    instance = rt.load(instance.dump())
    for spec_id in ("Task_DonDoc", "Sub_TraCuu", "Sub_CongAn"):
        complete_spec(instance, spec_id, {})
    assert [t.spec_id for t in instance.ready_tasks()] == ["Task_Ky"]


def test_timer_due_time_counts_from_the_clock_given_to_complete():
    rt = ProcedureRuntime.from_bpmn(FIXTURE.read_bytes())
    instance = rt.start()
    (task,) = instance.ready_tasks()
    instance.complete(task.id, {}, now=T0)
    assert instance.waiting_timers()[0].due == T0 + timedelta(days=1)
    # a naive datetime is taken as UTC, as the services store it
    instance = rt.start()
    instance.complete(instance.ready_tasks()[0].id, {}, now=T0.replace(tzinfo=None))
    assert instance.waiting_timers()[0].due == T0 + timedelta(days=1)


def _escalation() -> bytes:
    """A step with an interrupting 4-hour timer that hands the dossier to the head of division."""
    timer = ('<bpmn:timerEventDefinition id="TimerDef_1"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">'
             'PT4H</bpmn:timeDuration></bpmn:timerEventDefinition>')
    nodes = [
        Node("StartEvent_1", "startEvent", lane="Chuyên viên"),
        Node("Task_XuLy", "userTask", "Xử lý", {"tthc.allocation": "4h"}, lane="Chuyên viên"),
        Node("Timer_QuaHan", "boundaryEvent", "Quá 4 giờ", lane="Chuyên viên",
             attrs={"attachedToRef": "Task_XuLy", "cancelActivity": "true"}, body=timer),
        Node("Task_DonDoc", "userTask", "Lãnh đạo phòng xử lý thay", {"tthc.allocation": "2h"}, lane="Lãnh đạo phòng"),
        Node("EndEvent_1", "endEvent", lane="Chuyên viên"),
        Node("EndEvent_2", "endEvent", lane="Lãnh đạo phòng"),
    ]
    flows = [Flow("Flow_1", "StartEvent_1", "Task_XuLy"), Flow("Flow_2", "Task_XuLy", "EndEvent_1"),
             Flow("Flow_3", "Timer_QuaHan", "Task_DonDoc"), Flow("Flow_4", "Task_DonDoc", "EndEvent_2")]
    return document("camunda", nodes, flows, {"tthc.legal_days": "2", "tthc.authority": "so"})


def test_interrupting_timer_cancels_the_step():
    rt = ProcedureRuntime.from_bpmn(_escalation())
    instance = rt.start(now=T0)
    (step,) = instance.ready_tasks()
    (timer,) = instance.waiting_timers()
    assert timer.due == T0 + timedelta(hours=4) and timer.interrupting and timer.attached_to == "Task_XuLy"
    instance = rt.load(instance.dump())
    assert [t.spec_id for t in instance.refresh(T0 + timedelta(hours=4, minutes=1))] == ["Task_DonDoc"]
    assert [t.spec_id for t in instance.ready_tasks()] == ["Task_DonDoc"]
    with pytest.raises(TaskNotReady) as error:
        instance.complete(step.id, {})
    assert "cancelled" in error.value.message
    complete_spec(instance, "Task_DonDoc", {})
    assert instance.completed and instance.end_events == ("EndEvent_2",)


def test_completing_before_the_timer_ends_its_wait():
    rt = ProcedureRuntime.from_bpmn(_escalation())
    instance = rt.start(now=T0)
    complete_spec(instance, "Task_XuLy", {})
    assert instance.completed and instance.waiting_timers() == []
    assert instance.end_events == ("EndEvent_1",)
    before = fresh_dump(instance)
    assert instance.refresh(T0 + timedelta(days=3)) == [] and fresh_dump(instance) == before


def test_refresh_needs_a_time():
    instance = ProcedureRuntime.from_bpmn(_escalation()).start(now=T0)
    with pytest.raises(EngineError):
        instance.refresh(None)
    with pytest.raises(EngineError):
        instance.refresh("2026-03-02")
