"""Audit benchmarks: verifying the hash chain, and exporting a million events in flat memory.

* **verify** — ``services.audit.verify(session)`` on a temporary SQLite file holding N chained
  events (the real table from the models; payloads shaped like step completions, with Vietnamese
  opinions), built beforehand with ``executemany``. Goal: at least 100 000 events/s. The goal is
  checked on the process's CPU time (``time.process_time``), which the other processes of a
  shared box do not inflate; the wall time is shown beside it.
* **export** — (timed once without tracing, then measured) ``services.audit_query.stream`` + ``lines(…, "jsonl")`` written to a file, the whole
  log (1 000 000 events) and the first 100 000 of it (a time filter). Memory is measured two ways
  while streaming: the peak of ``tracemalloc`` (Python allocations) and the peak growth of the
  process's resident set (``VmRSS`` from /proc, sampled every 10 000 lines; the 100 k export runs
  first, so the 1 M one starts with a warm allocator). Goal: flat — the 1 M export's peaks no
  more than 1.5× (plus 2 MB) the 100 k export's.
"""
from __future__ import annotations

import gc
import os
import statistics
import sqlite3
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services import audit, audit_query
from services.db import tune_sqlite
from services.models import AuditEvent

START = datetime(2026, 1, 5, 0, 0, tzinfo=timezone.utc)
ACTORS = ["motcua", "chuyenvien", "lanhdaophong", "lanhdaoso", "vp.chuyenvien", "vp.lanhdao", "chutich", "system"]
ACTIONS = ["dossier_received", "step_claimed", "step_completed", "step_deadline", "login"]


def _payloads() -> list[str]:
    pool = []
    for i in range(200):
        pool.append(audit.canonical_json({
            "step": f"Task_{i % 12}", "task": f"{i:08x}", "used_minutes": 30 + i, "allocation_minutes": 240,
            "data": {"decision": "approve" if i % 7 else "return",
                     "opinion": f"Hồ sơ đầy đủ, đề nghị trình lãnh đạo xem xét phê duyệt (lần {i % 3 + 1}).",
                     "so_to": i % 40},
        }))
    return pool


