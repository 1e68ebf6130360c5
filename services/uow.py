"""The one place where service use cases commit or roll back (đơn vị công việc).

A use case commits its own work and nothing else: ``transaction()`` refuses to start on a session
that already holds changes — ORM objects added, changed or deleted and not yet flushed, or writes
already flushed or executed in its open transaction. Committing them would save a change that no
use case authorized and no audit event records (change ``user.full_name``, then claim a step: the
name was saved with the claim). Such a session is a programming error of the caller
(``UncommittedWork``, not a user's refusal): commit or roll back first.

The writes a session's open transaction made are known from the session's own events (a flush, an
ORM INSERT/UPDATE/DELETE through ``session.execute``), listened to for every Session here; the
request's end (web/request_db.py) asks the same question with :func:`holds_writes`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, scoped_session

from services import audit
from services.db import WRITE_OPTION

_WROTE = "quytrinh_wrote"


class UncommittedWork(RuntimeError):
    """A use case was started on a session holding changes that are not its own (a bug of the caller)."""


def _flushed(session: Session, _context) -> None:
    session.info[_WROTE] = True


def _executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        session.info.pop(_WROTE, None)


# Class-level: every Session (the services' plain ones, Flask-SQLAlchemy's) reports its writes.
for _name, _listener in (("after_flush", _flushed), ("do_orm_execute", _executed),
                         ("after_transaction_end", _ended)):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)


def _changed(session: Session) -> list[object]:
    # Net changes only: an attribute set to the value it had is not a change.
    return [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]


def holds_writes(session: Session) -> bool:
    """Whether committing *session* now would write something: pending ORM changes, or writes
    flushed or executed in its open transaction."""
    if isinstance(session, scoped_session):
        session = session()
    return bool(session.info.get(_WROTE)) or bool(_changed(session))


def _describe(session: Session) -> str:
    parts = []
    for obj in _changed(session)[:5]:
        state = inspect(obj)
        what = "new" if obj in session.new else "deleted" if obj in session.deleted else "changed " + ", ".join(
            sorted(a.key for a in state.attrs if a.history.has_changes()))
        parts.append(f"{type(obj).__name__}#{state.identity[0] if state.identity else '?'} ({what})")
    return "; ".join(parts) or "writes flushed or executed in its open transaction"


def end_reads(session: Session) -> Session:
    """End the read transaction the caller left open, before a use case's own work starts: a
    COMMIT that writes nothing (and keeps psycopg's prepared statements). UncommittedWork when
    the session holds changes: nobody authorized them, no event records them. Returns the plain
    session (a scoped_session's current one)."""
    if isinstance(session, scoped_session):
        session = session()
    if holds_writes(session):
        raise UncommittedWork(
            "a use case was started on a session that holds changes of its own, which it would have "
            f"committed without authorization or audit event: {_describe(session)}. Commit or roll "
            "them back before calling the use case.")
    if session.in_transaction():
        session.commit()
    return session


@contextmanager
def transaction(session: Session, *, lock: bool = True) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back: nothing is ever half-written.

    The session must hold no changes of its own (UncommittedWork otherwise). A read transaction
    left open by the caller (a page that looked things up first) is ended, so that the write
    transaction starts fresh and with the writers' lock: BEGIN IMMEDIATE on SQLite, the advisory
    lock of ``services.audit.lock_chain`` on PostgreSQL. ``lock=False`` is for a use case that
    takes that lock itself, as the first statement of its first batch.
    """
    session = end_reads(session)
    try:
        session.connection(execution_options={WRITE_OPTION: True})
        if lock:
            audit.lock_chain(session)  # PostgreSQL: writers one at a time, as BEGIN IMMEDIATE on SQLite
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
