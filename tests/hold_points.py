"""Where a test stops a completion inside its transaction (tests only; no production seam).

Two moments, on each database:

* ``after_state_update`` — the dossier's new state written, nothing committed. SQLite runs the
  writes one by one: right after ``UPDATE dossiers``, before the step row, the next steps and
  the audit event. PostgreSQL writes everything in one statement, so there it is the same moment
  as the next one.
* ``before_commit`` — every write done, COMMIT not sent. SQLite: the session's ``before_commit``.
  PostgreSQL: the writes go with their COMMIT in one pipeline (services.sqlbatch), so the moment
  is just before the pipelined COMMIT is sent — the writes have reached the server, the session
  has not committed anything yet.

:func:`hold_at` registers *callback(conn)* there; :func:`rows` reads within that transaction,
also from inside a pipeline, so the callback can look at what its own transaction sees.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

POINTS = ("after_state_update", "before_commit")


def hold_at(engine: Engine, session: Session, point: str, callback: Callable[[Connection], None]) -> None:
    if point not in POINTS:
        raise ValueError(f"unknown point {point!r}")
    if engine.dialect.name == "postgresql":
        def before_statement(conn, _cursor, statement, _params, context, _many) -> None:
            if context is None and statement.strip().upper() == "COMMIT":  # the pipelined COMMIT
                callback(conn)

        event.listen(engine, "before_cursor_execute", before_statement)
    elif point == "after_state_update":
        def after_statement(conn, _cursor, statement, *_args) -> None:
            if statement.lstrip().upper().startswith("UPDATE DOSSIERS"):
                callback(conn)

        event.listen(engine, "after_cursor_execute", after_statement)
    else:
        event.listen(session, "before_commit", lambda sess: callback(sess.connection()))


def rows(conn: Connection, stmt) -> list[tuple]:
    """*stmt*'s rows in *conn*'s current transaction, also while a psycopg pipeline is open."""
    raw = conn.connection.dbapi_connection
    if conn.dialect.name != "postgresql" or not raw.pgconn.pipeline_status:
        return [tuple(r) for r in conn.execute(stmt).all()]
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    with raw.pipeline():  # nested: leaving it syncs, so every statement sent so far has run
        cursor = raw.cursor()
        cursor.execute(sql)
    return cursor.fetchall()
