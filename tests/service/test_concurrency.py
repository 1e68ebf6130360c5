"""Twenty officials complete the same step at the same moment (SQLite): exactly one wins.

Each racer has its own engine, connection and Session (separate web workers), and they start
together on a barrier. Exactly one completion is stored; the other nineteen get a Conflict —
never "database is locked", never a StaleDataError or IntegrityError; one audit event, a chain
that verifies, the dossier's state_version up by one, the next step(s) created once.
"""
from __future__ import annotations

import pytest

from tests.concurrency_helpers import BUILDING, CHAIRMAN, interleave, run_race


@pytest.mark.parametrize(("code", "spec_id"), [
    (CHAIRMAN, "Task_VanThuSo"),  # a sequential step: one next step
    (BUILDING, "Task_KiemTra"),  # opens a parallel consultation: two next steps
], ids=["sequential", "parallel-split"])
def test_twenty_officials_complete_the_same_step(app, db_session, code, spec_id):
    run_race(db_session, app.config["SQLALCHEMY_DATABASE_URI"], code, spec_id)


@pytest.mark.parametrize("point", ["after_state_update", "before_commit"])
@pytest.mark.parametrize("other", ["claim", "stop_clock"])
def test_completion_interleaved_with_another_use_case(app, db_session, point, other):
    """While a completion is inside its transaction, another official claims the step or the desk
    asks for a supplement: the outcome is a serial one, the losers get a Conflict."""
    interleave(db_session, app.config["SQLALCHEMY_DATABASE_URI"], point, other)
