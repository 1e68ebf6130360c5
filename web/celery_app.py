"""Celery for scale-out: the same jobs as `quytrinh worker`, scheduled by celery beat.

    QUYTRINH_BROKER_URL=redis://127.0.0.1:6379/0 celery -A web.celery_app worker -B --loglevel=info
"""
from __future__ import annotations

import os

from celery import Celery

BROKER = os.environ.get("QUYTRINH_BROKER_URL", "redis://127.0.0.1:6379/0")
celery = Celery("quytrinh", broker=BROKER, backend=os.environ.get("QUYTRINH_RESULT_BACKEND", BROKER))
celery.conf.update(
    task_serializer="json", result_serializer="json", accept_content=["json"], timezone="Asia/Ho_Chi_Minh",
    beat_schedule={"jobs": {"task": "quytrinh.run_jobs",
                            "schedule": float(os.environ.get("QUYTRINH_JOBS_INTERVAL", 60))}},
    worker_hijack_root_logger=False,
)
_app = None


def _flask_app():
    global _app
    if _app is None:  # one app (and one connection pool) per worker process
        from web import create_app

        _app = create_app()
    return _app


@celery.task(name="quytrinh.run_jobs")
def run_jobs() -> dict:
    from web.jobs_runner import run_once

    report = run_once(_flask_app())
    return {"steps_marked": report.steps_marked, "dossiers_marked": report.dossiers_marked,
            "notifications": report.notifications, "timers_fired": report.timers_fired,
            "emails": report.emails, "errors": report.errors, "failed": report.failed}
