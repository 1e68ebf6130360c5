"""The dumped state: small, without the spec, tied to its version; data copied, never shared."""
from __future__ import annotations

import builtins
import json

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bpmn import expressions
from bpmn.workflow import script as runtime_script
from engine.runtime import FORMAT, EngineError, ProcedureRuntime, StateError
from tests.unit.bpmn.builder import Flow, Node, document
from tests.unit.engine.test_runtime_atomic import fresh_dump
from tests.unit.engine.test_runtime_library import (
    CD, CL, DP, PA, RECEIVE, cd_plan, cl_plan, complete_spec, dp_plan, drive, runtime,
)


def test_dump_holds_no_spec():
    rt = runtime(CD)
    instance = rt.start({"dossier_code": "H01.15-261123-0007"})
    state = instance.dump()
    envelope = json.loads(state)
    assert envelope["format"] == FORMAT and envelope["fingerprint"] == rt.spec_fingerprint()
    assert set(envelope) == {"format", "fingerprint", "serializer_version", "history", "workflow"}
    workflow = envelope["workflow"]
    assert "spec" not in workflow and "subprocess_specs" not in workflow
    for text in ("BpmnProcessSpec", "UserTask", "ExclusiveGateway", "tthc.allocation", "Tiếp nhận hồ sơ",
                 "decision == 'approve'", "vp_lanh_dao", "form_fields"):
        assert text not in state, text
    assert len(state) < 4000
    assert workflow["tasks"][workflow["root"]]["data"] == {"dossier_code": "H01.15-261123-0007"}


def test_dump_is_much_smaller_than_spiffworkflows_own():
    rt = runtime(CD)
    instance = rt.start()
    for spec_id, data in cd_plan(["approve"]):
        complete_spec(instance, spec_id, data)
    ours = instance.dump()
    theirs = BpmnWorkflowSerializer().serialize_json(instance._workflow)  # white-box: the same workflow
    assert len(ours) * 2 < len(theirs)
    assert len(ours) < 12_000


def test_state_of_another_version_is_refused():
    state = runtime(CD).start().dump()
    with pytest.raises(StateError) as error:
        runtime(CL).load(state)
    assert "another procedure version" in error.value.message
    edited = CD.read_bytes().replace("Tiếp nhận hồ sơ, chuyển Sở Nội vụ".encode(), "Tiếp nhận".encode())
    assert edited != CD.read_bytes()
    with pytest.raises(StateError):
        ProcedureRuntime.from_bpmn(edited).load(state)


