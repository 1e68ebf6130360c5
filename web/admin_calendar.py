"""Admin pages for the working-time calendar (quản trị lịch làm việc): a year's days off and
make-up working days, the working periods and the receipt cut-off.

The routes live on the admin blueprint, so its admin-only check covers them; the service checks
the role again for every change. A year is edited as two text areas, one day per line
(``dd/mm/yyyy Tên ngày``): robust to paste from an announcement, and every error names its line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length

from engine.calendar import FIRST_YEAR, LAST_YEAR, TIMEZONE, default_calendar, statutory_schedule
from services import calendar as calendar_store
from services.errors import ServiceError
from web.admin import bp
from web.extensions import db
from web.forms import show_service_error
from web.input_guard import whole_number

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))
_DATE = r"(?:(\d{1,2})/(\d{1,2})/(\d{4})|(\d{4})-(\d{2})-(\d{2}))"
# A day or a range of days, then the name: "02/09/2027 Quốc khánh", "14/02/2026-22/02/2026 Tết".
_LINE = re.compile(rf"\s*{_DATE}(?:\s*[-–—]\s*{_DATE})?(?:\s+|\s*[:–—-]\s*|$)(.*)")
_PERIOD = re.compile(r"\s*(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})\s*")
MAX_TEXT = 40_000


class YearForm(FlaskForm):
    days_off = TextAreaField(_l("Days off"), validators=[Length(max=MAX_TEXT)], render_kw={"rows": 16})
    working_days = TextAreaField(_l("Make-up working days"), validators=[Length(max=MAX_TEXT)],
                                 render_kw={"rows": 4})
    revision = HiddenField()


class ResetForm(FlaskForm):
    revision = HiddenField()


class SettingsForm(FlaskForm):
    periods = StringField(_l("Working periods"), validators=[Length(max=200)])
    receipt_cutoff = StringField(_l("Receipt cut-off"), validators=[Length(max=20)])
    revision = HiddenField()


class LineError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _day(groups: tuple) -> date | None:
    d, m, y, iy, im, iday = groups
    try:
        return date(int(y), int(m), int(d)) if y else date(int(iy), int(im), int(iday))
    except ValueError:
        return None


def parse_days(text: str) -> tuple[list[tuple[date, str]], dict[str, int]]:
    """Lines → (date, name) pairs and the line of each date (dd/mm/yyyy), for error messages."""
    pairs: list[tuple[date, str]] = []
    lines: dict[str, int] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.fullmatch(raw)
        if match is None:
            raise LineError(_("Line %(line)d: '%(text)s' does not start with a date dd/mm/yyyy.",
                              line=number, text=raw.strip()[:60]))
        first = _day(match.groups()[0:6])
        last = _day(match.groups()[6:12]) if any(match.groups()[6:12]) else first
        if first is None or last is None:
            raise LineError(_("Line %(line)d: '%(text)s' is not a valid date.",
                              line=number, text=raw.strip()[:60]))
        if last < first or (last - first).days > 366:
            raise LineError(_("Line %(line)d: the range must go forward and stay within a year.",
                              line=number))
        # Counted, not stepped past `last`: 31/12/9999 is a date, the day after it is not.
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            pairs.append((day, match.group(13).strip()))
            lines.setdefault(calendar_store.shown_date(day), number)
    return pairs, lines


def day_lines(entries) -> str:
    return "\n".join(f"{calendar_store.shown_date(e.day)} {e.name}".rstrip() for e in entries)


def _add_error(form, exc: ServiceError, lines: dict[str, dict[str, int]] | None = None) -> None:
    message = _(exc.template, **exc.params)
    line = (lines or {}).get(exc.field or "", {}).get(exc.params.get("date"))
    if line is not None:
        message = _("Line %(line)d: %(message)s", line=line, message=message)
    show_service_error(form, exc, message)


def _revision(form) -> int | None:
    revision = whole_number(form.revision.data)
    if revision is None:
        form.form_errors.append(_("The form lost its revision number; reload the page."))
    return revision


@dataclass(frozen=True)
class YearRow:
    year: int
    origin: str
    days_off: int
    working_days: int
    working_day_count: int


@bp.get("/calendar")
def calendar_years():
    wanted = request.args.get("year")
    if wanted is not None:
        year = whole_number(wanted, low=FIRST_YEAR, high=LAST_YEAR)
        if year is not None:
            return redirect(url_for("admin.calendar_year", year=year))
        flash(_("The year must be between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR),
              "error")
    state = calendar_store.load_state(db.session)
    form = SettingsForm(formdata=None, revision=state.revision)
    form.periods.data = ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in state.calendar.periods)
    form.receipt_cutoff.data = f"{state.calendar.receipt_cutoff:%H:%M}"
    return _years_page(state, form)


def _years_page(state, settings, status: int = 200):
    this_year = datetime.now(TIMEZONE).year
    years = {*range(this_year - 1, this_year + 3), *state.stored_years, *default_calendar().schedules}
    rows = []
    for year in sorted(y for y in years if FIRST_YEAR <= y <= LAST_YEAR):
        schedule = state.calendar.schedule_for(year)
        rows.append(YearRow(year, state.origin(year), len(schedule.days_off), len(schedule.working_days),
                            state.calendar.working_day_count(year)))
    return render_template("admin/calendar.html", state=state, rows=rows, settings=settings,
                           this_year=this_year, first_year=FIRST_YEAR, last_year=LAST_YEAR), status


@bp.post("/calendar/settings")
def calendar_settings():
    form = SettingsForm()
    status = 400
    if form.validate_on_submit() and (revision := _revision(form)) is not None:
        periods = []
        for chunk in re.split(r"[,;\n]", form.periods.data or ""):
            if not chunk.strip():
                continue
            match = _PERIOD.fullmatch(chunk)
            if match is None:
                form.periods.errors = [_("'%(text)s' is not a period HH:MM-HH:MM.", text=chunk.strip()[:40])]
                break
            periods.append((match.group(1).zfill(5), match.group(2).zfill(5)))
        else:
            try:
                calendar_store.update_settings(db.session, current_user._get_current_object(),
                                               periods=periods, receipt_cutoff=form.receipt_cutoff.data,
                                               expected_revision=revision)
            except ServiceError as exc:
                _add_error(form, exc)
                status = exc.status
            else:
                flash(_("Working hours saved."), "success")
                return redirect(url_for("admin.calendar_years"))
    return _years_page(calendar_store.load_state(db.session), form, status)


def _year_or_404(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    return year


def _year_page(year: int, state, form, status: int = 200, prefilled: bool = False):
    schedule = state.calendar.schedule_for(year)
    return render_template(
        "admin/calendar_year.html", year=year, state=state, schedule=schedule,
        origin=state.origin(year), form=form, reset=ResetForm(formdata=None, revision=state.revision),
        working_day_count=state.calendar.working_day_count(year), weekdays=WEEKDAYS,
        shown=calendar_store.shown_date, prefilled=prefilled, first_year=FIRST_YEAR,
        last_year=LAST_YEAR), status


@bp.get("/calendar/<int:year>")
def calendar_year(year: int):
    _year_or_404(year)
    state = calendar_store.load_state(db.session)
    prefill = request.args.get("prefill") == "statutory"
    source = statutory_schedule(year, state.calendar.weekend) if prefill else state.calendar.schedule_for(year)
    form = YearForm(formdata=None, revision=state.revision, days_off=day_lines(source.days_off),
                    working_days=day_lines(source.working_days))
    return _year_page(year, state, form, prefilled=prefill)


@bp.post("/calendar/<int:year>")
def calendar_year_save(year: int):
    _year_or_404(year)
    form = YearForm()
    status = 400
    if form.validate_on_submit() and (revision := _revision(form)) is not None:
        parsed, lines = {}, {}
        for name in ("days_off", "working_days"):
            try:
                parsed[name], lines[name] = parse_days(getattr(form, name).data)
            except LineError as exc:
                getattr(form, name).errors = [exc.message]
        if len(parsed) == 2:
            try:
                calendar_store.save_year(db.session, current_user._get_current_object(), year,
                                         parsed["days_off"], parsed["working_days"],
                                         expected_revision=revision)
            except ServiceError as exc:
                _add_error(form, exc, lines)
                status = exc.status
            else:
                flash(_("The calendar of %(year)d is saved.", year=year), "success")
                return redirect(url_for("admin.calendar_year", year=year))
    return _year_page(year, calendar_store.load_state(db.session), form, status)


@bp.post("/calendar/<int:year>/reset")
def calendar_year_reset(year: int):
    _year_or_404(year)
    form = ResetForm()
    if not form.validate_on_submit():
        abort(400)
    revision = whole_number(form.revision.data)
    if revision is None:
        abort(400)
    try:
        calendar_store.reset_year(db.session, current_user._get_current_object(), year,
                                  expected_revision=revision)
    except ServiceError as exc:
        flash(_(exc.template, **exc.params), "error")
    else:
        flash(_("The calendar of %(year)d is back to its default.", year=year), "success")
    return redirect(url_for("admin.calendar_year", year=year))
