"""``python -m tests.bench [--quick] [names…]``: run every tests/bench/bench_*.py and print one table."""
from __future__ import annotations

import argparse
import importlib
import inspect
import os
import pkgutil
import platform
import sys
from pathlib import Path

from tests.bench.common import format_table


def _modules(selected: list[str]) -> list[str]:
    here = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if selected:
        names = [n for n in names if n in selected or n.removeprefix("bench_") in selected]
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmark modules to run (e.g. lint); all by default")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args(argv)
    rows = []
    for name in _modules(args.names):
        run = importlib.import_module(f"tests.bench.{name}").run
        accepts_quick = "quick" in inspect.signature(run).parameters
        rows.extend(run(quick=args.quick) if accepts_quick else run())
    print(f"Python {platform.python_version()} · {os.cpu_count()} CPU · {platform.machine()}")
    print(format_table(rows))
    return 0 if all(r.get("met") is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
