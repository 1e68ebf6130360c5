"""A worker killed with SIGKILL in the middle of a step leaves the dossier exactly as before it (SQLite).

A real child process (tests/crash_worker.py) opens the same database file and runs
``services.dossiers.complete``; a Session event stops it inside the transaction — after the
dossier's new state was written, or with everything flushed just before COMMIT — and the parent
kills it with SIGKILL. Then: state, state_version, steps and audit log unchanged, the chain
verifies, and the step completes normally.
"""
from __future__ import annotations

import pytest

from tests.concurrency_helpers import run_crash

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("point", ["after_state_update", "before_commit"])
def test_sigkill_mid_step_leaves_the_dossier_as_before(app, db_session, tmp_path, point):
    run_crash(db_session, app.config["SQLALCHEMY_DATABASE_URI"], point, tmp_path)


def test_sigkill_with_uncommitted_pages_already_in_the_wal(app, db_session, tmp_path):
    """A tiny page cache makes SQLite spill the step's uncommitted pages into the WAL file before
    COMMIT: the kill then leaves frames on disk without a commit record, which must be ignored."""
    seen = run_crash(db_session, app.config["SQLALCHEMY_DATABASE_URI"], "before_commit", tmp_path,
                     cache_pages=2)
    assert seen["wal_now"] > seen["wal_before"], "the uncommitted pages never reached the WAL"
