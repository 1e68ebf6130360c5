"""The working-time rules of DESIGN.md on the shipped calendar, one worked example each."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest

from engine.calendar import (
    TIMEZONE,
    WorkingCalendar,
    days_to_minutes,
    default_calendar,
    hours_to_minutes,
)

CAL = default_calendar()


def at(y, mo, d, h=0, mi=0, s=0):
    return datetime(y, mo, d, h, mi, s, tzinfo=TIMEZONE)


def days(first: date, last: date):
    return [first + timedelta(n) for n in range((last - first).days + 1)]


# -- Tết and announced schedules ---------------------------------------------------------


def test_tet_2026_is_off_from_14_to_22_february():
    for day in days(date(2026, 2, 14), date(2026, 2, 22)):
        assert not CAL.is_working_day(day), day
    assert CAL.is_working_day(date(2026, 2, 13))
    assert CAL.is_working_day(date(2026, 2, 23))


def test_receipt_before_tet_2026_runs_over_the_break():
    # Fri 13 Feb 16:00 is after the cut-off; the next working day is Mon 23 Feb.
    assert CAL.add_working_time(at(2026, 2, 13, 16, 0), 480) == at(2026, 2, 23, 17, 0)
    # Thu 12 Feb 14:00 + 1 day: 3 h on Thursday, 5 h on Friday → Fri 13 14:00.
    assert CAL.add_working_days(at(2026, 2, 12, 14, 0), 1) == at(2026, 2, 13, 14, 0)
    # Fri 13 Feb 14:00 + 1 day: 3 h on Friday, 5 h after Tết.
    assert CAL.add_working_days(at(2026, 2, 13, 14, 0), 1) == at(2026, 2, 23, 14, 0)


def test_design_example_from_the_cli_contract():
    assert CAL.add_working_days(datetime(2026, 2, 12, 15, 30), 3) == at(2026, 2, 24, 17, 0)


def test_tet_2025_is_off_from_25_january_to_2_february():
    for day in days(date(2025, 1, 25), date(2025, 2, 2)):
        assert not CAL.is_working_day(day), day
    assert CAL.is_working_day(date(2025, 1, 24))
    assert CAL.is_working_day(date(2025, 2, 3))
    # Fri 24 Jan 14:00 + 1 day: 180 min that Friday, 300 min on Mon 3 Feb (270 + 30).
    assert CAL.add_working_days(at(2025, 1, 24, 14, 0), 1) == at(2025, 2, 3, 14, 0)


def test_other_announced_days_off_2025():
    off = [date(2025, 1, 1), date(2025, 4, 7), date(2025, 5, 2)]
    off += days(date(2025, 4, 30), date(2025, 5, 4)) + days(date(2025, 8, 30), date(2025, 9, 2))
    for day in off:
        assert not CAL.is_working_day(day), day
    # Tue 29 Apr 09:00 + 1 day: 6 h left that day, then Mon 5 May after the 30/4–4/5 break.
    assert CAL.add_working_days(at(2025, 4, 29, 9, 0), 1) == at(2025, 5, 5, 9, 0)


def test_other_announced_days_off_2026():
    off = days(date(2026, 1, 1), date(2026, 1, 4)) + [date(2026, 4, 27)]
    off += days(date(2026, 4, 30), date(2026, 5, 3))
    off += [date(2026, 9, 1), date(2026, 9, 2), date(2026, 11, 24)]
    for day in off:
        assert not CAL.is_working_day(day), day
    for day in (date(2026, 4, 28), date(2026, 4, 29), date(2026, 5, 4), date(2026, 9, 3)):
        assert CAL.is_working_day(day), day


def test_make_up_saturdays_are_working_days():
    assert CAL.is_working_day(date(2026, 1, 10))
    assert CAL.is_working_day(date(2025, 4, 26))
    assert not CAL.is_working_day(date(2026, 1, 17))  # an ordinary Saturday
    # Fri 9 Jan 2026 16:00 is after the cut-off: counting starts Sat 10 Jan 07:00.
    assert CAL.add_working_days(at(2026, 1, 9, 16, 0), "0.5") == at(2026, 1, 10, 11, 0)
    assert CAL.add_working_days(at(2025, 4, 25, 15, 30), 1) == at(2025, 4, 26, 17, 0)


# -- the day's rules ----------------------------------------------------------------------


def test_lunch_break_does_not_count():
    assert CAL.add_working_time(at(2026, 3, 12, 11, 0), 60) == at(2026, 3, 12, 14, 0)
    assert CAL.add_working_time(at(2026, 3, 12, 12, 15), 60) == at(2026, 3, 12, 14, 30)


def test_time_running_out_at_a_period_end_is_due_at_that_end():
    assert CAL.add_working_time(at(2026, 3, 12, 11, 0), 30) == at(2026, 3, 12, 11, 30)
    assert CAL.add_working_time(at(2026, 3, 12, 7, 0), 480) == at(2026, 3, 12, 17, 0)
    assert CAL.add_working_time(at(2026, 3, 12, 13, 30), 210) == at(2026, 3, 12, 17, 0)
    # One more minute goes to the next working day.
    assert CAL.add_working_time(at(2026, 3, 12, 7, 0), 481) == at(2026, 3, 13, 7, 1)
    # Friday 17:00 stays on Friday, not Monday 07:00.
    assert CAL.add_working_time(at(2026, 3, 13, 8, 0), 420) == at(2026, 3, 13, 17, 0)


def test_receipt_at_exactly_the_cut_off_counts_the_same_day():
    assert CAL.add_working_time(at(2026, 3, 11, 15, 0), 60) == at(2026, 3, 11, 16, 0)
    assert CAL.add_working_time(at(2026, 3, 11, 15, 0), 120) == at(2026, 3, 11, 17, 0)


def test_receipt_after_the_cut_off_starts_the_next_working_day():
    assert CAL.add_working_time(at(2026, 3, 11, 15, 1), 60) == at(2026, 3, 12, 8, 0)
    assert CAL.effective_start(at(2026, 3, 11, 15, 1)) == at(2026, 3, 12, 7, 0)
    # Friday after the cut-off → Monday.
    assert CAL.effective_start(at(2026, 3, 13, 16, 0)) == at(2026, 3, 16, 7, 0)


def test_seconds_are_dropped_so_15_00_40_is_still_15_00():
    assert CAL.add_working_time(at(2026, 3, 11, 15, 0, 40), 60) == at(2026, 3, 11, 16, 0)
    assert CAL.add_working_time(at(2026, 3, 11, 8, 0, 59), 60) == at(2026, 3, 11, 9, 0)


def test_step_due_times_have_no_cut_off():
    start = at(2026, 3, 11, 15, 30)
    assert CAL.add_working_time(start, 60, receipt=False) == at(2026, 3, 11, 16, 30)
    assert CAL.add_working_time(start, 120, receipt=False) == at(2026, 3, 12, 7, 30)


def test_receipt_on_a_holiday_starts_the_next_working_day():
    # 30 Apr 2026: the 30/4–3/5 break, then Monday 4 May.
    assert CAL.add_working_days(at(2026, 4, 30, 9, 0), 1) == at(2026, 5, 4, 17, 0)
    # Giỗ Tổ in lieu, Mon 27 Apr 2026 10:00, + 4 h → Tue 28 Apr 11:00.
    assert CAL.add_working_time(at(2026, 4, 27, 10, 0), 240) == at(2026, 4, 28, 11, 0)


def test_receipt_on_a_saturday_evening():
    assert CAL.add_working_time(at(2026, 3, 14, 20, 0), 120) == at(2026, 3, 16, 9, 0)
    # Evening of a make-up Saturday: a working day, but past the cut-off.
    assert CAL.add_working_time(at(2026, 1, 10, 20, 0), 120) == at(2026, 1, 12, 9, 0)


def test_receipt_before_opening_and_in_the_evening():
    assert CAL.add_working_time(at(2026, 3, 11, 5, 0), 30) == at(2026, 3, 11, 7, 30)
    assert CAL.add_working_time(at(2026, 3, 11, 18, 0), 30, receipt=False) == at(2026, 3, 12, 7, 30)


def test_zero_minutes_is_the_effective_start():
    assert CAL.add_working_time(at(2026, 3, 11, 9, 17), 0) == at(2026, 3, 11, 9, 17)
    assert CAL.add_working_time(at(2026, 3, 11, 11, 45), 0) == at(2026, 3, 11, 13, 30)
    assert CAL.add_working_time(at(2026, 3, 11, 11, 30), 0) == at(2026, 3, 11, 13, 30)
    assert CAL.add_working_time(at(2026, 3, 11, 15, 30), 0) == at(2026, 3, 12, 7, 0)
    assert CAL.add_working_time(at(2026, 3, 11, 15, 30), 0, receipt=False) == at(2026, 3, 11, 15, 30)
    assert CAL.add_working_time(at(2026, 3, 11, 17, 0), 0, receipt=False) == at(2026, 3, 12, 7, 0)


def test_helpers():
    assert CAL.is_working_time(at(2026, 3, 11, 7, 0))
    assert CAL.is_working_time(at(2026, 3, 11, 16, 59))
    assert not CAL.is_working_time(at(2026, 3, 11, 11, 30))
    assert not CAL.is_working_time(at(2026, 3, 11, 17, 0))
    assert not CAL.is_working_time(at(2026, 3, 14, 9, 0))
    assert CAL.next_working_start(at(2026, 3, 14, 9, 0)) == at(2026, 3, 16, 7, 0)
    assert CAL.next_working_start(at(2026, 3, 11, 16, 0)) == at(2026, 3, 11, 16, 0)
    assert CAL.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)
    assert CAL.next_working_day(date(2026, 1, 9)) == date(2026, 1, 10)
    assert CAL.is_working_day(at(2026, 3, 11, 23, 30)) is True


# -- time zones ---------------------------------------------------------------------------


def test_aware_datetimes_are_converted_and_results_are_local():
    # 01:00 UTC is 08:00 in Hà Nội.
    due = CAL.add_working_time(datetime(2026, 3, 11, 1, 0, tzinfo=timezone.utc), 60)
    assert due == at(2026, 3, 11, 9, 0)
    assert due.tzinfo is TIMEZONE and due.utcoffset() == timedelta(hours=7)
    assert due.isoformat() == "2026-03-11T09:00:00+07:00"
    # 08:30 UTC is 15:30 local: after the cut-off although 08:30 looks early.
    assert CAL.effective_start(datetime(2026, 3, 11, 8, 30, tzinfo=timezone.utc)) == at(2026, 3, 12, 7)


def test_naive_datetimes_are_local_time():
    assert CAL.add_working_time(datetime(2026, 3, 11, 8, 0), 60) == at(2026, 3, 11, 9, 0)


def test_bad_arguments():
    with pytest.raises(ValueError):
        CAL.add_working_time(at(2026, 3, 11, 8), -1)
    with pytest.raises(TypeError):
        CAL.add_working_time(at(2026, 3, 11, 8), 1.5)
    with pytest.raises(TypeError):
        CAL.add_working_time(date(2026, 3, 11), 10)
    with pytest.raises(ValueError, match="range"):
        CAL.add_working_time(at(2100, 12, 30, 8), 480 * 10)


# -- working minutes between ----------------------------------------------------------------


def test_working_minutes_between():
    assert CAL.working_minutes_between(at(2026, 3, 11, 7), at(2026, 3, 11, 17)) == 480
    assert CAL.working_minutes_between(at(2026, 3, 11, 11), at(2026, 3, 11, 14)) == 60
    assert CAL.working_minutes_between(at(2026, 2, 12, 16), at(2026, 2, 23, 8)) == 60 + 480 + 60
    assert CAL.working_minutes_between(at(2026, 3, 14, 8), at(2026, 3, 15, 16)) == 0
    assert CAL.working_minutes_between(at(2026, 3, 11, 9), at(2026, 3, 11, 8)) == 0
    assert CAL.working_minutes_between(at(2026, 3, 11, 9), at(2026, 3, 11, 9)) == 0
    # No cut-off when measuring: 15:30 → 16:30 is an hour of work.
    assert CAL.working_minutes_between(at(2026, 3, 11, 15, 30), at(2026, 3, 11, 16, 30)) == 60


def test_long_spans_skip_whole_days_and_agree_with_a_day_count():
    start = at(2026, 3, 2, 7, 0)
    for n in (1, 7, 60, 250, 800):
        expected, day = 0, start.date()
        while expected < n:
            if CAL.is_working_day(day):
                expected += 1
                last = day
            day += timedelta(1)
        assert CAL.add_working_days(start, n) == at(last.year, last.month, last.day, 17, 0)
        assert CAL.working_minutes_between(start, at(last.year, last.month, last.day, 17)) == 480 * n


# -- days and hours to minutes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "minutes"),
    [
        (0, 0),
        (1, 480),
        (0.25, 120),
        ("0.5", 240),
        (Fraction(3, 2), 720),
        (0.3, 144),  # not 143: floats are read through their decimal repr
        (Decimal("0.1"), 48),
        ("1/3", 160),
        ("1/7", 68),  # 68.57… rounded down
        ("0,5", 240),  # decimal comma
        ("20", 9600),
    ],
)
def test_days_to_minutes(amount, minutes):
    assert days_to_minutes(amount) == minutes
    assert CAL.days_to_minutes(amount) == minutes


@pytest.mark.parametrize("bad", [-1, "-0.5", "abc", "", float("nan"), float("inf"), "1/0"])
def test_days_to_minutes_rejects(bad):
    with pytest.raises(ValueError):
        days_to_minutes(bad)


def test_days_to_minutes_rejects_non_numbers():
    for bad in (True, None, [1]):
        with pytest.raises(TypeError):
            days_to_minutes(bad)


def test_hours_to_minutes():
    assert hours_to_minutes(1.5) == 90
    assert hours_to_minutes("8") == 480
    assert hours_to_minutes("0.01") == 0


def test_fractions_of_days_as_due_times():
    monday = at(2026, 3, 9, 7, 0)
    assert CAL.add_working_days(monday, 0.25) == at(2026, 3, 9, 9, 0)
    assert CAL.add_working_days(monday, 0.5) == at(2026, 3, 9, 11, 0)
    assert CAL.add_working_days(monday, 1.5) == at(2026, 3, 10, 11, 0)
    assert CAL.add_working_days(at(2026, 3, 9, 13, 30), 0.5) == at(2026, 3, 10, 7, 30)


def test_day_length_follows_the_configured_periods():
    short = WorkingCalendar(periods=[("08:00", "12:00"), ("13:00", "16:00")])
    assert short.minutes_per_day == 420
    assert short.days_to_minutes("0.5") == 210
    assert short.add_working_days(at(2026, 3, 9, 8, 0), 1) == at(2026, 3, 9, 16, 0)
    assert short.add_working_days(at(2026, 3, 9, 8, 0), 0.5) == at(2026, 3, 9, 11, 30)
