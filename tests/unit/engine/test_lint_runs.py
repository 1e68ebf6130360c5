"""Lint-clean ⇒ it runs (issue 11, finding 0): for procedures with hostile ids, whatever lint lets
through starts, and an all-approving dossier goes through every human step to the end, with a
dump and load between steps as the services do. Before the fix a start event called ``Start``
passed lint and every receipt failed inside SpiffWorkflow; a task called ``End`` was skipped."""
from __future__ import annotations

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from bpmn import lint
from engine.runtime import ProcedureRuntime
from tests.unit.bpmn.builder import FLAVOURS, base
from tests.unit.bpmn.hostile_ids import APPROVE, BASE_STEPS, Drawn, procedures
from tests.unit.bpmn.test_fuzz import UNEXPECTED

MAX_STEPS = 30


def run_to_end(data: bytes) -> list[str]:
    """The human steps an all-approving dossier completes, from receipt to the end."""
    rt = ProcedureRuntime.from_bpmn(data)
    state = rt.start({"dossier_code": "H01.21-261123-0001"}).dump()
    for _ in range(MAX_STEPS):
        instance = rt.load(state)
        if instance.completed:
            return [step.spec_id for step in instance.history()]
        ready = instance.ready_tasks()
        assert ready, "the dossier waits with no step to do"
        instance.complete(ready[0].id, APPROVE)
        state = instance.dump()
    raise AssertionError(f"not finished after {MAX_STEPS} steps")


def check(drawn: Drawn) -> None:
    report = lint(drawn.data)
    assert [i.message.params for i in report.errors if i.message.msgid == UNEXPECTED] == []
    event("lint-clean" if report.ok else f"refused: {sorted(set(report.codes()))}")
    if report.ok:
        assert run_to_end(drawn.data) == list(drawn.steps), drawn.description


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FLAVOURS).flatmap(procedures))
@example(Drawn(base("camunda"), BASE_STEPS, "the reference procedure"))
def test_lint_clean_procedures_with_hostile_ids_run_to_the_end(drawn):
    check(drawn)
