"""The one place where service use cases commit or roll back."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back: nothing is ever half-written."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
