"""A worker that completes one step and is meant to be killed inside its transaction (tests only).

``python -m tests.crash_worker '<json>'`` with url, step_id, username, data, now, point, marker and
optionally cache_pages. It calls ``services.dossiers.complete`` unchanged; an event registered
here (tests.hold_points, no production seam) stops it at *point* — after the dossier's new state
was written, or with every write done and the COMMIT not yet sent.

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
from tests.hold_points import hold_at, rows


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
        ((version, changed),) = rows(conn, select(Dossier.state_version, Dossier.state != before.state)
                                     .where(Dossier.id == dossier_id))
        if version == before.state_version:
            return  # this statement did not write the dossier yet

        def one(stmt):
            return rows(conn, stmt)[0][0]

        seen = {
            "point": point, "state_version": version, "state_changed": bool(changed),
            "events": one(select(func.count()).select_from(AuditEvent)),
            "steps": one(select(func.count()).select_from(DossierStep).where(DossierStep.dossier_id == dossier_id)),
            "step_status": one(select(DossierStep.status).where(DossierStep.id == args["step_id"])),
            "spec_id": spec_id, "pid": os.getpid(),
            "wal_before": wal_before, "wal_now": wal.stat().st_size if wal is not None and wal.exists() else 0,
        }
        marker = Path(args["marker"])
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(seen))
        os.replace(tmp, marker)  # the parent never reads half a file
        while True:  # wait for SIGKILL
            time.sleep(60)

    hold_at(engine, session, point, stop_here)
    dossiers.complete(session, actor, args["step_id"], args["data"], now=datetime.fromisoformat(args["now"]))
    print("completed without being stopped", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
