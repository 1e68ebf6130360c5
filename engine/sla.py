"""The SLA clock (theo dõi thời hạn): result classes and progress states of dossiers and steps.

Pure functions over a `WorkingCalendar`, so the services, the background jobs and the reports
classify the same way.
"""
from __future__ import annotations

from datetime import datetime

from engine.calendar import CalendarRangeError, WorkingCalendar, to_local

EARLY, ON_TIME, LATE = "early", "on_time", "late"
WITHIN, NEARLY_DUE, OVERDUE = "within", "nearly_due", "overdue"
# A due time the calendar cannot compute with (a bad stored date, outside its years): shown as
# such, and the deadline job's mark for an item it could not judge; never guessed.
UNKNOWN = "unknown"
DEFAULT_WARNING_MINUTES = 240  # half a working day before the due time


def classify_result(result_at: datetime, due_at: datetime) -> str:
    """trước hạn / đúng hạn / trễ hạn.

    Late is any instant after the due instant. Early is a result on a calendar day before the due
    day (in Asia/Ho_Chi_Minh), as the one-stop statistics count it; the rest is on time.
    """
    if result_at > due_at:
        return LATE
    if to_local(result_at).date() < to_local(due_at).date():
        return EARLY
    return ON_TIME


def progress(calendar: WorkingCalendar, now: datetime, due_at: datetime,
             warning_minutes: int = DEFAULT_WARNING_MINUTES) -> str:
    """trong hạn / sắp đến hạn / quá hạn for something still in progress.

    Nearly due when no more than `warning_minutes` of working time remain before the due time.
    """
    if now > due_at:
        return OVERDUE
    if calendar.working_minutes_between(now, due_at) <= warning_minutes:
        return NEARLY_DUE
    return WITHIN


def progress_or_unknown(calendar: WorkingCalendar, now: datetime, due_at: datetime,
                        warning_minutes: int = DEFAULT_WARNING_MINUTES) -> str:
    """``progress``, or UNKNOWN when ``due_at`` is outside the calendar's range: for pages, which
    show a bad stored date as such rather than fail."""
    try:
        return progress(calendar, now, due_at, warning_minutes)
    except CalendarRangeError:
        return UNKNOWN


def warning_bounds(calendar: WorkingCalendar, now: datetime,
                   warning_minutes: int = DEFAULT_WARNING_MINUTES) -> tuple[datetime, datetime]:
    """``progress`` as two instants, for a query over many due times at once: a due time before
    the first is overdue, one before the second nearly due, any other within.

    The second is when more than ``warning_minutes`` of working time would remain: working
    minutes are whole minutes, and ``add_working_time(now, m + 1)`` is the first instant with
    ``m + 1`` of them after ``now`` (DESIGN's consistency of the two functions).
    """
    return now, calendar.add_working_time(now, warning_minutes + 1, receipt=False)


def remaining_minutes(calendar: WorkingCalendar, now: datetime, due_at: datetime) -> int:
    """Working minutes left (negative: working minutes overdue)."""
    if now <= due_at:
        return calendar.working_minutes_between(now, due_at)
    return -calendar.working_minutes_between(due_at, now)
