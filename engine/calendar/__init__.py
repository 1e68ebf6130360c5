"""Working-time calendar (lịch làm việc): working periods, rest days, public holidays,
make-up working days, the receipt cut-off, and whole-minute deadline arithmetic; the bounds
every date a person gives is checked against (engine.calendar.bounds).

Pure: no Flask, no database. Services store a calendar as the plain data of
``WorkingCalendar.to_dict()`` (one ``YearSchedule.to_dict()`` per announced year) and rebuild
it with ``WorkingCalendar.from_dict()``; with nothing stored, ``default_calendar()`` applies.
"""
from engine.calendar.amounts import (
    DEFAULT_MINUTES_PER_DAY,
    days_to_minutes,
    exact_amount,
    hours_to_minutes,
)
from engine.calendar.bounds import (
    FIRST_INSTANT,
    LAST_INSTANT,
    NOT_AFTER,
    TOO_EARLY,
    TOO_LATE,
    OutOfBounds,
    check_instant,
    check_supported,
    in_supported_range,
)
from engine.calendar.clock import TIMEZONE, CalendarRangeError, to_local
from engine.calendar.schedule import (
    DayEntry,
    ScheduleError,
    YearSchedule,
    shipped_defaults,
    statutory_schedule,
)
from engine.calendar.working import (
    DEFAULT_PERIODS,
    DEFAULT_RECEIPT_CUTOFF,
    FIRST_YEAR,
    LAST_YEAR,
    WorkingCalendar,
    default_calendar,
)

__all__ = [
    "FIRST_INSTANT",
    "LAST_INSTANT",
    "NOT_AFTER",
    "TOO_EARLY",
    "TOO_LATE",
    "CalendarRangeError",
    "OutOfBounds",
    "check_instant",
    "check_supported",
    "in_supported_range",
    "DEFAULT_MINUTES_PER_DAY",
    "DEFAULT_PERIODS",
    "DEFAULT_RECEIPT_CUTOFF",
    "TIMEZONE",
    "FIRST_YEAR",
    "LAST_YEAR",
    "DayEntry",
    "ScheduleError",
    "WorkingCalendar",
    "YearSchedule",
    "days_to_minutes",
    "default_calendar",
    "exact_amount",
    "hours_to_minutes",
    "shipped_defaults",
    "statutory_schedule",
    "to_local",
]
