"""Core statements sent together: one round trip on PostgreSQL, plain Core execution elsewhere.

A step completion reads half a dozen things and writes four rows. On PostgreSQL each statement
sent on its own costs a network round trip to the server (≈ 0.15–0.3 ms here), which is more than
the workflow step itself; psycopg's pipeline mode sends a batch of statements and reads all their
results in one round trip, and the server still runs them one after another, each with its own
snapshot — so a batch that starts with the writers' lock reads what the previous writer committed.

SQLAlchemy's Connection cannot run inside a pipeline (it reads a result's description as soon as
the statement is sent), so on psycopg the batch compiles each Core statement once with the
dialect, applies the column types' own bind and result processors, and runs the SQL on the
driver's cursor; the connection's ``before_cursor_execute`` / ``after_cursor_execute`` listeners
are still told about each statement. Errors come out as SQLAlchemy's DBAPIError, as through
``Connection.execute``. Any other driver (SQLite: no round trips to save) runs the statements
with ``Connection.execute``.

A batch can also end the transaction: ``run(commit=True)`` sends COMMIT after its statements, in
the same round trip on PostgreSQL. The batch's statements must then check in the server
whatever would forbid the commit (a failing statement aborts the transaction and the COMMIT with
it); elsewhere the caller's transaction commits as usual once run() returns.
"""
from __future__ import annotations

import threading
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Callable

from psycopg.pq import ExecStatus
from sqlalchemy import exc, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql import ClauseElement


@dataclass
class Outcome:
    """What one statement of a batch gave: its rows (empty for a write) and its row count."""

    rows: list
    rowcount: int
    status: str = ""  # the server's command tag on PostgreSQL ("UPDATE 1", "COMMIT", …)

    def first(self):
        return self.rows[0] if self.rows else None

    def scalar(self):
        return self.rows[0][0] if self.rows else None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, Callable[[Any], Any] | None, bool, Any], ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    row: type | None
    expanding: bool  # an IN list SQLAlchemy expands per call: Connection.execute only
    names: tuple[str, ...]  # the bind parameters' names


# Keyed by the statement object and the dialect: statements on the hot path are module-level
# constants with bindparam()s, so each is compiled once per process and dialect. A statement built
# per call would only fill this up: it is emptied when full, as a bound, not as a policy.
_compiled: dict[tuple[int, str], tuple[ClauseElement, _Compiled]] = {}
_compiled_lock = threading.Lock()
_COMPILED_MAX = 256


def _compile(stmt: ClauseElement, dialect: Dialect) -> _Compiled:
    key = (id(stmt), dialect.name)
    hit = _compiled.get(key)
    if hit is not None and hit[0] is stmt:
        return hit[1]
    compiled = stmt.compile(dialect=dialect)
    binds = tuple((name, bind.type.dialect_impl(dialect).bind_processor(dialect), bind.required, bind.value)
                  for name, bind in compiled.binds.items())
    columns = list(getattr(stmt, "selected_columns", ()))  # none for DML and text(): raw tuples
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    row = namedtuple("Row", [c.key for c in columns], rename=True) if columns else None
    entry = _Compiled(compiled.string, binds, results, row, bool(compiled.post_compile_params),
                      tuple(compiled.binds))
    with _compiled_lock:
        if len(_compiled) >= _COMPILED_MAX:
            _compiled.clear()
        _compiled[key] = (stmt, entry)  # the statement is kept alive: its id is never reused
    return entry


_COMMIT = text("COMMIT")
TUPLES_OK = ExecStatus.TUPLES_OK


