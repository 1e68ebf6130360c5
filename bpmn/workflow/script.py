"""The script engine (bộ đánh giá biểu thức) SpiffWorkflow calls, with no Python eval or exec.

SpiffWorkflow asks its script engine for three things: gateway conditions, timer expressions and
scripts. :class:`RestrictedScriptEngine` answers the first two with :mod:`bpmn.expressions`
(a checked AST walked by our own interpreter) and refuses the third: the linter already refuses
script tasks, and an engine that cannot run code is the second lock on that door.

A condition naming a field that is absent from the task data is *false*, not an error. The
profile makes the default flow of every decision the safe one (a return, a review), so a missing
value never moves a dossier forward, and a start variable left unset (``requires_vp_review``)
takes the default flow as the library's README promises.

Timers run on the engine's clock (:attr:`RestrictedScriptEngine.now`) instead of the wall clock,
so background jobs and ``quytrinh simulate`` decide when a timer is due; see
:func:`install_clock_timers`.
"""
from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition, TimeDateEventDefinition, TimerEventDefinition,
)

from bpmn.expressions import Expression, ExpressionError, compile_expression
from bpmn.workflow.errors import EngineError


class ConditionError(EngineError):
    """A gateway condition could not be evaluated on the task data (e.g. comparing text with a
    number). Raised inside SpiffWorkflow; the instance turns it into InvalidTaskData."""

    def __init__(self, gateway: str | None, expression: str, names: frozenset[str], reason: str) -> None:
        super().__init__(f"The condition '{expression}' cannot be evaluated: {reason}.", element=gateway)
        self.gateway = gateway
        self.expression = expression
        self.names = names


class _NoCode(BasePythonScriptEngineEnvironment):
    """Stands in for SpiffWorkflow's eval/exec environment so that nothing can reach it."""

    def evaluate(self, expression, context, external_context=None):
        raise EngineError("Python expressions are not evaluated by this engine.")

    def execute(self, script, context, external_context=None):
        raise EngineError("Scripts are not run by this engine.")

    def call_service(self, context, **kwargs):
        raise EngineError("Service calls are not made by this engine.")


@functools.lru_cache(maxsize=4096)
def compiled(text: str) -> Expression:
    """The checked expression for *text*, compiled once per distinct text in the process."""
    return compile_expression(text)


class RestrictedScriptEngine(PythonScriptEngine):
    """Conditions and timer literals through bpmn.expressions; never eval, exec or a script.

    One per workflow (it carries that workflow's clock), so it is never shared between threads.
    """

    def __init__(self, now: datetime | None = None) -> None:
        super().__init__(environment=_NoCode())
        self.now = now

    def clock(self) -> datetime:
        """The time timers are measured against: :attr:`now`, or the wall clock when unset."""
        return self.now if self.now is not None else datetime.now(timezone.utc)

    def validate(self, expression: str) -> None:
        compiled(expression)

    def evaluate(self, task, expression, external_context=None) -> Any:
        try:
            expr = compiled(expression)
        except ExpressionError as exc:  # the linter refuses these; a hand-built spec might not
            raise ConditionError(_element(task), expression, frozenset(), str(exc)) from None
        data = task.data
        if not expr.names <= data.keys():
            return False
        try:
            return expr.evaluate(data)
        except ExpressionError as exc:
            raise ConditionError(_element(task), expression, expr.names, str(exc)) from None

    def execute(self, task, script, external_context=None):
        raise EngineError("Scripts are not run by this engine; model the step as a user task.",
                          element=_element(task))

    def call_service(self, task, **kwargs):
        raise EngineError("Service tasks are not supported by this engine.", element=_element(task))


def _element(task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def _clock(task) -> datetime:
    engine = task.workflow.script_engine
    return engine.clock() if isinstance(engine, RestrictedScriptEngine) else datetime.now(timezone.utc)


class ClockDurationTimer(DurationTimerEventDefinition):
    """A duration timer (``PT4H``) measured on the workflow's clock: due = clock when the timer
    started waiting + duration; fired once the clock reaches the due time."""

    def has_fired(self, my_task) -> bool:
        now = _clock(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            parsed = TimerEventDefinition.parse_iso_duration(
                my_task.workflow.script_engine.evaluate(my_task, self.expression))
            event_value = (now + TimerEventDefinition.get_timedelta_from_start(parsed, now)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockTimeDateTimer(TimeDateEventDefinition):
    """A date timer (an ISO 8601 instant) measured on the workflow's clock."""

    def has_fired(self, my_task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.parse_time_or_duration(event_value) <= _clock(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


_CLOCK_CLASSES = {DurationTimerEventDefinition: ClockDurationTimer, TimeDateEventDefinition: ClockTimeDateTimer}


def install_clock_timers(specs) -> int:
    """Give the timer events of *specs* (process specs this runtime owns) the clock-aware
    definitions; returns how many timer events there are. Cycle timers are left as they are:
    the linter admits only durations."""
    count = 0
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            replacement = _CLOCK_CLASSES.get(type(definition))
            if replacement is not None:
                task_spec.event_definition = replacement(definition.name, definition.expression,
                                                         description=definition.description)
            if isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition):
                count += 1
    return count
