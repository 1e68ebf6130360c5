"""A completion on PostgreSQL: one commit, and its statements sent in pipelined batches — the
writers' lock with every read in one round trip, the writes in a second — through a Chairman
dossier from the desk to the returned result."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import event, select

from services import audit, dossiers
from services.models import Dossier
from tests.concurrency_helpers import CHAIRMAN, step_data
from tests.dossier_helpers import open_steps, performer, procedure, user, vn

pytestmark = pytest.mark.postgres


def test_a_chairman_dossier_completes_in_pipelined_batches(pg_session):
    s = pg_session
    d = dossiers.receive(s, user(s, "motcua"), procedure_id=procedure(s, CHAIRMAN).id,
                         applicant_name="Hội Nông dân tỉnh", received_at=vn(2026, 11, 23, 8), now=vn(2026, 11, 23, 8))
    dossier_id = d.id
    engine = s.get_bind()
    counting, kinds, commits = [False], Counter(), [0]

    def on_statement(_conn, _cursor, statement, _params, context, _many):
        if counting[0]:
            # services.sqlbatch tells the listeners about a pipelined statement without an
            # execution context: Connection.execute always has one.
            kinds["pipelined" if context is None else "alone"] += 1

    def on_commit(_conn):
        if counting[0]:
            commits[0] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    now, completed, statuses = vn(2026, 11, 23, 8), [], []
    try:
        while steps := open_steps(s, dossier_id):
            step = steps[0]
            step_id, officer, data = step.id, performer(s, step), step_data(s, step)
            version = s.scalar(select(Dossier.state_version).where(Dossier.id == dossier_id))
            s.commit()
            kinds.clear()
            commits[0] = 0
            now = now.replace(minute=30) if now.minute == 0 else now.replace(hour=now.hour + 1, minute=0)
            counting[0] = True
            done = dossiers.complete(s, officer, step_id, data, now=now)
            counting[0] = False
            assert commits[0] == 1
            assert 6 <= kinds["pipelined"] <= 7 and kinds["alone"] <= 1, (step.spec_id, kinds)
            assert s.scalar(select(Dossier.state_version).where(Dossier.id == dossier_id)) == version + 1
            assert done.step_id == step_id and done.dossier_id == dossier_id
            completed.append(step.spec_id)
            statuses.append(done.dossier_status)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
    assert len(completed) == 10 and statuses[-1] == "returned" and "done" in statuses
    count, broken = audit.verify(s)
    assert broken is None and count > 10
    s.commit()
