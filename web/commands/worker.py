"""`quytrinh worker`: the background jobs without the web server."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--interval", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="seconds between two runs")
@click.option("--once", is_flag=True, help="run the jobs once and exit")
@with_appcontext
def worker_command(interval: float, once: bool):
    """Deadline warnings, timers and notifications, on a schedule."""
    from web.commands.serve import check_database
    from web.jobs_runner import run_forever, run_once

    check_database()
    app = current_app._get_current_object()

    def show(report):
        click.echo(f"jobs: {report.steps_marked} steps and {report.dossiers_marked} dossiers marked, "
                   f"{report.notifications} notifications, {report.timers_fired} timers, {report.emails} e-mails"
                   + (f", failed (retried next run): {'; '.join(report.errors)}" if report.errors else ""))

    if once:
        show(run_once(app))
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"quytrinh worker: running the jobs every {interval:g} s (Ctrl-C to stop)", err=True)
    run_forever(app, interval, stop, show)
