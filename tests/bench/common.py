"""A tiny benchmark harness (đo hiệu năng): time a callable, report median and p95, print a table.

Every ``tests/bench/bench_*.py`` module exposes ``run()`` (optionally ``run(quick: bool)``, fewer
repetitions) returning a list of rows, each a dict made by :func:`row`: ``benchmark`` (str),
``ours`` and ``baseline`` (:class:`Timing`, or anything printable; baseline may be None),
``ratio`` (float or None), ``goal`` (str) and ``met`` (bool or None). ``python -m tests.bench``
runs them all and prints one table with the columns benchmark, ours, baseline, ratio, goal, and
exits 1 when a goal is missed.
"""
from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p95_ms: float
    runs: int

    def __str__(self) -> str:
        return f"{_ms(self.median_ms)} (p95 {_ms(self.p95_ms)})"


def _ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.1f} ms"
    return f"{value:.3f} ms"


def _timing(samples: list[float]) -> Timing:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]
    return Timing(statistics.median(samples), p95, len(samples))


def _sample(fn: Callable[[], Any]) -> float:
    gc.collect()
    gc.disable()  # a collection inside one sample would be charged to it alone
    try:
        begin = time.perf_counter()
        fn()
        return (time.perf_counter() - begin) * 1000
    finally:
        gc.enable()


def measure(fn: Callable[[], Any], *, repeat: int = 30, warmup: int = 3, max_seconds: float = 20.0) -> Timing:
    """Run *fn* ``warmup`` times untimed, then up to ``repeat`` times (stopping after ``max_seconds``)."""
    return compare(fn, None, repeat=repeat, warmup=warmup, max_seconds=max_seconds)[0]


def compare(ours: Callable[[], Any], baseline: Callable[[], Any] | None, *, repeat: int = 30, warmup: int = 3,
            max_seconds: float = 30.0) -> tuple[Timing, Timing | None]:
    """Time *ours* and *baseline* in alternation, so that load from other processes on a shared
    machine falls on both alike and the ratio stays meaningful."""
    for _ in range(warmup):
        ours()
        if baseline is not None:
            baseline()
    ours_samples: list[float] = []
    base_samples: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        ours_samples.append(_sample(ours))
        if baseline is not None:
            base_samples.append(_sample(baseline))
        if time.perf_counter() - started > max_seconds:
            break
    return _timing(ours_samples), (_timing(base_samples) if baseline is not None else None)


def row(benchmark: str, ours: Timing, baseline: Timing | None = None, *, goal_ms: float | None = None,
        goal: str | None = None, note: str = "") -> dict[str, Any]:
    """One table row. ``goal_ms`` is compared with our median; ``goal`` is the text shown."""
    ratio = ours.median_ms / baseline.median_ms if baseline else None
    met = ours.median_ms <= goal_ms if goal_ms is not None else None
    return {
        "benchmark": benchmark, "ours": ours, "baseline": baseline, "ratio": ratio,
        "goal": goal or (f"≤ {goal_ms:g} ms" if goal_ms is not None else ""), "met": met, "note": note,
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of *rows*."""
    lines = ["| benchmark | ours | baseline | ratio | goal |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}×" if r.get("ratio") is not None else "—"
        mark = {True: " ✓", False: " ✗", None: ""}[r.get("met")]
        baseline = str(r["baseline"]) if r.get("baseline") is not None else "—"
        lines.append(f"| {r['benchmark']} | {r['ours']} | {baseline} | {ratio} | {r.get('goal', '')}{mark} |")
    return "\n".join(lines)
