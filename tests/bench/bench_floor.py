"""The floor under a step completion on PostgreSQL (mức sàn): our own statements replayed by the
driver alone, with the engine step between the reads and the writes — no SQLAlchemy, no service
code — against SpiffWorkflow alone.

It answers "how much of a PostgreSQL completion is ours to cut?". ``services.dossiers.complete``
runs the 10-task sequential procedure (as in bench_services) while every pipelined batch is
recorded as psycopg received it: SQL text and processed parameters. The replay runs on a copy of
the database taken before those completions (``CREATE DATABASE … TEMPLATE``), so every statement
finds the rows it found the first time. Per step: the read batch in one pipeline; the engine —
``ProcedureRuntime.load`` of the state that read returned, ``complete``, ``dump``; the writes and
the COMMIT in a second pipeline. One sample replays a whole dossier (ten steps), in alternation
with SpiffWorkflow alone deserializing, completing and serializing the same workflow.

The ratio is the lowest a completion with these statements, this engine and a durable commit can
reach on the machine; the services row minus this one is what the service layer itself costs.
Not judged against the goal: it is a measurement of the machine and the driver.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.bench.bench_engine import make_raw_run
from tests.bench.common import _sample
from tests.bench.bench_services import (
    BENCH_CODE, CASES, PG_ADMIN_URL, ServiceRun, SqlCounter, _alternate, _per_step, _pg_reachable, postgres_database,
    procedure_id, publish_sequential,
)

NAME = "PostgreSQL floor: our statements replayed by psycopg alone + the engine step"


def _capture(url: str, case, dossiers: int) -> tuple[list[list[list[tuple[str, dict]]]], str]:
    """Run *dossiers* dossiers' completions through the services; return the batches each one
    sent (per dossier, per batch: [(sql, params)]) and the name of a copy of the database as it
    was before them."""
    import services.sqlbatch as sqlbatch

    engine = create_engine(url)
    session = Session(engine, expire_on_commit=True)
    proc = procedure_id(session, BENCH_CODE) or publish_sequential(session, case.bpmn)
    session.commit()
    run = ServiceRun(session, SqlCounter(), proc, case.plan, dossiers)
    session.close()
    engine.dispose()
    copy = f"{make_url(url).database}_floor_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{make_url(url).database}"'))
    admin.dispose()

    recorded: list[list[tuple[str, dict]]] = []
    pipeline = sqlbatch.Batch._pipeline

    def record(batch, items):
        outcomes = pipeline(batch, items)
        sent = []
        for stmt, values in items:
            compiled = sqlbatch._compile(stmt, batch.dialect)
            params = {name: (process(value) if process is not None else value)
                      for name, process, required, default in compiled.binds
                      for value in [values[name] if required or name in values else default]}
            sent.append((compiled.sql, params))
        recorded.append(sent)
        return outcomes

    engine = create_engine(url)
    run.session = session = Session(engine, expire_on_commit=True)
    sqlbatch.Batch._pipeline = record
    per_dossier = []
    try:
        for _ in range(dossiers):
            recorded.clear()
            run()
            per_dossier.append(list(recorded))
    finally:
        sqlbatch.Batch._pipeline = pipeline
        session.close()
        engine.dispose()
    return per_dossier, copy


def _replayer(copy_url: str, case, per_dossier):
    """A callable replaying the next dossier's completions on *copy_url* with psycopg alone."""
    import psycopg

    from engine.runtime import ProcedureRuntime
    from services.dossiers import completion_sql
    from services.sqlbatch import TUPLES_OK, _compile

    runtime = ProcedureRuntime.from_bpmn(case.bpmn)
    load_sql = _compile(completion_sql.LOAD, create_engine(copy_url).dialect).sql
    load_fields = completion_sql.LOAD.selected_columns.keys()
    state_at, task_at = load_fields.index("state"), load_fields.index("task_id")
    conn = psycopg.connect(make_url(copy_url).set(drivername="postgresql").render_as_string(hide_password=False))
    pending = list(per_dossier)

    def pipeline(batch):
        cursors = []
        with conn.pipeline():
            for sql, params in batch:
                cursor = conn.cursor()
                cursor.execute(sql, params)
                cursors.append(cursor)
        return [cursor.fetchall() if cursor.pgresult.status == TUPLES_OK else [] for cursor in cursors]

    def replay_dossier() -> None:
        batches = pending.pop(0)
        if len(batches) != 2 * len(case.plan):
            raise RuntimeError(f"expected a read and a write batch per step, got {len(batches)} batches")
        for step, (_spec_id, values) in enumerate(case.plan):
            reads, writes = batches[2 * step], batches[2 * step + 1]
            out = pipeline(reads)
            (row,) = next(rows for (sql, _params), rows in zip(reads, out) if sql == load_sql)
            instance = runtime.load(row[state_at])
            instance.complete(row[task_at], dict(values))
            instance.dump()
            pipeline(writes)  # ends with the COMMIT

    return replay_dossier, conn


def run(quick: bool = False) -> list[dict[str, Any]]:
    if not _pg_reachable():
        return [{"benchmark": NAME, "ours": "not run: no PostgreSQL server", "baseline": None, "ratio": None,
                 "goal": "", "met": None}]
    case = CASES[0]
    repeat, warmup = (5, 2) if quick else (30, 3)
    with postgres_database() as url:
        per_dossier, copy = _capture(url, case, repeat + warmup)
        copy_url = make_url(url).set(database=copy).render_as_string(hide_password=False)
        try:
            replay, conn = _replayer(copy_url, case, per_dossier)
            raw = make_raw_run(case.bpmn, case.plan)

            try:
                floor, base = _alternate(lambda: _sample(replay), raw, repeat=repeat, warmup=warmup,
                                         max_seconds=60.0)
            finally:
                conn.close()
        finally:
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{copy}"'))
            admin.dispose()
    steps = len(case.plan)
    floor, base = _per_step(floor, steps), _per_step(base, steps)
    return [{"benchmark": f"{NAME} ({case.name})", "ours": floor, "baseline": base,
             "ratio": floor.median_ms / base.median_ms, "goal": "— (a floor, not judged)", "met": None,
             "note": "the lowest ratio these statements, this engine and a durable commit reach here"}]
