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

Modules: :mod:`.procedure` (ProcedureRuntime), :mod:`.instance` (Instance), :mod:`.forms` (submitted
data), :mod:`.guard` (the Văn phòng review rule), :mod:`.cache` (runtime_for), :mod:`.errors`.
They build on :mod:`bpmn.workflow`, which the linter's trial start shares: the one start path,
the restricted script engine and clock timers, the state format, plain immutable values.
"""
from bpmn.workflow.state import FORMAT, JSON_FORMAT
from engine.runtime.cache import clear_cache, runtime_for, set_cache_size
from engine.runtime.errors import EngineError, InvalidTaskData, ReviewNotFresh, StateError, TaskNotReady
from engine.runtime.guard import ReviewRule, review_is_fresh
from engine.runtime.instance import CompletedStep, Instance, ReadyTask, WaitingTimer
from engine.runtime.procedure import ProcedureRuntime

__all__ = [
    "EngineError", "TaskNotReady", "InvalidTaskData", "StateError", "ReviewNotFresh",
    "ReadyTask", "CompletedStep", "WaitingTimer", "Instance", "ProcedureRuntime", "ReviewRule",
    "runtime_for", "set_cache_size", "clear_cache", "review_is_fresh", "FORMAT", "JSON_FORMAT",
]