class Batch:
    """Statements to run in order, in the session's current transaction."""

    def __init__(self, session: Session):
        if isinstance(session, scoped_session):
            session = session()
        self.session = session
        self.connection: Connection = session.connection()
        self.dialect = self.connection.dialect
        self.pipelined = self.dialect.driver == "psycopg"
        self._items: list[tuple[ClauseElement, dict[str, Any]]] = []

    def add(self, stmt: ClauseElement, **params: Any) -> int:
        """Queue a statement; returns its index in ``run()``'s outcomes."""
        self._items.append((stmt, params))
        return len(self._items) - 1

    def __len__(self) -> int:
        return len(self._items)

    def run(self, *, commit: bool = False) -> list[Outcome]:
        """Run the queued statements in order; their outcomes in the same order.

        ``commit=True`` on PostgreSQL: the session's pending ORM changes are flushed first, COMMIT
        goes in the same pipeline after the statements (its outcome is not returned), and once
        the server has committed, the session's transaction is ended too — so nothing sent
        afterwards can slip into a transaction the database already closed. Elsewhere the flag
        changes nothing: the caller's transaction commits as usual.
        """
        items, self._items = self._items, []
        if not self.pipelined:
            return [self._execute(stmt, params) for stmt, params in items]
        if commit:
            self.session.flush()
            items.append((_COMMIT, {}))
        if not items:
            return []
        outcomes = self._pipeline(items)
        if commit:
            # A COMMIT in a transaction the server had already aborted answers ROLLBACK, no error.
            if outcomes.pop().status != "COMMIT":
                raise exc.InvalidRequestError("the batch's COMMIT was answered by a rollback: nothing was saved")
            self.session.commit()  # nothing left to send: psycopg sees the connection idle
        return outcomes

    def _execute(self, stmt: ClauseElement, params: dict[str, Any]) -> Outcome:
        # Only the statement's own parameters: for an INSERT or UPDATE, SQLAlchemy would add any
        # other key that names a column of the table to its VALUES or SET clause.
        names = _compile(stmt, self.dialect).names
        result = self.connection.execute(stmt, {name: params[name] for name in names if name in params})
        rows = result.all() if result.returns_rows else []
        return Outcome(rows, result.rowcount)

    def _pipeline(self, items: list[tuple[ClauseElement, dict[str, Any]]]) -> list[Outcome]:
        conn, dialect = self.connection, self.dialect
        raw = conn.connection.dbapi_connection
        sent = []
        try:
            with raw.pipeline():
                for stmt, values in items:
                    compiled = _compile(stmt, dialect)
                    if compiled.expanding:
                        raise ValueError("a batched statement cannot expand parameters (IN with a list): "
                                         "list the bindparam()s instead")
                    params = {}
                    for name, process, required, default in compiled.binds:
                        value = values[name] if required or name in values else default
                        params[name] = process(value) if process is not None else value
                    cursor = raw.cursor()
                    conn.dispatch.before_cursor_execute(conn, cursor, compiled.sql, params, None, False)
                    cursor.execute(compiled.sql, params)
                    sent.append((compiled, cursor, params))
            # Leaving the pipeline block has synced: every result is in.
            outcomes = []
            for compiled, cursor, params in sent:
                conn.dispatch.after_cursor_execute(conn, cursor, compiled.sql, params, None, False)
                # The result's status, not cursor.description: that builds a Column per field.
                rows = cursor.fetchall() if cursor.pgresult.status == TUPLES_OK else []
                if rows and compiled.row is not None:
                    procs = compiled.results
                    rows = [compiled.row(*(p(v) if p is not None else v for p, v in zip(procs, r))) for r in rows]
                outcomes.append(Outcome(rows, cursor.rowcount, cursor.statusmessage or ""))
                cursor.close()
            return outcomes
        except exc.SQLAlchemyError:
            raise
        except Exception as err:
            if not isinstance(err, dialect.loaded_dbapi.Error):
                raise
            # The server reports the failure when the batch syncs: name the whole batch.
            statements = ";\n".join(compiled.sql for compiled, _cursor, _params in sent) or None
            raise exc.DBAPIError.instance(statements, None, err, dialect.loaded_dbapi.Error, dialect=dialect) from err
