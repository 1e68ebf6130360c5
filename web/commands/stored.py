"""What the CLI reads from the database without an app (dữ liệu đã lưu): the stored calendar for
`quytrinh calendar`, the province's minimum cut for `quytrinh lint`.

The database is the one of DATABASE_URL, else the embedded SQLite file, and it is only read: a
missing SQLite file is never created, nothing is written. Three outcomes, which the commands
answer differently from the shipped defaults:

- the value stored there;
- None: no database set up (no SQLite file, or the table is not there yet) — silently the defaults;
- :class:`Unusable`: a database is configured but cannot be used (malformed DATABASE_URL, server
  down, corrupt data) — the defaults with one line on stderr naming the cause.
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

T = TypeVar("T")


class Unusable(Exception):
    """The configured database cannot be read; ``cause`` is one line for the note."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


def read_stored(table: str, reader: Callable[..., T]) -> T | None:
    """``reader(session)`` on the configured database, read-only; None when *table* is not there."""
    from web.config import ConfigError, database_url

    try:
        url = database_url(os.environ)
    except ConfigError as exc:
        raise Unusable(str(exc)) from None
    try:
        return _read(url, table, reader)
    except Exception as exc:  # noqa: BLE001 — whatever the database did, the defaults still answer
        cause = str(getattr(exc, "orig", None) or getattr(exc, "message", None) or exc).strip().splitlines()
        raise Unusable(f"DATABASE_URL: {cause[0] if cause else type(exc).__name__}") from None


def _read(url: str, table: str, reader: Callable[..., T]) -> T | None:
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or not Path(path).is_file():
            return None
        # Read-only, through a URI: a mistyped path must not leave an empty database behind.
        uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool)
    else:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with Session(engine) as session:
            if not inspect(session.connection()).has_table(table):
                return None
            return reader(session)
    finally:
        engine.dispose()
