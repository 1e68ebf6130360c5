"""`quytrinh calendar` — deadline arithmetic on the working-time calendar (DESIGN.md, CLI contract).

Needs no Flask app. The calendar is the one stored in the database (DATABASE_URL, else the
embedded SQLite file) when that database exists and is migrated, else the shipped defaults; see
:func:`load_calendar`. Bad input ends in one line naming the option and exit 2: scripts read the
exit code, people read the line, nobody should read a traceback.
"""
from __future__ import annotations

import json
from datetime import datetime
from fractions import Fraction
from typing import NoReturn

import click

from engine.calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    TIMEZONE,
    CalendarRangeError,
    WorkingCalendar,
    default_calendar,
    exact_amount,
    hours_to_minutes,
    to_local,
)

_AMOUNT_OPTIONS = ("--working-days", "--hours", "--minutes")
_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def load_calendar() -> WorkingCalendar:
    """The calendar the commands use: the stored one when there is one, else the shipped defaults.

    - No database set up (no SQLite file, a database without the calendar table) or nothing
      stored yet: the shipped defaults, silently — that is the documented behaviour.
    - A database that is configured but cannot be used (malformed DATABASE_URL, server down,
      corrupt stored calendar): the shipped defaults too, with one line on stderr naming the
      cause, so that ``calendar due`` still answers (stdout stays the bare due date for scripts)
      while a person sees that the answer may ignore the days off an administrator stored.

    The database is only read: a missing SQLite file is never created, nothing is written.
    """
    from services.calendar import current_calendar
    from web.commands.stored import Unusable, read_stored

    try:
        stored = read_stored("calendar_config", current_calendar)
    except Unusable as exc:
        return _defaults_with_note(exc.cause)
    return stored if stored is not None else default_calendar()


def _defaults_with_note(cause: str) -> WorkingCalendar:
    click.echo(f"Lưu ý: không đọc được lịch đã lưu ({cause}); dùng lịch mặc định có sẵn.", err=True)
    return default_calendar()


def _fail(message: str) -> NoReturn:
    click.echo(f"Lỗi: {message}", err=True)
    click.get_current_context().exit(2)
    raise AssertionError("unreachable")  # ctx.exit raises


def _parse_start(text: str | None) -> datetime:
    if text is None:
        _fail("thiếu --from (thời điểm tiếp nhận, ví dụ --from 2026-02-12T15:30).")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(
            f"--from: không đọc được thời điểm {text!r} "
            "(cần dạng ISO 8601, ví dụ 2026-02-12T15:30 hoặc 2026-02-12T15:30+07:00)."
        )
    try:
        year = to_local(moment).year
    except CalendarRangeError:  # no local time near year 1 or 9999
        year = moment.year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        _fail(f"--from: năm {year} nằm ngoài phạm vi của lịch ({FIRST_YEAR}–{LAST_YEAR}).")
    return moment


def _parse_amount(amounts: dict[str, str | None]) -> tuple[str, Fraction]:
    """The one amount option given, checked before the calendar is loaded: bad input is
    reported on its own line, never after a note about the database."""
    given = [(option, value) for option, value in amounts.items() if value is not None]
    if not given:
        _fail(f"cần một trong {', '.join(_AMOUNT_OPTIONS)} (thời gian được giao).")
    if len(given) > 1:
        _fail(f"chỉ dùng một trong {', '.join(_AMOUNT_OPTIONS)} "
              f"(đã cho {' và '.join(option for option, _ in given)}).")
    option, text = given[0]
    try:
        amount = exact_amount(text)
    except ValueError:
        _fail(f"{option}: cần một số không âm, nhận được {text!r}.")
    if option == "--minutes" and amount.denominator != 1:
        _fail(f"--minutes: cần một số nguyên phút không âm, nhận được {text!r}.")
    return option, amount


def _minutes(calendar: WorkingCalendar, option: str, amount: Fraction) -> int:
    if option == "--working-days":
        return calendar.days_to_minutes(amount)
    if option == "--hours":
        return hours_to_minutes(amount)
    return int(amount)


