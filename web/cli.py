"""The `quytrinh` command (contract: DESIGN.md, "The `quytrinh` command")."""
from __future__ import annotations

import os
import sys

import click
from flask.cli import FlaskGroup, routes_command, shell_command
from sqlalchemy.exc import DBAPIError

from web.config import ConfigError


def _create_app():
    from web import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, load_dotenv=False,
             set_debug_flag=False)
def cli():
    """quytrinh — quy trình nội bộ giải quyết thủ tục hành chính (BPM engine for TTHC)."""


cli.add_command(shell_command)
cli.add_command(routes_command)


def _register() -> None:
    from web.commands.audit import audit_group
    from web.commands.bench import bench_command
    from web.commands.calendar import calendar_group
    from web.commands.lint import lint_command
    from web.commands.serve import demo_command, serve_command
    from web.commands.simulate import simulate_command
    from web.commands.worker import worker_command

    cli.add_command(audit_group)
    cli.add_command(serve_command)
    cli.add_command(demo_command)
    cli.add_command(lint_command)
    cli.add_command(calendar_group)
    cli.add_command(bench_command)
    cli.add_command(worker_command)
    cli.add_command(simulate_command)


_register()


def _db_error_line(exc: DBAPIError) -> str:
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return cause[0] if cause else exc.__class__.__name__


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; configuration and database problems end in one clear line and exit 2."""
    try:
        rv = cli.main(args=argv, prog_name="quytrinh", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except ConfigError as exc:
        click.echo(f"quytrinh: {exc}", err=True)
        return 2
    except DBAPIError as exc:
        click.echo(f"quytrinh: DATABASE_URL: cannot use the database: {_db_error_line(exc)}", err=True)
        return 2
    except Exception as exc:  # noqa: BLE001 — one line for people; QUYTRINH_DEBUG=1 shows the traceback
        if os.environ.get("QUYTRINH_DEBUG"):
            raise
        click.echo(f"quytrinh: internal error ({type(exc).__name__}: {exc}); "
                   "run again with QUYTRINH_DEBUG=1 for details", err=True)
        return 1
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
