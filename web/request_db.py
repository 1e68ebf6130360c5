"""How a request's database transaction ends (giao dịch của một yêu cầu).

Writes are the services' business: each use case commits or rolls back in services.uow. What a
request leaves open at its end is the transaction its pages read in. Flask-SQLAlchemy would close
it with a ROLLBACK, and on PostgreSQL psycopg forgets every prepared statement of the connection
on a ROLLBACK (a rolled-back transaction could have dropped what they refer to) — so no statement
would ever stay prepared, and the step completion's reads would be planned afresh on every call.
A read transaction ends with COMMIT instead, which changes nothing in the database.

A request that failed keeps Flask-SQLAlchemy's rollback; so does one that leaves ORM changes
pending, which no page should (they are discarded, and the log says where).
"""
from __future__ import annotations

import logging

from flask import Flask, request

log = logging.getLogger(__name__)


def register(app: Flask, db) -> None:
    @app.teardown_request
    def _end_read_transaction(exc: BaseException | None) -> None:
        session = db.session()
        if exc is not None or not session.in_transaction():
            return
        if session.new or session.dirty or session.deleted:
            log.warning("%s %s left unsaved changes; rolled back", request.method, request.path)
            session.rollback()
            return
        session.commit()
