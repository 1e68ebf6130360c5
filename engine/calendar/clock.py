"""Clock and time-zone helpers: everything is read in Asia/Ho_Chi_Minh, to the minute."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from engine.calendar.schedule import ScheduleError

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def to_local(moment: datetime) -> datetime:
    """``moment`` in Asia/Ho_Chi_Minh; a naive datetime is taken to be local time already."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=TIMEZONE)
    return moment.astimezone(TIMEZONE)


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
