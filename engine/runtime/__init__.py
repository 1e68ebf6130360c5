"""The runtime (bộ máy thực thi): dossiers' workflows on SpiffWorkflow, without Flask or a database.

::

    runtime = runtime_for("version:12:<sha256>", lambda: bpmn_bytes)   # parsed once per version
    instance = runtime.start({"dossier_code": code}, now=received_at)   # runs to the first steps
    state = instance.dump()                                             # store it (no spec inside)
    instance = runtime.load(state)
    instance.ready_tasks()                                              # [ReadyTask]
    instance.complete(task_id, {"decision": "approve"}, now=now)        # newly ready tasks
    instance.history(); instance.completed; instance.end_events
    instance.waiting_timers(); instance.refresh(now)                    # background jobs
    review_is_fresh(runtime.procedure, [s.spec_id for s in instance.history()])

Modules: :mod:`.procedure` (ProcedureRuntime), :mod:`.instance` (Instance), :mod:`.state` (dump
format), :mod:`.script` (restricted evaluator, clock timers), :mod:`.forms` (submitted data),
:mod:`.values` (plain, immutable data), :mod:`.guard` (the Văn phòng review rule),
:mod:`.cache` (runtime_for), :mod:`.start` (the start path, shared with the linter).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The names are loaded on first use (PEP 562), not when the package is imported: the linter
# (bpmn.lint) imports the pure modules .start, .script, .state, .values and .errors, and an eager
# import here would pull in .procedure, which imports bpmn — a cycle.
_EXPORTS = {
    "clear_cache": "cache", "runtime_for": "cache", "set_cache_size": "cache",
    "EngineError": "errors", "InvalidTaskData": "errors", "ReviewNotFresh": "errors",
    "StateError": "errors", "TaskNotReady": "errors",
    "ReviewRule": "guard", "review_is_fresh": "guard",
    "CompletedStep": "instance", "Instance": "instance", "ReadyTask": "instance", "WaitingTimer": "instance",
    "ProcedureRuntime": "procedure",
    "FORMAT": "state", "JSON_FORMAT": "state",
}

__all__ = [
    "EngineError", "TaskNotReady", "InvalidTaskData", "StateError", "ReviewNotFresh",
    "ReadyTask", "CompletedStep", "WaitingTimer", "Instance", "ProcedureRuntime", "ReviewRule",
    "runtime_for", "set_cache_size", "clear_cache", "review_is_fresh", "FORMAT", "JSON_FORMAT",
]

if TYPE_CHECKING:  # pragma: no cover
    from engine.runtime.cache import clear_cache, runtime_for, set_cache_size
    from engine.runtime.errors import EngineError, InvalidTaskData, ReviewNotFresh, StateError, TaskNotReady
    from engine.runtime.guard import ReviewRule, review_is_fresh
    from engine.runtime.instance import CompletedStep, Instance, ReadyTask, WaitingTimer
    from engine.runtime.procedure import ProcedureRuntime
    from engine.runtime.state import FORMAT, JSON_FORMAT


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"engine.runtime.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
