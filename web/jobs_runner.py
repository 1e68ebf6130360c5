"""Running the background jobs on a schedule: the `quytrinh worker` loop and the serve thread."""
from __future__ import annotations

import logging
import random
import threading

from flask import Flask

log = logging.getLogger(__name__)


def run_once(app: Flask):
    from services import jobs
    from web.extensions import db

    with app.app_context():
        try:
            report = jobs.run_all(db.session)
        finally:
            db.session.remove()
    if report.errors:  # each failure was logged with its cause; this is the run's one line
        log.warning("background jobs: %d item(s) failed, tried again on the next run: %s",
                    len(report.failed), "; ".join(report.errors)[:2000])
    return report


def run_forever(app: Flask, interval: float, stop: threading.Event, on_report=None) -> None:
    """Run the jobs every `interval` seconds until `stop` is set; a failing run is logged, not fatal."""
    # Jitter so that several processes started together do not all hit the database at once.
    stop.wait(random.uniform(0, min(5.0, interval)))
    while not stop.is_set():
        try:
            report = run_once(app)
            if on_report:
                on_report(report)
        except Exception:  # noqa: BLE001 — the loop must survive a bad run (database restart, …)
            log.exception("background jobs failed; retrying in %ss", interval)
        stop.wait(interval)


def start_thread(app: Flask, interval: float) -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app, interval, stop), name="quytrinh-jobs", daemon=True)
    thread.start()
    return stop