def build_chain(path: Path, count: int) -> None:
    """`count` chained events in a new SQLite file, inserted in batches with executemany."""
    engine = create_engine(f"sqlite:///{path}")
    AuditEvent.__table__.create(engine)
    engine.dispose()
    payloads = _payloads()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    prev, batch = audit.GENESIS_HASH, []
    insert = ("INSERT INTO audit_events (seq, at, actor, action, object, payload, prev_hash, hash) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    for seq in range(1, count + 1):
        at = START + timedelta(seconds=seq, microseconds=seq % 997)
        stored_at = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        actor, action = ACTORS[seq % len(ACTORS)], ACTIONS[seq % len(ACTIONS)]
        obj = f"dossier:H01.15-26{(seq // 400) % 12 + 1:02d}{(seq // 50) % 28 + 1:02d}-{seq % 9999:04d}"
        payload = payloads[seq % len(payloads)]
        digest = audit.event_hash(prev, seq, stored_at, actor, action, obj, payload)
        batch.append((seq, stored_at, actor, action, obj, payload, prev, digest))
        prev = digest
        if len(batch) == 50_000:
            conn.executemany(insert, batch)
            batch.clear()
    conn.executemany(insert, batch)
    conn.commit()
    conn.close()


def _session(path: Path) -> tuple:
    engine = create_engine(f"sqlite:///{path}")
    tune_sqlite(engine)
    return engine, Session(engine)


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def export_memory(path: Path, end: datetime | None, out: Path, *, trace: bool = True
                  ) -> tuple[int, float, float, float, float]:
    """Stream the log (up to `end`) as JSON Lines into `out`: lines, seconds, tracemalloc peak MB,
    peak RSS growth MB, peak RSS MB."""
    engine, session = _session(path)
    flt = audit_query.AuditFilter(end=end)
    gc.collect()
    rss_start, rss_peak, rss_top = _rss_kb(), 0, 0
    if trace:
        tracemalloc.start()
    begin = time.perf_counter()
    lines = 0
    with open(out, "w", encoding="utf-8") as fh:
        for chunk in audit_query.lines(audit_query.stream(session, flt), "jsonl"):
            fh.write(chunk)
            lines += 1
            if lines % 10_000 == 0:
                rss = _rss_kb()
                rss_peak, rss_top = max(rss_peak, rss - rss_start), max(rss_top, rss)
    seconds = time.perf_counter() - begin
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_peak = max(rss_peak, _rss_kb() - rss_start)
    session.close()
    engine.dispose()
    return lines, seconds, peak / 2**20, rss_peak / 1024, rss_top / 1024


def run(quick: bool = False) -> list[dict]:
    total = 200_000 if quick else 1_000_000
    small = total // 10
    rows = []
    with tempfile.TemporaryDirectory(prefix="quytrinh-bench-audit-") as tmp:
        path = Path(tmp) / "audit.db"
        began = time.perf_counter()
        build_chain(path, total)
        build_seconds = time.perf_counter() - began

        engine, session = _session(path)
        walls, cpus = [], []
        for _ in range(2 if quick else 4):
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            count, broken = audit.verify(session)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            session.rollback()
            assert broken is None and count == total
        walls.sort()
        cpus.sort()
        wall_rate, cpu_rate = total / statistics.median(walls), total / statistics.median(cpus)
        rows.append({
            "benchmark": f"audit verify: {total:,} events (SQLite)".replace(",", " "),
            "ours": (f"{statistics.median(walls):.2f} s wall ({wall_rate:,.0f} events/s); "
                     f"{statistics.median(cpus):.2f} s CPU ({cpu_rate:,.0f} events/s)").replace(",", " "),
            "baseline": None, "ratio": None, "goal": "≥ 100 000 events/s (CPU time)", "met": cpu_rate >= 100_000,
            "note": (f"{cpu_rate:,.0f} events/s of CPU time, {wall_rate:,.0f} events/s wall; "
                     f"chain built in {build_seconds:.1f} s"),
        })
        session.close()
        engine.dispose()

        out = Path(tmp) / "export.jsonl"
        small_end = START + timedelta(seconds=small, microseconds=small % 997 + 1)
        n_small, s_small, trace_small, rss_small, top_small = export_memory(path, small_end, out)
        n_all, s_all, trace_all, rss_all, top_all = export_memory(path, None, out)
        assert n_small == small and n_all == total, (n_small, n_all)
        size_mb = os.path.getsize(out) / 2**20
        n_plain, s_plain, *_ = export_memory(path, None, out, trace=False)
        rows.append({"benchmark": f"audit export jsonl: {total:,} events".replace(",", " "),
                     "ours": f"{s_plain:.1f} s ({n_plain / s_plain:,.0f} events/s)".replace(",", " "),
                     "baseline": None, "ratio": None, "goal": "", "met": None, "note": ""})
        flat = trace_all <= trace_small * 1.5 + 2 and top_all <= top_small * 1.5 + 2
        for label, n, secs in ((f"{small:,}", n_small, s_small), (f"{total:,}", n_all, s_all)):
            rows.append({"benchmark": f"audit export jsonl: {label} events (under tracemalloc)".replace(",", " "),
                         "ours": f"{secs:.1f} s ({n / secs:,.0f} events/s)".replace(",", " "), "baseline": None,
                         "ratio": None, "goal": "", "met": None, "note": ""})
        rows.append({
            "benchmark": f"audit export memory: {small // 1000}k vs {total // 1000}k events",
            "ours": (f"Python peak {trace_small:.1f} → {trace_all:.1f} MB; RSS peak {top_small:.0f} → "
                     f"{top_all:.0f} MB (growth while streaming {rss_small:.1f} → {rss_all:.1f} MB); "
                     f"file {size_mb:.0f} MB"),
            "baseline": None, "ratio": None, "goal": f"flat ({total // 1000}k ≤ 1.5× {small // 1000}k + 2 MB)", "met": flat, "note": "",
        })
    return rows


if __name__ == "__main__":
    from tests.bench.common import format_table
    import sys

    print(format_table(run(quick="--quick" in sys.argv)))
