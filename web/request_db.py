"""How a request's database transaction ends (giao dịch của một yêu cầu).

Writes are the services' business: each use case commits or rolls back in services.uow. What a
request leaves open at its end is the transaction its pages read in. Flask-SQLAlchemy would close
it with a ROLLBACK, and on PostgreSQL psycopg forgets every prepared statement of the connection
on a ROLLBACK (a rolled-back transaction could have dropped what they refer to) — so no statement
would ever stay prepared, and the step completion's reads would be planned afresh on every call.
A transaction that only read ends with COMMIT instead, which changes nothing in the database.

One that wrote is rolled back, as before: a request that failed, one that left ORM changes
pending, and one whose open transaction flushed ORM changes or ran an INSERT/UPDATE/DELETE
through the session (a page writing outside a use case's transaction — none should, and the
log says where). Which transactions wrote is services.uow's knowledge (``holds_writes``): the same
question a use case asks before it starts.
"""
from __future__ import annotations

import logging

from flask import Flask, request

from services.uow import holds_writes

log = logging.getLogger(__name__)


def register(app: Flask, db) -> None:
    @app.teardown_request
    def _end_read_transaction(exc: BaseException | None) -> None:
        session = db.session()
        if exc is not None or not session.in_transaction():
            return
        if holds_writes(session):
            log.warning("%s %s wrote outside a use case's transaction; rolled back", request.method, request.path)
            session.rollback()
            return
        try:
            session.commit()
        except Exception:  # noqa: BLE001 - a dropped connection: the answer is already made
            log.exception("%s %s: ending the read transaction failed", request.method, request.path)
            session.rollback()
