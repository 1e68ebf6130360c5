"""What one step completion costs the database: one transaction, one commit, a handful of statements.

DESIGN.md ("Storage and scale"): spiff-arena spends about 75 statements and 5 commits per
completion; ours is one BEGIN IMMEDIATE … COMMIT with the reads, the writes and the audit append.
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import event, select

from services import dossiers
from services.models import Dossier
from tests.concurrency_helpers import CHAIRMAN, step_data
from tests.dossier_helpers import open_steps, performer, procedure, user, vn

#: The budget per completion on SQLite (BEGIN IMMEDIATE included): one read of the step with its
#: dossier, version, the official's matching assignment, the calendar revision and the audit head;
#: one of the dossier's open steps; writes of the dossier, the step, the next step, the audit event
#: — 7; one more when the next step leaves the agency (the Văn phòng, the UBND tỉnh: its org units
#: are read in one statement).
MAX_STATEMENTS = 8


def test_each_completion_is_one_commit_and_few_statements(db_session):
    d = dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, CHAIRMAN).id,
                         applicant_name="Hội Cựu chiến binh", received_at=vn(2026, 11, 23, 8), now=vn(2026, 11, 23, 8))
    engine = db_session.get_bind()
    counting, statements, commits = [False], Counter(), [0]

    def on_statement(_conn, _cursor, statement, *_args):
        if counting[0]:
            statements[statement.split(None, 1)[0].upper()] += 1

    def on_commit(_conn):
        if counting[0]:
            commits[0] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    versions, completed = [], 0
    now = vn(2026, 11, 23, 8)
    while steps := open_steps(db_session, d.id):
        step = steps[0]
        step_id, spec_id = step.id, step.spec_id  # plain values: an expired row would be read again
        officer, data = performer(db_session, step), step_data(db_session, step)
        versions.append(db_session.scalar(select(Dossier.state_version).where(Dossier.id == d.id)))
        db_session.commit()
        statements.clear()
        commits[0] = 0
        counting[0] = True
        now = now.replace(minute=30) if now.minute == 0 else now.replace(hour=now.hour + 1, minute=0)
        dossiers.complete(db_session, officer, step_id, data, now=now)
        counting[0] = False
        completed += 1
        assert commits[0] == 1, f"{spec_id}: {commits[0]} commits"
        total = sum(statements.values())
        assert total <= MAX_STATEMENTS, f"{spec_id}: {total} statements {dict(statements)}"
        assert statements["BEGIN"] == 1 and statements["INSERT"] >= 1  # one transaction, the audit event
    event.remove(engine, "before_cursor_execute", on_statement)
    event.remove(engine, "commit", on_commit)
    assert completed == 10
    # One UPDATE of the dossier per completion: its version moves by exactly one each time.
    versions.append(db_session.scalar(select(Dossier.state_version).where(Dossier.id == d.id)))
    assert [b - a for a, b in zip(versions, versions[1:])] == [1] * completed


def test_the_official_is_read_again_inside_the_transaction(app, db_session):
    """Roles and the active flag are checked on the row as it is when the step is completed, even
    when the caller's session kept an older copy of the official (no expiry on commit)."""
    import pytest
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from services.errors import Forbidden
    from services.models import User
    from tests.concurrency_helpers import engine_for, receive_until

    dossier_id, step = receive_until(db_session, CHAIRMAN, "Task_ThamDinh")
    step_id, data = step.id, step_data(db_session, step)
    officer = performer(db_session, step).username
    db_session.commit()
    engine = engine_for(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with Session(engine, expire_on_commit=False) as keeping:
            actor = keeping.scalar(select(User).where(User.username == officer))
            assert actor.active and actor.assignments
            keeping.commit()
            db_session.execute(update(User).where(User.username == officer).values(active=False))
            db_session.commit()
            with pytest.raises(Forbidden):
                dossiers.complete(keeping, actor, step_id, data, now=vn(2026, 11, 25, 9))
            db_session.execute(update(User).where(User.username == officer).values(active=True))
            db_session.commit()
            dossiers.complete(keeping, actor, step_id, data, now=vn(2026, 11, 25, 9))
    finally:
        engine.dispose()
    assert all(s.id != step_id for s in open_steps(db_session, dossier_id))


def test_a_session_keeping_its_objects_sees_the_completion(app):
    """The completion writes with Core statements, not through the ORM: the rows it changed are
    expired in the caller's session, so one that keeps objects across commits shows them as
    they are now; the returned Completion says where the dossier went."""
    from sqlalchemy.orm import Session

    from services.models import DossierStep
    from tests.concurrency_helpers import engine_for, receive_until

    engine = engine_for(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with Session(engine, expire_on_commit=False) as keeping:
            dossier_id, step = receive_until(keeping, CHAIRMAN, "Task_ThamDinh")
            dossier = keeping.get(Dossier, dossier_id)
            version, row = dossier.state_version, keeping.get(DossierStep, step.id)
            assert row.status in ("ready", "claimed")
            done = dossiers.complete(keeping, performer(keeping, row), row.id, step_data(keeping, row),
                                     now=vn(2026, 11, 25, 9))
            assert dossier.state_version == version + 1
            assert row.status == "completed" and row.completed_at is not None
            now_open = [s.name or s.spec_id for s in open_steps(keeping, dossier_id)]
            assert done.next_steps and list(done.next_steps) == now_open
            assert (done.dossier_id, done.dossier_code, done.dossier_status) == (
                dossier_id, dossier.code, dossier.status)
            assert done.action == "step_completed"
    finally:
        engine.dispose()
