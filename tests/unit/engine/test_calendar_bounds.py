"""The calendar's supported range as a typed error, the one bound rule for given dates, appointment
times, and the SLA state of a due date the calendar cannot compute with (issue #11, finding 2)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import sla
from engine.calendar import (
    FIRST_INSTANT, LAST_INSTANT, LAST_YEAR, NOT_AFTER, TIMEZONE, TOO_EARLY, TOO_LATE, CalendarRangeError,
    OutOfBounds, check_instant, default_calendar, in_supported_range, to_local,
)

CAL = default_calendar()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TIMEZONE)


def test_year_2101_is_a_typed_error_not_a_bare_value_error():
    """The jobs' `ValueError year 2101`: a due date in 9999 asked the calendar for 2101."""
    with pytest.raises(CalendarRangeError) as error:
        CAL.working_minutes_between(at(2026, 12, 1, 8), at(9999, 12, 31, 17))
    assert error.value.year == 9999 and (error.value.first, error.value.last) == (1901, 2100)
    with pytest.raises(CalendarRangeError) as error:
        CAL.is_working_day(at(2101, 1, 2).date())
    assert error.value.year == 2101
    with pytest.raises(CalendarRangeError):
        CAL.add_working_time(at(2100, 12, 30, 8), 480 * 10)
    assert isinstance(error.value, ValueError)  # older callers that catch ValueError still do


def test_an_instant_without_a_local_time_is_a_calendar_range_error_not_an_overflow():
    with pytest.raises(CalendarRangeError):
        to_local(datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc))
    with pytest.raises(CalendarRangeError):
        to_local(datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14))))


def test_the_range_fails_fast_without_building_every_year_up_to_it():
    cal = default_calendar().without_schedule(1999)  # a fresh calendar: no year cached yet
    with pytest.raises(CalendarRangeError):
        cal.working_minutes_between(at(2026, 1, 5, 8), at(9999, 1, 1, 8))
    assert len(cal._years) <= 1


@pytest.mark.parametrize("moment, supported", [
    (FIRST_INSTANT, True), (LAST_INSTANT, True), (FIRST_INSTANT - timedelta(minutes=1), False),
    (LAST_INSTANT + timedelta(minutes=1), False), (datetime(1, 1, 1, tzinfo=TIMEZONE), False),
    (datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc), False), (at(2026, 12, 13, 17), True),
])
def test_the_supported_range(moment, supported):
    assert in_supported_range(moment) is supported
    if supported:
        assert check_instant(moment) is moment
    else:
        with pytest.raises(CalendarRangeError):
            check_instant(moment)


def test_check_instant_names_the_side_and_the_limit():
    current, latest, earliest = at(2026, 3, 11, 9), at(2026, 6, 8, 9), at(2026, 1, 1)
    with pytest.raises(OutOfBounds) as error:
        check_instant(current, after=current)  # "after" is exclusive
    assert (error.value.side, error.value.limit) == (NOT_AFTER, current)
    with pytest.raises(OutOfBounds) as error:
        check_instant(latest + timedelta(minutes=1), after=current, latest=latest)
    assert (error.value.side, error.value.limit) == (TOO_LATE, latest)
    with pytest.raises(OutOfBounds) as error:
        check_instant(at(2025, 12, 31, 23, 59), earliest=earliest)
    assert error.value.side == TOO_EARLY
    assert check_instant(latest, after=current, latest=latest) == latest  # "latest" is inclusive
    assert check_instant(earliest, earliest=earliest) == earliest
    # The use case's bound is said before the calendar's range: it tells the user more.
    with pytest.raises(OutOfBounds) as error:
        check_instant(at(9999, 12, 31, 17), after=current, latest=latest)
    assert error.value.side == TOO_LATE and not isinstance(error.value, CalendarRangeError)
    # Aware instants in other zones compare as instants, without an overflow near year 1.
    with pytest.raises(OutOfBounds):
        check_instant(datetime(1, 1, 1, tzinfo=TIMEZONE), earliest=datetime(2000, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(TypeError):
        check_instant(datetime(2026, 3, 11, 9))


@pytest.mark.parametrize("moment, ok", [
    (at(2026, 3, 13, 7, 0), True), (at(2026, 3, 13, 11, 30), True), (at(2026, 3, 13, 17, 0), True),
    (at(2026, 3, 13, 11, 31), False), (at(2026, 3, 13, 13, 29), False), (at(2026, 3, 13, 17, 1), False),
    (at(2026, 3, 13, 6, 59), False), (at(2026, 3, 14, 9, 0), False), (at(2026, 12, 13, 17, 0), False),
    (at(2026, 4, 30, 10, 0), False), (at(2026, 9, 2, 10, 0), False),
])
def test_appointment_times_are_working_time_with_period_ends(moment, ok):
    assert CAL.is_appointment_time(moment) is ok
    # Every due time the calendar computes can be given as an appointment.
    assert CAL.is_appointment_time(CAL.add_working_time(moment, 90, receipt=False))


def test_sla_progress_of_a_due_date_outside_the_calendar():
    now = at(2026, 12, 1, 8)
    with pytest.raises(CalendarRangeError):
        sla.progress(CAL, now, at(2101, 6, 1, 8))
    assert sla.progress_or_unknown(CAL, now, at(2101, 6, 1, 8)) == sla.UNKNOWN
    assert sla.progress_or_unknown(CAL, now, at(2026, 11, 30, 8)) == sla.OVERDUE  # a past due: no calendar
    assert sla.progress_or_unknown(CAL, now, at(2026, 12, 1, 9)) == sla.NEARLY_DUE
    assert LAST_YEAR == 2100
