"""Bounds on instants people give (giới hạn ngày giờ người dùng nhập): one rule, here.

Every use case that takes a date from a person (an extension's new return date, a receipt time,
a report's period) checks it with :func:`check_instant`, so a date no office can use is refused
the same way everywhere, before it is stored or computed with:

- it must be an instant the working calendar can compute with: local time from
  ``FIRST_INSTANT`` (01/01/1901 00:00) to ``LAST_INSTANT`` (31/12/2100 23:59), the years for which
  the lunar holidays are known (CalendarRangeError otherwise);
- and inside the bounds the use case gives: ``after`` (exclusive: an extension must be later than
  the current return date), ``earliest`` and ``latest`` (inclusive: a back-dating limit, a
  horizon), each an OutOfBounds naming the side and the limit.

The use case's own bounds are checked first, as they tell the user more than the calendar's range.
"""
from __future__ import annotations

from datetime import datetime

from engine.calendar.clock import FIRST_YEAR, LAST_YEAR, TIMEZONE, CalendarRangeError, to_local

FIRST_INSTANT = datetime(FIRST_YEAR, 1, 1, 0, 0, tzinfo=TIMEZONE)
LAST_INSTANT = datetime(LAST_YEAR, 12, 31, 23, 59, tzinfo=TIMEZONE)
NOT_AFTER, TOO_EARLY, TOO_LATE = "not_after", "too_early", "too_late"


class OutOfBounds(ValueError):
    """A given instant outside the bounds of its use case: ``side`` is NOT_AFTER (not later than
    ``limit``), TOO_EARLY (before ``limit``) or TOO_LATE (after ``limit``)."""

    def __init__(self, moment: datetime, side: str, limit: datetime):
        self.moment, self.side, self.limit = moment, side, limit
        super().__init__(f"{moment.isoformat()} is {side.replace('_', ' ')} {limit.isoformat()}")


def check_supported(moment: datetime) -> datetime:
    """``moment`` if the working calendar can compute with it, else CalendarRangeError.

    A naive datetime is taken as local time, as everywhere in the calendar.
    """
    year = to_local(moment).year  # an overflow near year 1 or 9999 is a CalendarRangeError too
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarRangeError(year)
    return moment


def in_supported_range(moment: datetime) -> bool:
    try:
        check_supported(moment)
    except CalendarRangeError:
        return False
    return True


def check_instant(moment: datetime, *, after: datetime | None = None, earliest: datetime | None = None,
                  latest: datetime | None = None) -> datetime:
    """``moment`` if it is inside the bounds given and the calendar's range; the error otherwise.

    Aware datetimes compare as instants whatever their zone, without converting (no overflow).
    """
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise TypeError("a given instant must be an aware datetime")
    if after is not None and moment <= after:
        raise OutOfBounds(moment, NOT_AFTER, after)
    if earliest is not None and moment < earliest:
        raise OutOfBounds(moment, TOO_EARLY, earliest)
    if latest is not None and moment > latest:
        raise OutOfBounds(moment, TOO_LATE, latest)
    return check_supported(moment)
