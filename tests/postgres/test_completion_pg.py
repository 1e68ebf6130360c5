"""A completion on PostgreSQL: its statements sent in two pipelined batches — the writers' lock
with every read in one round trip; the writes, as one self-checking statement, with the COMMIT in
a second — through a Chairman dossier from the desk to the returned result."""
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
    counting, kinds, commits, sent = [False], Counter(), [0], []

    def on_statement(_conn, _cursor, statement, _params, context, _many):
        if counting[0]:
            # services.sqlbatch tells the listeners about a pipelined statement without an
            # execution context: Connection.execute always has one.
            kinds["pipelined" if context is None else "alone"] += 1
            sent.append(statement.split(None, 1)[0].upper())

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
            sent.clear()
            commits[0] = 0
            now = now.replace(minute=30) if now.minute == 0 else now.replace(hour=now.hour + 1, minute=0)
            counting[0] = True
            done = dossiers.complete(s, officer, step_id, data, now=now)
            counting[0] = False
            assert commits[0] == 1
            # lock, the step's row, the open steps | the writes, COMMIT; on the steps that go to
            # the Văn phòng or the UBND tỉnh, one read of the agency's org units on its own.
            assert kinds["pipelined"] == 5 and kinds["alone"] <= 1, (step.spec_id, kinds)
            assert sent[-2:] == ["WITH", "COMMIT"], (step.spec_id, sent)
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


@pytest.mark.parametrize("rogue", ["dossier", "step"])
def test_writes_that_find_the_row_changed_abort_their_own_commit(pg_session, pg_url, monkeypatch, rogue):
    """The writes go with their COMMIT in one round trip, so their optimistic checks must stop
    the COMMIT in the server. A writer that skipped the writers' lock changes the dossier (or
    closes the step) between the completion's reads and its writes: the completion gets a
    Conflict, and nothing of it is committed — no new state, no audit event, no next step."""
    from sqlalchemy import create_engine, func, update

    from services.dossiers import completion
    from services.errors import Conflict
    from services.models import AuditEvent, DossierStep

    s = pg_session
    d = dossiers.receive(s, user(s, "motcua"), procedure_id=procedure(s, CHAIRMAN).id,
                         applicant_name="Hội Nông dân tỉnh", received_at=vn(2026, 11, 23, 8), now=vn(2026, 11, 23, 8))
    dossier_id = d.id
    (step,) = open_steps(s, dossier_id)
    step_id, officer, data = step.id, performer(s, step), step_data(s, step)
    s.commit()
    rogue_engine = create_engine(pg_url)
    real_run = completion._run

    def run_then_interfere(*args, **kwargs):
        instance = real_run(*args, **kwargs)
        with rogue_engine.begin() as conn:  # no writers' lock: the checks are all that is left
            if rogue == "dossier":
                conn.execute(update(Dossier).where(Dossier.id == dossier_id)
                             .values(state_version=Dossier.state_version + 1))
            else:
                conn.execute(update(DossierStep).where(DossierStep.id == step_id).values(status="cancelled"))
        return instance

    monkeypatch.setattr(completion, "_run", run_then_interfere)
    before_state, before_version = s.execute(select(Dossier.state, Dossier.state_version)
                                             .where(Dossier.id == dossier_id)).one()
    before_events = s.scalar(select(func.count()).select_from(AuditEvent))
    before_steps = s.scalar(select(func.count()).select_from(DossierStep).where(DossierStep.dossier_id == dossier_id))
    s.commit()
    try:
        with pytest.raises(Conflict):
            dossiers.complete(s, officer, step_id, data, now=vn(2026, 11, 23, 9))
    finally:
        rogue_engine.dispose()
    state, version = s.execute(select(Dossier.state, Dossier.state_version).where(Dossier.id == dossier_id)).one()
    assert state == before_state
    assert version == before_version + (1 if rogue == "dossier" else 0)  # the rogue's write only
    assert s.scalar(select(func.count()).select_from(AuditEvent)) == before_events
    assert s.scalar(select(func.count()).select_from(DossierStep)
                    .where(DossierStep.dossier_id == dossier_id)) == before_steps
    count, broken = audit.verify(s)
    assert broken is None and count == before_events
    s.commit()