@click.group("calendar")
def calendar_group():
    """Lịch làm việc: tính hạn xử lý, xem ngày nghỉ và ngày làm bù (working-time calendar)."""


@calendar_group.command("due")
@click.option("--from", "start", metavar="T",
              help="Thời điểm tiếp nhận, ISO 8601 (2026-02-12T15:30); không ghi múi giờ = giờ Việt Nam.")
@click.option("--working-days", "days", metavar="N",
              help="Thời gian được giao, ngày làm việc (cho phép số lẻ: 0.5, 1.5); 1 ngày = 8 giờ.")
@click.option("--hours", metavar="N", help="Thời gian được giao, giờ làm việc (cho phép số lẻ).")
@click.option("--minutes", metavar="N", help="Thời gian được giao, phút làm việc (số nguyên).")
@click.option("--no-cutoff", is_flag=True,
              help="Hạn của một bước trong hồ sơ đang xử lý: không áp dụng giờ chốt tiếp nhận (15:00).")
def due_command(start, days, hours, minutes, no_cutoff):
    """In hạn xử lý (ISO 8601, giờ Việt Nam) tính từ thời điểm tiếp nhận --from.

    Tiếp nhận sau 15:00 thì tính từ đầu ngày làm việc kế tiếp; ngoài giờ làm việc thì tính từ
    đầu buổi làm việc kế tiếp; nghỉ trưa, cuối tuần, ngày lễ không tính.
    """
    moment = _parse_start(start)
    option, amount = _parse_amount({"--working-days": days, "--hours": hours, "--minutes": minutes})
    calendar = load_calendar()
    total = _minutes(calendar, option, amount)
    try:
        due = calendar.add_working_time(moment, total, receipt=not no_cutoff)
    except CalendarRangeError:
        _fail(f"{option}: hạn tính được vượt quá năm {LAST_YEAR}, giới hạn của lịch.")
    click.echo(due.isoformat())


@calendar_group.command("show")
@click.option("--year", "year_text", metavar="YYYY",
              help="Năm cần xem (mặc định: năm hiện tại).")
@click.option("--json", "as_json", is_flag=True,
              help="In dữ liệu của năm (ngày nghỉ, ngày làm bù) dạng JSON, như khi lưu trữ.")
def show_command(year_text, as_json):
    """Liệt kê ngày nghỉ và ngày làm bù của một năm."""
    if year_text is None:
        year = datetime.now(TIMEZONE).year
    else:
        try:
            year = int(year_text.strip())
        except ValueError:
            _fail(f"--year: cần một năm dạng YYYY, nhận được {year_text!r}.")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        _fail(f"--year: năm {year} nằm ngoài phạm vi của lịch ({FIRST_YEAR}–{LAST_YEAR}).")
    calendar = load_calendar()
    schedule = calendar.schedule_for(year)
    if as_json:
        click.echo(json.dumps(schedule.to_dict(), ensure_ascii=False, indent=1))
        return
    if calendar.is_announced(year):
        click.echo(f"Năm {year}: lịch nghỉ đã công bố — {schedule.source}")
    else:
        click.echo(f"Năm {year}: chưa có lịch công bố; ngày nghỉ lễ theo luật "
                   "(âm lịch đã quy đổi, ngày lễ trùng ngày nghỉ hằng tuần được nghỉ bù).")
    periods = ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in calendar.periods)
    click.echo(f"Giờ làm việc: {periods} ({calendar.minutes_per_day} phút/ngày); "
               f"giờ chốt tiếp nhận: {calendar.receipt_cutoff:%H:%M}.")
    click.echo("Ngày nghỉ:")
    for entry in schedule.days_off:
        click.echo(f"  {entry.day.isoformat()} {_WEEKDAYS[entry.day.weekday()]:<9} {entry.name}")
    click.echo("Ngày làm bù:" if schedule.working_days else "Ngày làm bù: không có.")
    for entry in schedule.working_days:
        click.echo(f"  {entry.day.isoformat()} {_WEEKDAYS[entry.day.weekday()]:<9} {entry.name}")
    click.echo(f"Số ngày làm việc trong năm: {calendar.working_day_count(year)}.")