@pytest.mark.parametrize("mangle", [
    lambda s: s[: len(s) // 2],
    lambda s: "",
    lambda s: "null",
    lambda s: "[1, 2]",
    lambda s: s.replace(FORMAT, "quytrinh.engine/0"),
    lambda s: s.replace('"serializer_version":"1.5"', '"serializer_version":"1.0"'),
    lambda s: s.replace('"task_spec":"Task_TiepNhan"', '"task_spec":"Task_KhongCo"'),
    lambda s: s.replace('"root":"', '"root":"x'),
    lambda s: s.replace('"typename":"BpmnWorkflow"', '"typename":"Task"'),
    lambda s: s.replace('"history":[]', '"history":7'),
], ids=["truncated", "empty", "null", "list", "format", "serializer", "element", "root", "typename", "history"])
def test_damaged_state_is_refused(mangle):
    rt = runtime(CD)
    state = rt.start().dump()
    damaged = mangle(state)
    assert damaged != state
    with pytest.raises(StateError) as error:
        rt.load(damaged)
    assert error.value.message
    if "Task_KhongCo" in damaged:
        assert error.value.element == "Task_KhongCo"


def test_state_as_bytes_loads():
    rt = runtime(CD)
    state = rt.start().dump()
    assert rt.load(state.encode()).dump() == state


@pytest.mark.parametrize("order", [["Task_YKien_SoNNMT", "Task_YKien_CongAn"],
                                   ["Task_YKien_CongAn", "Task_YKien_SoNNMT"]])
def test_history_order_and_task_ids_survive_dump_and_load(order):
    rt = runtime(DP)
    done, _, final = drive(rt, dp_plan(order))
    history = final.history()
    assert [s.spec_id for s in history] == done
    assert [s.step for s in history][:1] == ["receive"] and history[-1].step == "return_result"
    assert [s.role for s in history][:2] == ["mot_cua", "chuyen_vien"]
    assert len({s.task_id for s in history}) == len(history)
    # ids handed out as ready tasks are the ids completed and recorded
    instance = rt.start()
    (first,) = instance.ready_tasks()
    reloaded = rt.load(instance.dump())
    assert [t.id for t in reloaded.ready_tasks()] == [first.id]
    reloaded.complete(first.id, RECEIVE)
    assert rt.load(reloaded.dump()).history()[0].task_id == first.id


def test_ready_order_is_document_order_then_id():
    rt = runtime(DP)
    instance = rt.start()
    complete_spec(instance, "Task_TiepNhan", RECEIVE)
    complete_spec(instance, "Task_KiemTra", {"opinion": "ok"})
    for _ in range(3):
        assert [t.spec_id for t in rt.load(instance.dump()).ready_tasks()] == ["Task_YKien_SoNNMT",
                                                                                "Task_YKien_CongAn"]


# --- data is copied in and out ----------------------------------------------------------------

def test_mutating_the_submitted_dict_after_complete_changes_nothing():
    rt = runtime(CD)
    instance = rt.start()
    data = {"applicant_name": "A", "opinion": "x", "attachments": [{"name": "don.pdf", "pages": [1, 2]}]}
    complete_spec(instance, "Task_TiepNhan", data)
    state = instance.dump()
    data["applicant_name"] = "B"
    data["attachments"][0]["pages"].append(3)
    data["attachments"].append("more")
    assert fresh_dump(instance) == state
    assert instance.history()[0].data["attachments"] == [{"name": "don.pdf", "pages": [1, 2]}]


def test_mutating_returned_data_changes_nothing():
    rt = runtime(CD)
    instance = rt.start({"meta": {"desk": ["H01.15"]}})
    complete_spec(instance, "Task_TiepNhan", {"applicant_name": "A", "attachments": [{"pages": [1]}]})
    state = instance.dump()
    data = instance.data
    data["meta"]["desk"].append("X")
    data["attachments"][0]["pages"].append(2)
    data["applicant_name"] = "B"
    step = instance.history()[0]
    step.data["attachments"].clear()
    assert instance.data == {"meta": {"desk": ["H01.15"]}, "applicant_name": "A", "attachments": [{"pages": [1]}]}
    assert instance.history()[0].data == {"applicant_name": "A", "attachments": [{"pages": [1]}]}
    assert fresh_dump(instance) == state


def test_parallel_branches_do_not_share_nested_data():
    """Raw SpiffWorkflow 3.2 merges the branches at the join in place, through objects the branch
    tasks share with it: a nested value submitted on one consultation changed to the other's."""
    rt = runtime(DP)
    instance = rt.start()
    complete_spec(instance, "Task_TiepNhan", RECEIVE)
    complete_spec(instance, "Task_KiemTra", {"opinion": "ok"})
    first = {"snnmt_opinion": "A", "info": {"a": {"x": 1, "y": {"deep": "A"}}}}
    second = {"pccc_opinion": "B", "info": {"a": {"x": 1, "y": {"deep": "B", "other": 2}}}}
    complete_spec(instance, "Task_YKien_SoNNMT", first)
    complete_spec(instance, "Task_YKien_CongAn", second)
    assert [t.spec_id for t in instance.ready_tasks()] == ["Task_ThamDinh"]
    for current in (instance, rt.load(instance.dump())):
        workflow = current._workflow  # white-box: the branch tasks' own data after the join
        for spec_id, submitted in (("Task_YKien_SoNNMT", first), ("Task_YKien_CongAn", second)):
            (task,) = workflow.get_tasks(spec_name=spec_id)
            assert task.data["info"] == submitted["info"], spec_id
        assert [s.data["info"] for s in current.history()[2:]] == [first["info"], second["info"]]


# --- no code runs --------------------------------------------------------------------------------

def test_no_eval_exec_or_code_compilation_during_whole_runs(monkeypatch):
    real_compile = builtins.compile

    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec called")

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & 0x400:  # ast.PyCF_ONLY_AST: parsing to a tree is all the evaluator does
            raise AssertionError("compile to code called")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    runtime_script.compiled.cache_clear()
    expressions._compile.cache_clear()
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "compile", ast_only)
    runs = [(CD, cd_plan(["return", "approve"]), None), (DP, dp_plan(["Task_YKien_CongAn", "Task_YKien_SoNNMT"],
                                                                     ("return", "approve")), None),
            (CL, cl_plan(["return", "approve"]), None)]
    pa_plan = [("Task_TrinhPheDuyet", {"submission_note": "v2"}), ("Task_VP_ThamTra", {"opinion": "ok"}),
               ("Task_VP_YKien", {"decision": "approve"}), ("Task_ChuTichPheDuyet", {"decision": "approve"})]
    runs.append((PA, pa_plan, {"requires_vp_review": True}))
    for path, plan, start in runs:
        rt = ProcedureRuntime.from_bpmn(path.read_bytes())  # parsed under the patch as well
        _, _, final = drive(rt, plan, start)
        assert final.completed
    # the patch does catch SpiffWorkflow's own engine, which evaluates conditions with eval
    rt = runtime(CL)
    raw = BpmnWorkflow(rt.procedure.spec, rt.procedure.subprocess_specs, script_engine=PythonScriptEngine())
    raw.do_engine_steps()
    for spec_id, data in cl_plan(["approve"])[:3]:
        (task,) = raw.get_tasks(state=TaskState.READY, manual=True)
        task.set_data(**data)
        task.run()
        if spec_id == "Task_ChuTichXaKy":
            with pytest.raises(Exception) as error:
                raw.do_engine_steps()
            assert error.value.error_type == "AssertionError" and isinstance(error.value.__context__, AssertionError)
        else:
            raw.do_engine_steps()


