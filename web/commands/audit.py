"""`quytrinh audit verify|export` — the audit log's proof and its export (DESIGN.md, CLI contract).

`verify` exits 0 when the hash chain is intact and 1 naming the first broken event; `export`
streams the (filtered) log as JSON Lines or CSV in constant memory. Bad input: one line, exit 2.
"""
from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask.cli import with_appcontext


def _fail(message: str) -> NoReturn:
    click.echo(f"quytrinh audit: {message}", err=True)
    click.get_current_context().exit(2)
    raise AssertionError("unreachable")  # ctx.exit raises


@click.group("audit")
def audit_group():
    """Nhật ký kiểm tra: kiểm tra chuỗi băm, xuất nhật ký (audit log: verify, export)."""


@audit_group.command("verify")
@with_appcontext
def verify_command():
    """Recompute the hash chain; exit 0 when intact, 1 naming the first broken event."""
    from services import audit
    from web.extensions import db

    count, broken = audit.verify(db.session)
    db.session.rollback()
    if broken is None:
        click.echo(f"OK: {count} sự kiện, chuỗi băm nguyên vẹn ({count} events, chain intact)")
        return 0
    click.echo(f"HỎNG: sự kiện #{broken.seq} — {broken.reason} "
               f"(chain broken at event #{broken.seq}; {count} events read)")
    click.get_current_context().exit(1)


@audit_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), required=True, help="jsonl or csv")
@click.option("--dossier", help="dossier code, e.g. H01.15-261123-0007")
@click.option("--procedure", help="procedure code: its versions' and dossiers' events")
@click.option("--actor", help="username (or system, anonymous)")
@click.option("--action", help="action, e.g. step_completed")
@click.option("--from", "start", help="dd/mm/yyyy [HH:MM] or ISO 8601 (Asia/Ho_Chi_Minh when no zone)")
@click.option("--to", "end", help="same; a date alone includes that whole day")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="file (default: stdout)")
@with_appcontext
def export_command(fmt, dossier, procedure, actor, action, start, end, output):
    """Stream the (filtered) log in chain order; payloads are the exact hashed JSON."""
    from services import audit_query
    from services.errors import ValidationError
    from web.extensions import db

    try:
        flt = audit_query.AuditFilter.parse(dossier=dossier, procedure=procedure, actor=actor, action=action,
                                            start=start, end=end)
    except ValidationError as exc:
        _fail(f"--{exc.field}: {exc.message}")
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        for chunk in audit_query.lines(audit_query.stream(db.session, flt), fmt):
            out.write(chunk)
    finally:
        if output:
            out.close()
        else:
            out.flush()
        db.session.rollback()
    return 0
