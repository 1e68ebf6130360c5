"""`quytrinh serve` and `quytrinh demo`."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from web.config import ConfigError


def check_database() -> None:
    """Fail early, naming DATABASE_URL, if the database is unreachable or not migrated."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from web.extensions import db

    with db.engine.connect() as conn:  # DBAPIError here is reported by web.cli.main
        current = MigrationContext.configure(conn).get_current_revision()
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    head = script.get_current_head()
    if current != head:
        raise ConfigError(
            f"DATABASE_URL: the database is at migration {current or 'none'}, the code needs {head}: "
            "run `quytrinh db upgrade` first")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="gunicorn worker processes (default: 1 on SQLite, 2 on PostgreSQL)")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@with_appcontext
def serve_command(host: str, port: int, workers: int | None, threads: int):
    """Serve the web UI and API with gunicorn."""
    from gunicorn.app.base import BaseApplication
    from web.extensions import db

    check_database()
    app = current_app._get_current_object()
    sqlite = db.engine.dialect.name == "sqlite"
    workers = workers or (1 if sqlite else 2)

    jobs_interval = float(os.environ.get("QUYTRINH_JOBS_INTERVAL", 60))
    run_jobs = os.environ.get("QUYTRINH_JOBS", "1") != "0"

    def post_fork(_server, _worker):
        # Connections must never be shared across a fork.
        with app.app_context():
            db.engine.dispose(close=False)
        if run_jobs:
            # Embedded mode: the jobs run in each web worker (they are idempotent); set
            # QUYTRINH_JOBS=0 when `quytrinh worker` or Celery runs them instead.
            from web.jobs_runner import start_thread
            start_thread(app, jobs_interval)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", "-")
            self.cfg.set("post_fork", post_fork)

        def load(self):
            return app

    click.echo(f"quytrinh: serving http://{host}:{port}/ ({db.engine.dialect.name}, "
               f"{workers} worker(s) × {threads} thread(s))", err=True)
    Server().run()


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo org units, accounts and procedures (idempotent); print the accounts."""
    from services import demo
    from web.extensions import db

    check_database()
    report = demo.load(db.session)
    click.echo(demo.format_report(report))
