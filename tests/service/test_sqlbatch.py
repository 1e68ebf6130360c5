"""services.sqlbatch on SQLite and PostgreSQL: the same rows, types, row counts, listeners and
errors as Connection.execute; on PostgreSQL the statements go in one pipeline, and a batch that
starts with the writers' lock reads what the previous writer committed."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Column, Integer, MetaData, String, Table, bindparam, event, exc, insert, select, text, update,
)
from sqlalchemy.orm import DeclarativeBase, Session

from services import audit
from services.db import UTCDateTime
from services.sqlbatch import Batch
from services.uow import transaction
from tests.concurrency_helpers import engine_for

meta = MetaData()
things = Table("batch_things", meta, Column("id", Integer, primary_key=True), Column("name", String(40), unique=True),
               Column("at", UTCDateTime, nullable=True))
SELECT = select(things.c.id, things.c.name, things.c.at).where(things.c.name == bindparam("name"))
INSERT = insert(things).values(id=bindparam("id_"), name=bindparam("name_"), at=bindparam("at_"))
RENAME = update(things).where(things.c.name == bindparam("old")).values(name=bindparam("new"))
ALL = select(things.c.id).order_by(things.c.id)
HANOI = timezone(timedelta(hours=7))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'batch.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_database")
    engine = engine_for(url)
    meta.create_all(engine)
    yield engine
    engine.dispose()


def test_rows_types_and_row_counts_as_connection_execute(engine):
    at = datetime(2026, 11, 23, 15, 0, 0, 123456, tzinfo=HANOI)
    with Session(engine) as session:
        batch = Batch(session)
        assert batch.pipelined == (engine.dialect.name == "postgresql")
        first = batch.add(INSERT, id_=1, name_="một", at_=at)
        batch.add(INSERT, id_=2, name_="hai", at_=None)
        renamed = batch.add(RENAME, old="hai", new="ba")
        missing = batch.add(RENAME, old="không có", new="x")
        read = batch.add(SELECT, name="một")
        out = batch.run()
        assert [o.rowcount for o in out[:4]] == [1, 1, 1, 0]
        assert out[first].rows == [] and out[missing].first() is None
        row = out[read].first()
        assert (row.id, row.name) == (1, "một")
        # The column type's processors ran: an aware instant in UTC, the same instant.
        assert row.at == at and row.at.tzinfo is not None and row.at.utcoffset() == timedelta(0)
        assert out[read].scalar() == 1
        session.commit()
        assert session.execute(select(things.c.name).order_by(things.c.id)).scalars().all() == ["một", "ba"]


def test_listeners_see_every_statement(engine):
    seen = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: seen.append(statement))
    with Session(engine) as session:
        session.connection()
        seen.clear()
        batch = Batch(session)
        batch.add(INSERT, id_=1, name_="a", at_=None)
        batch.add(ALL)
        assert batch.run()[1].rows == [(1,)]
        session.rollback()
    assert [s.split(None, 1)[0].upper() for s in seen if not s.startswith("BEGIN")] == ["INSERT", "SELECT"]


def test_an_error_is_sqlalchemys_and_the_transaction_rolls_back(engine):
    with Session(engine) as session:
        with transaction(session):
            batch = Batch(session)
            batch.add(INSERT, id_=1, name_="a", at_=None)
            batch.run()
        with pytest.raises(exc.IntegrityError):
            with transaction(session):
                batch = Batch(session)
                batch.add(INSERT, id_=2, name_="b", at_=None)
                batch.add(INSERT, id_=3, name_="a", at_=None)  # the name is taken
                batch.run()
        # Nothing of the failed batch stays, and the session works on.
        assert session.execute(ALL).scalars().all() == [1]


def test_an_expanding_parameter_is_refused_where_the_batch_compiles_itself(engine):
    """A pipelined statement is compiled once for every execution: an IN list that SQLAlchemy
    would expand per call is refused with a message saying what to do; elsewhere it just runs."""
    with Session(engine) as session:
        batch = Batch(session)
        batch.add(select(things.c.id).where(things.c.name.in_(["a", "b"])))
        if batch.pipelined:
            with pytest.raises(ValueError, match="expand"):
                batch.run()
        else:
            assert batch.run()[0].rows == []


def test_a_batch_led_by_the_writers_lock_reads_the_previous_writers_commit(engine):
    """The lock is queued with the reads, not awaited before them: the server still takes it first,
    and each later statement's snapshot is taken after it is granted."""
    from services.models import AuditEvent

    AuditEvent.__table__.create(engine, checkfirst=True)
    writer, reader = Session(engine), Session(engine)
    try:
        with transaction(writer):
            audit.record(writer, "tester", "probe", "thing:1", {"n": 1})
            holding = threading.Event()
            result = {}

            def read() -> None:
                holding.set()
                with transaction(reader, lock=False):
                    batch = Batch(reader)
                    audit.lock_chain(reader, batch)
                    head = batch.add(audit.HEAD)
                    result["head"] = batch.run()[head].first()

            thread = threading.Thread(target=read)
            thread.start()
            holding.wait(5)
            thread.join(0.5)
            # PostgreSQL: the advisory lock; SQLite: BEGIN IMMEDIATE.
            assert thread.is_alive(), "the reader did not wait for the writer"
        thread.join(10)
        assert result["head"] is not None and result["head"][0] == 1
    finally:
        writer.close()
        reader.close()


