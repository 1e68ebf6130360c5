"""A use case commits its own work and nothing else (services/uow.transaction).

Before, ``transaction()`` committed whatever the caller's session held: change a user's name, claim a
step, and the name was saved with the claim — no authorization, no audit event.
"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session

from services import dossiers
from services.db import tune_sqlite
from services.models import AuditEvent, User
from services.uow import UncommittedWork, holds_writes, transaction
from tests.dossier_helpers import form_data, open_steps, performer, procedure, user, vn

CHAIRMAN = "1.003822"


@pytest.fixture
def ready_step(db_session):
    """A dossier's second step (the department's văn thư), ready to be claimed; the setup committed."""
    at = vn(2026, 11, 23, 8, 0)
    dossier = dossiers.receive(db_session, user(db_session, "motcua"),
                               procedure_id=procedure(db_session, CHAIRMAN).id, applicant_name="Nguyễn Văn An",
                               received_at=at, now=at)
    first = open_steps(db_session, dossier.id)[0]
    dossiers.complete(db_session, performer(db_session, first), first.id, form_data(db_session, first),
                      now=vn(2026, 11, 23, 9, 0))
    step = open_steps(db_session, dossier.id)[0]
    db_session.commit()
    return step.id


def _stored(app, sql):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    tune_sqlite(engine)
    try:
        with Session(engine) as other:
            return other.scalar(sql)
    finally:
        engine.dispose()


def _claims(app) -> int:
    return _stored(app, select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "step_claimed"))


def _name(app, username: str) -> str:
    return _stored(app, select(User.full_name).where(User.username == username))


def _claimer(db_session, step_id):
    from services.models import DossierStep

    return performer(db_session, db_session.get(DossierStep, step_id))


def test_a_pending_change_of_the_caller_is_refused_not_committed(app, db_session, ready_step):
    official = _claimer(db_session, ready_step)
    before = _name(app, official.username)
    official.full_name = "Tên đổi ngoài use case"  # pending, never authorized, never audited
    with pytest.raises(UncommittedWork, match=r"User#\d+ \(changed full_name\)"):
        dossiers.claim(db_session, official, ready_step)
    assert _name(app, official.username) == before
    assert _claims(app) == 0
    db_session.rollback()  # the caller drops its own change: the use case then runs, and saves only its work
    dossiers.claim(db_session, official, ready_step)
    assert _claims(app) == 1 and _name(app, official.username) == before


@pytest.mark.parametrize("how", ["flushed", "executed"])
def test_writes_already_in_the_open_transaction_are_refused(app, db_session, ready_step, how):
    official = _claimer(db_session, ready_step)
    before = _name(app, official.username)
    if how == "flushed":
        official.full_name = "Tên đã flush"
        db_session.flush()  # no longer pending: the UPDATE waits in the open transaction
        assert not db_session.dirty
    else:
        db_session.execute(update(User).where(User.id == official.id).values(full_name="Tên qua UPDATE"))
    assert holds_writes(db_session)
    with pytest.raises(UncommittedWork, match="writes flushed or executed"):
        dossiers.claim(db_session, official, ready_step)
    db_session.rollback()
    assert _name(app, official.username) == before and _claims(app) == 0
    assert not holds_writes(db_session)


def test_an_open_read_transaction_is_no_obstacle(app, db_session, ready_step):
    official = _claimer(db_session, ready_step)
    db_session.scalars(select(User)).all()  # a page that looked things up first
    official.full_name = official.full_name  # set to what it was: no change
    assert db_session.in_transaction() and not holds_writes(db_session)
    dossiers.claim(db_session, official, ready_step)
    assert _claims(app) == 1


def test_a_block_that_does_not_finish_leaves_nothing(app, db_session):
    admin = user(db_session, "admin")
    before = _name(app, "admin")
    with pytest.raises(KeyError):
        with transaction(db_session):
            admin.full_name = "Đổi rồi lỗi"
            db_session.flush()
            raise KeyError("the use case failed half-way")
    assert _name(app, "admin") == before
    assert not holds_writes(db_session)
