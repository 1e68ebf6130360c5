"""Dates people give to the use cases (ngày giờ người dùng nhập), and dates shown in messages.

The rule that bounds a given date lives in the engine (engine.calendar.bounds.check_instant): an
instant the working calendar can compute with, inside the bounds of the use case. Here it becomes a
ValidationError naming the field, with every date of the message in local time — dd/mm/yyyy HH:MM,
Asia/Ho_Chi_Minh — never raw UTC. A computation on a stored date the calendar cannot handle (an old
bad row) is a ValidationError too (``computing``), never a 500.

A date given to a citizen or an official (a return date) must also fall in working time, the end
of a working period included: ``appointment`` refuses any other with the next working time as a
proposal, rather than moving it silently.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from engine.calendar import (
    FIRST_INSTANT, LAST_INSTANT, NOT_AFTER, TOO_EARLY, TOO_LATE, CalendarRangeError, OutOfBounds, check_instant,
    to_local,
)
from services.errors import N_, ValidationError

OUT_OF_RANGE = N_("%(value)s is outside the dates the working calendar supports (%(first)s to %(last)s).")
DEFAULT_MESSAGES = {
    NOT_AFTER: N_("%(value)s must be after %(limit)s."),
    TOO_EARLY: N_("%(value)s is before %(limit)s, the earliest accepted."),
    TOO_LATE: N_("%(value)s is after %(limit)s, the latest accepted."),
}


def shown(moment: datetime) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh. An instant without a local time (an overflow near year
    1 or 9999, only a bad stored row has one) is shown in UTC, saying so."""
    try:
        local = to_local(moment)
    except CalendarRangeError:
        local = moment.astimezone(timezone.utc) if moment.tzinfo else moment
        return f"{local.day:02d}/{local.month:02d}/{local.year:04d} {local.hour:02d}:{local.minute:02d} UTC"
    # Not strftime: it does not pad years before 1000 on every platform.
    return f"{local.day:02d}/{local.month:02d}/{local.year:04d} {local.hour:02d}:{local.minute:02d}"


def out_of_range(field: str, value: str) -> ValidationError:
    """The error for a date outside the calendar's range, ``value`` as the user wrote it."""
    return ValidationError(OUT_OF_RANGE, field, value=value, first=shown(FIRST_INSTANT), last=shown(LAST_INSTANT))


def given(moment: datetime, field: str, *, after: datetime | None = None, earliest: datetime | None = None,
          latest: datetime | None = None, messages: dict[str, str] | None = None, **params) -> datetime:
    """``moment`` checked by the one rule (engine.calendar.check_instant); else a ValidationError
    naming ``field``. ``messages`` replaces the default template of a side (NOT_AFTER, TOO_EARLY,
    TOO_LATE); templates get ``value`` and ``limit`` in local time, and ``params``."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValidationError(N_("The date must carry a time zone."), field)
    try:
        return check_instant(moment, after=after, earliest=earliest, latest=latest)
    except CalendarRangeError:
        raise out_of_range(field, shown(moment)) from None
    except OutOfBounds as exc:
        template = (messages or {}).get(exc.side) or DEFAULT_MESSAGES[exc.side]
        raise ValidationError(template, field, value=shown(moment), limit=shown(exc.limit), **params) from None


@contextmanager
def computing(field: str, template: str = N_("A date stored for this dossier is outside the dates the working "
                                               "calendar supports (%(first)d to %(last)d); it cannot be "
                                               "computed with.")) -> Iterator[None]:
    """Run a calendar computation on stored dates; one the calendar cannot do (a bad stored row)
    is a ValidationError naming ``field`` instead of an error page."""
    try:
        yield
    except CalendarRangeError as exc:
        raise ValidationError(template, field, first=exc.first, last=exc.last) from None


def appointment(calendar, moment: datetime, field: str, template: str) -> datetime:
    """``moment`` if it falls in working time (calendar.is_appointment_time); otherwise a
    ValidationError whose ``template`` gets ``value`` and ``next``, the next working time."""
    if calendar.is_appointment_time(moment):
        return moment
    with computing(field):
        proposal = calendar.next_working_start(moment)
    raise ValidationError(template, field, value=shown(moment), next=shown(proposal))
