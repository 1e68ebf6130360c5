"""`quytrinh bench`: the benchmarks of tests/bench, printed as one table."""
from __future__ import annotations

import subprocess
import sys

import click

from web.config import PROJECT_ROOT


@click.command("bench", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_command(args):
    """Run the benchmarks (a source checkout is needed: they live in tests/bench)."""
    if not (PROJECT_ROOT / "tests" / "bench" / "__main__.py").exists():
        raise click.ClickException("the benchmarks live in tests/bench of a source checkout; none is here")
    # A child process so the benchmarks run with nothing of this CLI loaded.
    raise SystemExit(subprocess.call([sys.executable, "-m", "tests.bench", *args], cwd=PROJECT_ROOT))
