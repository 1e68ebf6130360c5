"""Clock and time-zone helpers: everything is read in Asia/Ho_Chi_Minh, to the minute."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from holidays.countries.vietnam import Vietnam

from engine.calendar.schedule import ScheduleError

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Tết and Giỗ Tổ need lunar dates, which the holidays package converts for these years only;
# refusing instants outside them beats silently dropping Tết from a due date.
FIRST_YEAR, LAST_YEAR = Vietnam.start_year, Vietnam.end_year


class CalendarRangeError(ValueError):
    """The working calendar was asked about a year it cannot compute (outside FIRST_YEAR–LAST_YEAR).

    A ValueError, so that older callers keep working; typed, so that a service can tell "this date
    is out of the calendar's range" (a user's mistake, or a bad stored row) from a bug, and name
    the field. ``year`` is the year asked for (None when not known, e.g. an overflow).
    """

    def __init__(self, year: int | None, what: str = "year"):
        self.year, self.first, self.last = year, FIRST_YEAR, LAST_YEAR
        shown = "?" if year is None else str(year)
        super().__init__(f"{what} {shown} is outside the working calendar's range {FIRST_YEAR}-{LAST_YEAR}")


def to_local(moment: datetime) -> datetime:
    """``moment`` in Asia/Ho_Chi_Minh; a naive datetime is taken to be local time already.

    An instant so close to year 1 or 9999 that its local time does not exist is a
    CalendarRangeError, not the OverflowError datetime would raise.
    """
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=TIMEZONE)
    try:
        return moment.astimezone(TIMEZONE)
    except OverflowError:
        raise CalendarRangeError(moment.year) from None


def local_minute(moment: datetime) -> tuple[date, int]:
    """The local date and minute of the day; seconds are dropped."""
    local = to_local(moment)
    return local.date(), local.hour * 60 + local.minute


def clock_minutes(value: Any, where: str) -> int:
    """Minutes past midnight of a ``time`` or an ``"HH:MM"`` text; ``where`` names the field."""
    if isinstance(value, time):
        if value.second or value.microsecond:
            raise ScheduleError(f"{where}: whole minutes only, got {value.isoformat()}")
        return value.hour * 60 + value.minute
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and len(value.strip()) == 5 and parsed.tzinfo is None:
            return parsed.hour * 60 + parsed.minute
    raise ScheduleError(f"{where}: expected a clock time HH:MM, got {value!r}")


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def instant(day: date, minute: int) -> datetime:
    """The aware local datetime at ``minute`` past midnight of ``day``."""
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=TIMEZONE)
