"""The one place where service use cases commit or roll back."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session, scoped_session

from services import audit
from services.db import WRITE_OPTION


@contextmanager
def transaction(session: Session, *, lock: bool = True) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back: nothing is ever half-written.

    A read transaction left open by the caller (a page that looked things up first) is ended, so
    that the write transaction starts fresh and with the writers' lock: BEGIN IMMEDIATE on SQLite,
    the advisory lock of ``services.audit.lock_chain`` on PostgreSQL. ``lock=False`` is for a use
    case that takes that lock itself, as the first statement of its first batch.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})
    try:
        if lock:
            audit.lock_chain(session)  # PostgreSQL: writers one at a time, as BEGIN IMMEDIATE on SQLite
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
