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
@click.option("--head", "anchor", metavar="SEQ:HASH",
              help="a head printed by an earlier run and kept elsewhere: the event SEQ must still "
                   "carry HASH (catches a truncated tail or a rewritten, re-hashed chain)")
@with_appcontext
def verify_command(anchor):
    """Recompute the hash chain; exit 0 when intact, 1 naming the first broken event.

    On success it prints the head (last seq and hash): archived outside the database, it lets a
    later `--head` run prove that nothing was cut off the end or rewritten since.
    """
    from sqlalchemy import select

    from services import audit
    from services.models import AuditEvent
    from web.extensions import db

    expected = None
    if anchor is not None:
        seq_text, _, hash_text = anchor.partition(":")
        if not seq_text.isdigit() or len(hash_text) != 64:
            _fail(f"--head: cần dạng SEQ:HASH (số thứ tự và mã băm 64 ký tự), nhận được {anchor!r}.")
        expected = (int(seq_text), hash_text.lower())
    count, broken = audit.verify(db.session)
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    kept = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == expected[0])) if expected else None
    db.session.rollback()
    if broken is not None:
        click.echo(f"HỎNG: sự kiện #{broken.seq} — {broken.reason} "
                   f"(chain broken at event #{broken.seq}; {count} events read)")
        click.get_current_context().exit(1)
    if expected is not None and kept != expected[1]:
        why = "không còn trong nhật ký (missing: the log was truncated)" if kept is None else \
            "mang mã băm khác (another hash: the chain was rewritten)"
        click.echo(f"HỎNG: sự kiện #{expected[0]} đã lưu làm mốc {why}")
        click.get_current_context().exit(1)
    click.echo(f"OK: {count} sự kiện, chuỗi băm nguyên vẹn ({count} events, chain intact)")
    if head is not None:
        click.echo(f"head {head[0]}:{head[1]}")
    return 0


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
    from web.input_guard import refused_character

    # An argument that is not valid text (a byte the locale cannot decode arrives as a lone
    # surrogate) would fail deep in the database driver: refuse it here, naming the option.
    for option, value in (("dossier", dossier), ("procedure", procedure), ("actor", actor),
                          ("action", action), ("from", start), ("to", end)):
        char = refused_character(value or "")
        if char is not None:
            _fail(f"--{option}: ký tự không được phép {char} (a character that is not allowed)")
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
