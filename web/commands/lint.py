"""`quytrinh lint` — the TTHC policy linter (DESIGN.md, "`quytrinh lint` (contract)").

Exit 0: compliant; 1: policy violations; 2: unreadable or invalid input (including a bad
option). Needs no Flask app and no database.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from bpmn import DEFAULT_MAX_BYTES, CatalogMissing, InvalidOption, lint, render_text
from bpmn.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, message
from bpmn.report import BPMN_INVALID, EXIT_INPUT, Report
from bpmn.steps import Overrides


def _check_override(ctx: click.Context, param: click.Parameter, value):
    if value is None:
        return None
    try:
        Overrides.parse(**{param.name: value})
    except InvalidOption as exc:
        lang = ctx.params.get("lang") or DEFAULT_LANGUAGE
        try:
            reason = exc.reason.render(lang)
        except CatalogMissing:
            reason = exc.reason.render("en")
        raise click.BadParameter(reason) from None
    return value


def _unreadable(path: Path, error: OSError) -> Report:
    report = Report()
    reason = error.strerror or type(error).__name__
    report.error(BPMN_INVALID, None, message(
        N_("Cannot read the file %(path)s: %(reason)s."), path=str(path), reason=reason))
    return report


@click.command("lint")
@click.option("--lang", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, is_eager=True,
              show_default=True, help="Language of the messages (vi: Vietnamese, en: English).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary.")
@click.option("--legal-days", callback=_check_override, metavar="N",
              help="Legal processing time in working days (overrides tthc.legal_days).")
@click.option("--authority", callback=_check_override, metavar="A",
              help="Deciding authority, e.g. chu_tich_ubnd_tinh (overrides tthc.authority).")
@click.option("--reduction", callback=_check_override, metavar="R",
              help="The cut, 0 <= R < 1, e.g. 0.3 or 30% (overrides tthc.reduction).")
@click.option("--max-bytes", type=click.IntRange(min=1), default=DEFAULT_MAX_BYTES, show_default=True,
              help="Refuse files larger than this.")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.pass_context
def lint_command(ctx: click.Context, lang: str, as_json: bool, legal_days, authority, reduction,
                 max_bytes: int, file: Path) -> None:
    """Check FILE.bpmn against the TTHC profile: time budget, VP review, roles, no code."""
    try:
        with open(file, "rb") as handle:
            report = lint(handle, legal_days=legal_days, authority=authority, reduction=reduction,
                          max_bytes=max_bytes)
    except OSError as exc:
        report = _unreadable(file, exc)
    try:
        if as_json:
            click.echo(json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2))
        else:
            click.echo(render_text(report, lang))
    except CatalogMissing as exc:
        click.echo(f"quytrinh lint: {exc}", err=True)
        ctx.exit(EXIT_INPUT)
    ctx.exit(report.exit_code)