def test_plain_text_statements_work_unpipelined_too(engine):
    with Session(engine) as session:
        batch = Batch(session)
        batch.add(text("SELECT 1 AS one"))
        assert batch.run()[0].scalar() == 1


def test_a_batch_that_commits(engine):
    """``run(commit=True)``: on PostgreSQL the COMMIT goes in the batch's own round trip — another
    connection sees the rows before the session commits, and the session's commit then has
    nothing to send; elsewhere the flag changes nothing and the session's commit commits."""
    pipelined_statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, _p, context, _m: pipelined_statements.append(statement)
                 if context is None else None)
    with Session(engine) as session, Session(engine) as other:
        with transaction(session, lock=False):
            batch = Batch(session)
            batch.add(INSERT, id_=1, name_="một", at_=None)
            out = batch.run(commit=True)
            assert [o.rowcount for o in out] == [1]  # the COMMIT's outcome is not among them
            seen_meanwhile = other.execute(ALL).scalars().all()
            other.rollback()
        assert session.execute(ALL).scalars().all() == [1]
    if engine.dialect.name == "postgresql":
        assert seen_meanwhile == [1]
        assert [s.split(None, 1)[0].upper() for s in pipelined_statements] == ["INSERT", "COMMIT"]
    else:
        assert seen_meanwhile == []


def test_a_failing_statement_stops_the_batchs_commit(engine):
    with Session(engine) as session:
        with transaction(session, lock=False):
            batch = Batch(session)
            batch.add(INSERT, id_=1, name_="a", at_=None)
            batch.run(commit=True)
        with pytest.raises(exc.IntegrityError):
            with transaction(session, lock=False):
                batch = Batch(session)
                batch.add(INSERT, id_=2, name_="b", at_=None)
                batch.add(INSERT, id_=3, name_="a", at_=None)  # the name is taken
                batch.run(commit=True)
        assert session.execute(ALL).scalars().all() == [1]
        # The connection is usable again, in a new transaction.
        with transaction(session, lock=False):
            batch = Batch(session)
            batch.add(INSERT, id_=4, name_="c", at_=None)
            batch.run(commit=True)
        assert session.execute(ALL).scalars().all() == [1, 4]


def test_a_statement_gets_only_its_own_parameters(engine):
    """A batch's statements may share one dict of values; each gets only its bind parameters. For
    an UPDATE or INSERT, SQLAlchemy would otherwise add any key naming a column to its SET or
    VALUES clause (here: overwrite ``at``)."""
    at = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    with Session(engine) as session:
        batch = Batch(session)
        shared = {"id_": 1, "name_": "một", "at_": at, "old": "một", "new": "hai", "at": None, "id": 99}
        batch.add(INSERT, **shared)
        renamed = batch.add(RENAME, **shared)
        read = batch.add(SELECT, name="hai")
        out = batch.run()
        assert out[renamed].rowcount == 1
        row = out[read].first()
        assert (row.id, row.name, row.at) == (1, "hai", at)
        session.rollback()


class _Base(DeclarativeBase):
    pass


class Thing(_Base):
    __table__ = things


def test_a_committing_batch_takes_the_sessions_pending_changes_and_ends_its_transaction(engine):
    """What the session holds unflushed belongs to the transaction being committed; once the
    batch has committed (PostgreSQL), the session's transaction is over too."""
    with Session(engine) as session, Session(engine) as other:
        with transaction(session, lock=False):
            session.add(Thing(id=7, name="bảy"))
            batch = Batch(session)
            batch.add(INSERT, id_=8, name_="tám", at_=None)
            batch.run(commit=True)
            if batch.pipelined:
                assert not session.in_transaction()
                assert other.execute(ALL).scalars().all() == [7, 8]
                other.rollback()
        assert other.execute(ALL).scalars().all() == [7, 8]


@pytest.mark.postgres
def test_a_commit_the_server_turns_into_a_rollback_is_an_error(pg_database):
    """Only PostgreSQL pipelines the COMMIT: one sent into a transaction the server had already
    aborted is answered ROLLBACK without an error, and must not pass for a commit."""
    engine = engine_for(pg_database)
    meta.create_all(engine)
    with Session(engine) as session:
        with pytest.raises(exc.InvalidRequestError, match="rollback: nothing was saved"):
            with transaction(session, lock=False):
                session.execute(INSERT, {"id_": 1, "name_": "một", "at_": None})
                with pytest.raises(exc.DBAPIError):
                    session.execute(text("SELECT 1 / 0"))  # the server aborts the transaction
                Batch(session).run(commit=True)
        assert session.execute(ALL).scalars().all() == []
    engine.dispose()
