"""Ids the engine cannot take, and the trial start (issue 11, finding 0).

SpiffWorkflow names its own task specs ``Start``, ``End``, ``<process>.EndJoin`` …; an element with
such an id replaced them. Lint now refuses those ids (ID_RESERVED) in every process of the file,
bounds ids and names by the worklist's columns, and starts every file it passes through the
runtime's own start path, so that whatever else stops the engine is a lint error too.
"""
from __future__ import annotations

import sys

import pytest
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from bpmn import MAX_ID_LENGTH, MAX_NAME_LENGTH, lint
from bpmn.spiff import reserved_id
from engine.runtime import ProcedureRuntime
from tests.unit.bpmn.builder import BASE_PROCESS_PROPS, Flow, Node, base_flows, base_nodes, document
from tests.unit.bpmn.hostile_ids import APPROVE, BASE_STEPS, _sub_process


def _renamed(mapping: dict[str, str], *, process_id: str = "Process_1", extra: str = "") -> bytes:
    nodes, flows = base_nodes(), base_flows()
    for n in nodes:
        n.id = mapping.get(n.id, n.id)
    for f in flows:
        f.source, f.target = mapping.get(f.source, f.source), mapping.get(f.target, f.target)
    return document("camunda", nodes, flows, dict(BASE_PROCESS_PROPS), process_id=process_id,
                    extra_definitions_xml=extra)


def _run(data: bytes) -> list[str]:
    rt = ProcedureRuntime.from_bpmn(data)
    instance = rt.start({"dossier_code": "x"})
    while not instance.completed:
        instance = rt.load(instance.dump())
        instance.complete(instance.ready_tasks()[0].id, APPROVE)
    return [step.spec_id for step in instance.history()]


def test_every_name_spiffworkflow_gives_its_own_tasks_is_reserved():
    for process_id in ("Process_1", "Sub_1", "Quy_trình"):
        for name in BpmnProcessSpec(name=process_id).task_specs:
            assert reserved_id(name) is not None, name
    for name in ("StartEventSplit", "StartEventJoin", "Root", "Task_A.BoundaryEventSplit", "T.BoundaryEventJoin"):
        assert reserved_id(name) is not None
    for free in ("start", "END", "Start_1", "EndEvent_1", "Process_1.endjoin", "BoundaryEventSplit"):
        assert reserved_id(free) is None


@pytest.mark.parametrize("position", ["StartEvent_1", "Task_TiepNhan", "Gateway_KetQua", "Task_ChuTich", "EndEvent_1"])
@pytest.mark.parametrize("reserved", ["Start", "End", "Root", "StartEventJoin", "Process_1.EndJoin",
                                      "Task_ThamDinh.BoundaryEventSplit"])
def test_a_reserved_id_anywhere_is_refused_naming_the_element(position, reserved):
    report = lint(_renamed({position: reserved}))
    assert report.codes() == ["ID_RESERVED"] and report.errors[0].element == reserved
    assert report.exit_code == 2 and report.procedure is None


def test_a_task_called_end_is_refused_it_used_to_be_skipped():
    # Before: lint-clean, and the Chairman's step silently disappeared from every dossier.
    report = lint(_renamed({"Task_ChuTich": "End"}))
    assert report.codes() == ["ID_RESERVED"]
    assert "Chủ tịch ký quyết định" in report.errors[0].message.render("vi")


def test_reserved_ids_in_a_sub_process_and_in_a_second_process_are_refused():
    nodes, flows = base_nodes(), base_flows()
    index = next(i for i, n in enumerate(nodes) if n.id == "Task_ThamDinh")
    nodes[index] = _sub_process("camunda", "Task_ThamDinh", ["Start", "Sub_Task", "End", "Sub_F1", "Sub_F2"])
    report = lint(document("camunda", nodes, flows, dict(BASE_PROCESS_PROPS)))
    assert report.codes() == ["ID_RESERVED", "ID_RESERVED"]
    assert [i.element for i in report.errors] == ["Start", "End"]
    pool = ('<bpmn:process id="Process_CongDan" isExecutable="false"><bpmn:startEvent id="Start"/>'
            '<bpmn:endEvent id="EndEvent_CongDan"/></bpmn:process>')
    assert lint(_renamed({}, extra=pool)).codes() == ["ID_RESERVED"]


