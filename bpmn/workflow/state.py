"""Workflow state without its spec (trạng thái quy trình, không kèm đặc tả).

SpiffWorkflow's ``BpmnWorkflowSerializer`` writes the whole process spec into every workflow it
serializes (about 15 KB of the 18 KB of a fresh chairman_decision dossier) and rebuilds it on
every load, which is most of its cost. The spec belongs to the procedure version, so the state
here is SpiffWorkflow's own serializer output with ``spec`` and ``subprocess_specs`` left out,
and loading hands the converter the spec objects the ProcedureRuntime parsed once.

It is done through the serializer's registry: two converters of the default configuration are
replaced —

* ``BpmnWorkflow``: writes everything SpiffWorkflow writes except the specs; restores with the
  cached specs and the instance's own script engine;
* ``Task``: SpiffWorkflow's delta encoding (each task stores what differs from its parent), with
  the data values restored frozen (see :mod:`bpmn.workflow.values`).

Every other class (sub-workflows, events, internal data) keeps SpiffWorkflow's converter. The
registry is built once per process and only read afterwards (its encoder mode is never used), so
threads share it safely.

The dump is compact JSON::

    {"format": "quytrinh.engine/2", "fingerprint": "<sha256 of the BPMN>",
     "serializer_version": "1.5", "history": [[task id, spec id, {submitted data}], …],
     "workflow": {…SpiffWorkflow's workflow dict, no "spec"/"subprocess_specs"…}}
"""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import orjson

from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter, TaskConverter, WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from bpmn.workflow.errors import StateError
from bpmn.workflow.values import freeze, json_default

#: Written by orjson; read by it (several times faster than json, on the hot path).
FORMAT = "quytrinh.engine/2"
#: The same JSON, written by the standard library: what every state was before FORMAT, and what
#: dump still writes when orjson refuses a value. Read by json, which reads every integer exactly.
JSON_FORMAT = "quytrinh.engine/1"
_PREFIX = '{"format":"%s"' % FORMAT  # dump writes the format first
_PREFIX_BYTES = _PREFIX.encode()
# orjson writes the same compact UTF-8 JSON json wrote for every value a state can hold — task
# data is checked plain JSON (values.checked: finite floats, 64-bit integers), the rest
# SpiffWorkflow's own dicts. It would write datetimes and dataclasses itself, where json hands them
# to json_default, which refuses them: they are passed through, to be refused alike. It reads an
# integer beyond 64 bits as an approximate float, without an error — which is why a state holding
# one (written before task data was limited to 64 bits) keeps JSON_FORMAT and is read by json.
_AS_JSON_WOULD = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

History = list[tuple[str, str, dict[str, Any]]]  # (task id, spec id, frozen submitted data)


class _SpecMissing(Exception):
    pass


class FrozenTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter, restoring data as frozen values.

    Frozen values are immutable, so a child's data starts as a plain shallow copy of its
    parent's instead of SpiffWorkflow's ``DeepMerge.merge({}, parent.data)``.
    """

    def from_dict(self, dct, workflow):
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        if task_spec is None:
            raise _SpecMissing(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=UUID(dct["id"]))
        task._parent = UUID(dct["parent"]) if dct["parent"] is not None else None
        task._children = [UUID(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = task.parent
        if delta and parent is not None:
            data = dict(parent.data)
            for key, value in delta.get("updates", {}).items():
                data[key] = freeze(value)
            for key in delta.get("deletions", ()):
                data.pop(key, None)
        else:
            data = {key: freeze(value) for key, value in dct["data"].items()}
        task.data = data
        return task


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """The top workflow without its specs; restored onto the specs given to :meth:`from_dict`."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None, script_engine=None):
        if spec is None:
            raise _SpecMissing("spec")
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry():
    config = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    config[Task] = FrozenTaskConverter
    return BpmnWorkflowSerializer.configure(config)


REGISTRY = _registry()


def dump_state(workflow: BpmnWorkflow, fingerprint: str, history: History) -> str:
    envelope = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "serializer_version": VERSION,
        "history": [[task_id, spec_id, data] for task_id, spec_id, data in history],
        "workflow": REGISTRY.convert(workflow),
    }
    try:
        return orjson.dumps(envelope, default=json_default, option=_AS_JSON_WOULD).decode()
    except TypeError:
        # What orjson refuses and json writes (an integer beyond 64 bits from an older state,
        # non-text keys): json, marked so that json reads it back.
        envelope["format"] = JSON_FORMAT
        return json.dumps(envelope, default=json_default, ensure_ascii=False, separators=(",", ":"))


def _json_loads(state: str | bytes):
    try:
        return json.loads(state)
    except (TypeError, ValueError):
        raise StateError("The workflow state is not valid JSON; it cannot be loaded.") from None


def _parse(state: str | bytes):
    prefix = _PREFIX if isinstance(state, str) else _PREFIX_BYTES
    if isinstance(state, (str, bytes)) and state.startswith(prefix):
        try:
            return orjson.loads(state)
        except orjson.JSONDecodeError:
            pass  # orjson is strict where json is lenient (NaN, lone surrogates): a second reading
    return _json_loads(state)


def load_state(state: str | bytes, fingerprint: str, spec, subprocess_specs,
               script_engine) -> tuple[BpmnWorkflow, History]:
    """(workflow, history) of a dumped state; StateError when it is not one of this version's."""
    envelope = _parse(state)
    if not isinstance(envelope, dict) or envelope.get("format") not in (FORMAT, JSON_FORMAT):
        raise StateError(f"The workflow state is not in the {FORMAT} format; it cannot be loaded.")
    if envelope.get("fingerprint") != fingerprint:
        raise StateError("The workflow state belongs to another procedure version (its BPMN fingerprint "
                         "differs); load it with the version it was started on.")
    if envelope.get("serializer_version") != VERSION:
        raise StateError(f"The workflow state was written by SpiffWorkflow serializer "
                         f"{envelope.get('serializer_version')!r}, not {VERSION!r}.")
    try:
        dct = envelope["workflow"]
        if not isinstance(dct, dict) or dct.get("typename") != "BpmnWorkflow":
            raise ValueError("not a workflow")
        workflow = REGISTRY.restore(dct, spec=spec, subprocess_specs=subprocess_specs,
                                    script_engine=script_engine)
        history = [(str(task_id), str(spec_id), {k: freeze(v) for k, v in data.items()})
                   for task_id, spec_id, data in envelope["history"]]
        if workflow.task_tree is None:
            raise ValueError("no root task")
    except _SpecMissing as exc:
        raise StateError(f"The workflow state names the element '{exc}', which this procedure version "
                         "does not have.", element=str(exc)) from None
    except StateError:
        raise
    except Exception as exc:  # noqa: BLE001 - any damage to the text is one kind of failure
        raise StateError(f"The workflow state is damaged and cannot be loaded ({type(exc).__name__}).") from None
    return workflow, history
