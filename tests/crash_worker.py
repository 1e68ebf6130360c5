"""A worker that completes one step and is meant to be killed inside its transaction (tests only).

``python -m tests.crash_worker '<json>'`` with url, step_id, username, data, now, point, marker and
optionally cache_pages. It calls ``services.dossiers.complete`` unchanged; a Session event
registered here (no production seam) stops it at *point*:

* ``after_state_update`` — right after the statement that wrote the dossier's new state (UPDATE
  dossiers … SET state, state_version), before the step row, the next steps and the audit event
  (on PostgreSQL the writes go in one pipelined batch: there, after the batch, before COMMIT);
* ``before_commit`` — everything written and flushed, COMMIT not yet sent.

There it writes what its own transaction sees to *marker* (JSON) and sleeps until SIGKILLed.
``cache_pages`` shrinks SQLite's page cache so that uncommitted pages spill into the WAL file.
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from services import dossiers
from services.db import tune_sqlite
from services.models import AuditEvent, Dossier, DossierStep, User


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    engine = create_engine(args["url"])
    tune_sqlite(engine)
    wal = None
    if engine.dialect.name == "sqlite":
        wal = Path(engine.url.database + "-wal")
        if args.get("cache_pages"):
            @event.listens_for(engine, "connect")
            def _small_cache(dbapi_connection, _record):
                dbapi_connection.execute(f"PRAGMA cache_size={int(args['cache_pages'])}")

    session = Session(engine)
    actor = session.scalar(select(User).where(User.username == args["username"]))
    step = session.get(DossierStep, args["step_id"])
    dossier_id, spec_id = step.dossier_id, step.spec_id
    before = session.execute(select(Dossier.state_version, Dossier.state).where(Dossier.id == dossier_id)).one()
    session.commit()
    wal_before = wal.stat().st_size if wal is not None and wal.exists() else 0
    point = args["point"]

    def stop_here(conn) -> None:
        version, state = conn.execute(
            select(Dossier.state_version, Dossier.state).where(Dossier.id == dossier_id)).one()
        if version == before.state_version:
            return  # this flush did not write the dossier yet
        seen = {
            "point": point, "state_version": version, "state_changed": state != before.state,
            "events": conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
            "steps": conn.execute(select(func.count()).select_from(DossierStep)
                                  .where(DossierStep.dossier_id == dossier_id)).scalar_one(),
            "step_status": conn.execute(select(DossierStep.status)
                                        .where(DossierStep.id == args["step_id"])).scalar_one(),
            "spec_id": spec_id, "pid": os.getpid(),
            "wal_before": wal_before, "wal_now": wal.stat().st_size if wal is not None and wal.exists() else 0,
        }
        marker = Path(args["marker"])
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(seen))
        os.replace(tmp, marker)  # the parent never reads half a file
        while True:  # wait for SIGKILL
            time.sleep(60)

    def after_statement(conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE DOSSIERS"):
            stop_here(conn)

    if point == "after_state_update":
        event.listen(engine, "after_cursor_execute", after_statement)
    elif point == "before_commit":
        event.listen(session, "before_commit", lambda sess: stop_here(sess.connection()))
    else:
        raise SystemExit(f"unknown point {point!r}")

    dossiers.complete(session, actor, args["step_id"], args["data"], now=datetime.fromisoformat(args["now"]))
    print("completed without being stopped", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
