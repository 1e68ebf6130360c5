"""`quytrinh lint` — the TTHC policy linter (DESIGN.md, "`quytrinh lint` (contract)").

Exit 0: compliant; 1: policy violations; 2: unreadable or invalid input (including a bad
option). Needs no Flask app. The reduction is checked against the province's minimum for the
current year (Asia/Ho_Chi_Minh): the one stored in the database (DATABASE_URL, else the embedded
SQLite file) when that database exists and is migrated, read-only, else the shipped 0.30 — as
``quytrinh calendar`` reads the stored calendar.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from fractions import Fraction
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


def province_minimum(lang: str, now: datetime | None = None) -> tuple[int, Fraction]:
    """(year, minimum cut) in force now: stored, else shipped; a database that is configured but
    unusable gives the shipped minimum with one line on stderr saying so (stdout stays the report)."""
    from services import policy
    from web.commands.stored import Unusable, read_stored

    year = policy.policy_year(now or datetime.now(timezone.utc))
    try:
        stored = read_stored("policy_settings", policy.reduction_policy)
    except Unusable as exc:
        return year, _shipped_with_note(lang, exc.cause)
    return year, (stored or policy.SHIPPED).minimum_for(year)


def _shipped_with_note(lang: str, cause: str) -> Fraction:
    from services import policy

    note = message(N_("Note: the province's policy could not be read (%(cause)s); the file is checked "
                      "against the shipped minimum cut of %(percent)s%%."),
                   cause=cause[:300], percent=policy.percent(policy.FLOOR))
    try:
        text = note.render(lang)
    except CatalogMissing:
        text = note.render("en")
    click.echo(text, err=True)
    return policy.FLOOR


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
    """Check FILE.bpmn against the TTHC profile: time budget, the province's minimum cut, VP
    review, roles, no code."""
    year, minimum = province_minimum(lang)
    try:
        with open(file, "rb") as handle:
            report = lint(handle, legal_days=legal_days, authority=authority, reduction=reduction,
                          max_bytes=max_bytes, min_reduction=minimum)
    except OSError as exc:
        report = _unreadable(file, exc)
    report.policy_year = year
    try:
        if as_json:
            click.echo(json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2))
        else:
            click.echo(render_text(report, lang))
    except CatalogMissing as exc:
        click.echo(f"quytrinh lint: {exc}", err=True)
        ctx.exit(EXIT_INPUT)
    ctx.exit(report.exit_code)
