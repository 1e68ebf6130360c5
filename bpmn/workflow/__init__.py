"""A procedure's workflow on SpiffWorkflow (quy trình chạy trên SpiffWorkflow): what the linter's
trial start and the runtime share, so that a file that passes lint starts as a desk's receipt
starts it.

Modules: :mod:`.start` (the one start path, and the linter's trial start), :mod:`.script` (the
restricted script engine: conditions and timer literals through :mod:`bpmn.expressions`, no code;
clock-aware timers), :mod:`.state` (the stored state, without its spec), :mod:`.values` (plain,
immutable task data), :mod:`.errors` (the base :class:`~.errors.EngineError`). They import only
SpiffWorkflow, orjson and :mod:`bpmn.expressions`; the dossiers' runtime (:mod:`engine.runtime`)
is built on them.
"""