def test_case_variants_unicode_and_a_reserved_process_id_run():
    mapping = {"StartEvent_1": "start", "EndEvent_1": "END", "Task_TiepNhan": "Tiếp_nhận_hồ_sơ",
               "Task_ThamDinh": "task_thamdinh", "Task_VP": "Task_vp", "Task_ChuTich": "受理审批",
               "Task_TraKetQua": "a" * MAX_ID_LENGTH}
    data = _renamed(mapping, process_id="Start")
    assert lint(data).ok
    assert _run(data) == [mapping.get(s, s) for s in BASE_STEPS]


def test_ids_and_names_are_bounded_by_the_worklist_columns():
    long_id = "a" * (MAX_ID_LENGTH + 1)
    report = lint(_renamed({"Task_TiepNhan": long_id}))
    assert report.codes() == ["BPMN_INVALID"] and report.errors[0].element == long_id
    assert f"{MAX_ID_LENGTH + 1} ký tự" in report.errors[0].message.render("vi")
    nodes = base_nodes()
    nodes[1].name = "Tiếp nhận " * 60
    report = lint(document("camunda", nodes, base_flows(), dict(BASE_PROCESS_PROPS)))
    assert report.codes() == ["BPMN_INVALID"] and report.errors[0].element == "Task_TiepNhan"
    from services.models import DossierStep  # the columns the limits protect

    assert DossierStep.__table__.c.spec_id.type.length >= MAX_ID_LENGTH
    assert DossierStep.__table__.c.name.type.length >= MAX_NAME_LENGTH


def test_a_sub_process_carrying_the_process_id_is_refused_not_looped_on():
    # Found by the hostile-ids property: reading the lanes walked the scopes by id and never ended.
    data = (b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">'
            b'<bpmn:process id="P" isExecutable="true"><bpmn:startEvent id="S"/><bpmn:subProcess id="P">'
            b'<bpmn:subProcess id="Q"><bpmn:startEvent id="S2"/></bpmn:subProcess></bpmn:subProcess>'
            b'</bpmn:process></bpmn:definitions>')
    report = lint(data)
    assert "BPMN_INVALID" in report.codes() and report.exit_code == 2


def test_the_trial_start_refuses_a_gateway_that_can_never_choose():
    # Lint-clean before: a gateway in front of the first step reads data nobody has submitted yet
    # and has no default flow, so no dossier could ever be received.
    nodes, flows = base_nodes(), base_flows()
    nodes.insert(1, Node("Gateway_Dau", "exclusiveGateway", "Loại hồ sơ?", lane="Bộ phận Một cửa"))
    flows[0] = Flow("Flow_1", "StartEvent_1", "Gateway_Dau")
    flows += [Flow("Flow_A", "Gateway_Dau", "Task_TiepNhan", condition="kind == 'a'"),
              Flow("Flow_B", "Gateway_Dau", "Task_TiepNhan", condition="kind == 'b'")]
    report = lint(document("camunda", nodes, flows, dict(BASE_PROCESS_PROPS)))
    assert report.codes() == ["BPMN_INVALID"] and report.errors[0].element == "Gateway_Dau"
    assert "Không thể tiếp nhận hồ sơ nào" in report.errors[0].message.render("vi")
    assert report.procedure is None


def test_the_trial_start_alone_catches_a_start_event_called_start(monkeypatch):
    # The second lock: with the id rule switched off, the start itself fails and is reported on
    # the element, where it used to be a 500 at every receipt.
    monkeypatch.setattr(sys.modules["bpmn.structure"], "reserved_id", lambda element_id: None)
    report = lint(_renamed({"StartEvent_1": "Start"}))
    assert report.codes() == ["BPMN_INVALID"] and report.errors[0].element == "Start"
    assert "No output task connected" in report.errors[0].message.render("en")
