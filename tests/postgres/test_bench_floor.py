"""The floor benchmark replays exactly what the services sent (no timings checked): replayed on
the copy taken before them, the captured completions leave it as the services left the
original — the same dossier states, steps and audit chain."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.bench.bench_floor import _capture, _replayer
from tests.bench.bench_services import CASES, PG_ADMIN_URL

pytestmark = pytest.mark.postgres

SNAPSHOT = (
    "SELECT (SELECT json_agg(json_build_array(id, status, state_version, state) ORDER BY id) FROM dossiers),"
    " (SELECT json_agg(json_build_array(id, dossier_id, task_id, status, completed_at, used_minutes) ORDER BY id)"
    "  FROM dossier_steps),"
    " (SELECT json_agg(json_build_array(seq, hash) ORDER BY seq) FROM audit_events)"
)


def _snapshot(url: str):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(SNAPSHOT)).one())
    finally:
        engine.dispose()


def test_the_replay_is_the_services_completions(pg_url):
    case = CASES[0]
    per_dossier, copy = _capture(pg_url, case, 2)
    copy_url = make_url(pg_url).set(database=copy).render_as_string(hide_password=False)
    try:
        assert [len(batches) for batches in per_dossier] == [2 * len(case.plan)] * 2
        assert all(batch[-1][0] == "COMMIT" for batches in per_dossier for batch in batches[1::2])
        before = _snapshot(copy_url)
        assert before != _snapshot(pg_url)
        replay, conn = _replayer(copy_url, case, per_dossier)
        try:
            replay()
            replay()
        finally:
            conn.close()
        assert _snapshot(copy_url) == _snapshot(pg_url)
    finally:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{copy}"'))
        admin.dispose()