def test_script_engine_refuses_scripts():
    engine = runtime(CD).script_engine()

    class FakeTask:
        class task_spec:
            bpmn_id = "Task_X"
            name = "Task_X"
        data = {}

    with pytest.raises(EngineError):
        engine.execute(FakeTask, "import os")
    assert engine.evaluate(FakeTask, "'PT4H'") == "PT4H"
    assert engine.evaluate(FakeTask, "decision == 'approve'") is False  # name absent: false


def test_unusable_bpmn_is_an_engine_error():
    with pytest.raises(EngineError) as error:
        ProcedureRuntime.from_bpmn(b"<not-bpmn/>")
    assert "cannot be run" in error.value.message
    with pytest.raises(EngineError):
        ProcedureRuntime.from_bpmn("text, not bytes")
    nodes = [Node("StartEvent_1", "startEvent"), Node("Script_1", "scriptTask", "Tính phí",
                                                      body="<bpmn:script>import os</bpmn:script>"),
             Node("EndEvent_1", "endEvent")]
    flows = [Flow("Flow_1", "StartEvent_1", "Script_1"), Flow("Flow_2", "Script_1", "EndEvent_1")]
    with pytest.raises(EngineError) as error:
        ProcedureRuntime.from_bpmn(document("camunda", nodes, flows, {"tthc.legal_days": "1"}))
    assert "SCRIPT_FORBIDDEN" in error.value.message and error.value.element == "Script_1"


def test_whole_numbers_round_trip_exactly_up_to_64_bits_and_beyond_are_refused():
    """The state's parser reads 64-bit integers exactly; a larger one would come back as an
    approximate float, so the form data check refuses it, naming the field."""
    from bpmn.workflow.values import INT_MAX, INT_MIN, checked
    from engine.runtime.errors import InvalidTaskData

    rt = runtime(CD)
    state = rt.start({"big": INT_MAX, "small": INT_MIN, "nested": {"n": [INT_MAX]}}).dump()
    assert rt.load(state).dump() == state
    loaded = rt.load(state)._workflow.task_tree.data
    assert loaded["big"] == INT_MAX and type(loaded["big"]) is int and loaded["small"] == INT_MIN
    assert loaded["nested"]["n"] == (INT_MAX,)
    for too_big in (INT_MAX + 1, INT_MIN - 1, 10**30):
        with pytest.raises(InvalidTaskData) as err:
            checked({"so_tien": {"tong": too_big}})
        assert err.value.field == "so_tien" and "so_tien.tong" in str(err.value)


def test_a_state_json_refuses_is_still_read_by_the_lenient_parser_or_called_damaged():
    """orjson is strict; a text it refuses is read by the standard library before being called
    damaged (NaN was never written by the runtime, but is valid to Python's json)."""
    from bpmn.workflow.values import INT_MAX, INT_MIN

    rt = runtime(CD)
    state = rt.start({"n": 1}).dump()
    lenient = state.replace('"n":1', '"n":NaN', 1)
    assert lenient != state
    n = rt.load(lenient)._workflow.task_tree.data["n"]
    assert n != n  # NaN, read by json
    with pytest.raises(StateError, match="not valid JSON"):
        rt.load(state[:-5])
    for start in (INT_MAX + 1, INT_MIN - 1):
        with pytest.raises(EngineError):
            rt.start({"n": start})


def test_a_state_written_by_json_keeps_its_integers_exactly():
    """States from before orjson were written by json (format quytrinh.engine/1) and may hold an
    integer beyond 64 bits, which orjson would read as a float: they are read by json, and one
    that still holds such a number is written back by json in that format."""
    from engine.runtime import JSON_FORMAT

    rt = runtime(CD)
    state = rt.start({"n": 1}).dump()
    assert state.startswith('{"format":"%s"' % FORMAT)
    old = json.loads(state)
    old["format"] = JSON_FORMAT
    old["workflow"]["tasks"][old["workflow"]["root"]]["data"]["n"] = 2**70
    old_text = json.dumps(old, ensure_ascii=False, separators=(",", ":"))
    instance = rt.load(old_text)
    assert instance._workflow.task_tree.data["n"] == 2**70 and type(instance._workflow.task_tree.data["n"]) is int
    instance._state = None  # dump afresh, not the text it was loaded from
    again = instance.dump()
    assert json.loads(again)["format"] == JSON_FORMAT and str(2**70) in again
    assert rt.load(again)._workflow.task_tree.data["n"] == 2**70
    # Bytes are read alike.
    assert rt.load(old_text.encode())._workflow.task_tree.data["n"] == 2**70
    assert rt.load(state.encode()).dump() == state
