"""Issue 4's concurrency and crash guarantees on PostgreSQL (the same scenarios as on SQLite).

Twenty officials, each on their own engine and connection, complete the same step at once:
exactly one wins, nineteen get a Conflict, one audit event, the chain verifies, the next step(s)
once. A worker SIGKILLed inside a completion leaves the dossier as it was.
"""
from __future__ import annotations

import pytest

from tests.concurrency_helpers import BUILDING, CHAIRMAN, interleave, run_crash, run_race

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(("code", "spec_id"), [
    (CHAIRMAN, "Task_VanThuSo"),
    (BUILDING, "Task_KiemTra"),
], ids=["sequential", "parallel-split"])
def test_twenty_officials_complete_the_same_step_pg(pg_url, pg_session, code, spec_id):
    run_race(pg_session, pg_url, code, spec_id)


# On PostgreSQL the writes are one statement sent with the COMMIT (tests/hold_points.py): "after
# the state update" and "before the commit" are the same moment, just before the COMMIT goes out.

def test_sigkill_mid_step_leaves_the_dossier_as_before_pg(pg_url, pg_session, tmp_path):
    run_crash(pg_session, pg_url, "before_commit", tmp_path)


@pytest.mark.parametrize("other", ["claim", "stop_clock"])
def test_completion_interleaved_with_another_use_case_pg(pg_url, pg_session, other):
    interleave(pg_session, pg_url, "before_commit", other)
