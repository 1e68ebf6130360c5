"""``sla.warning_bounds`` classifies every due time exactly as ``sla.progress`` does: the inbox
filters with the bounds in SQL, and its rows show ``progress`` as their badge."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import sla
from engine.calendar import TIMEZONE, default_calendar

CAL = default_calendar()
BASE = datetime(2025, 1, 20, tzinfo=TIMEZONE)  # Tết 2025 and the 2025/2026 schedules in reach
SPAN = 60 * 24 * 500


def by_bounds(now: datetime, due: datetime, warn: int) -> str:
    overdue_before, nearly_due_before = sla.warning_bounds(CAL, now, warn)
    if due < overdue_before:
        return sla.OVERDUE
    return sla.NEARLY_DUE if due < nearly_due_before else sla.WITHIN


instants = st.builds(lambda m, s: (BASE + timedelta(minutes=m, seconds=s)).astimezone(timezone.utc),
                     st.integers(0, SPAN), st.sampled_from([0, 0, 1, 30, 59]))


@settings(max_examples=400, deadline=None)
@given(now=instants, ahead=st.integers(-600, 3 * 24 * 60), seconds=st.sampled_from([0, 0, 30, 59]),
       warn=st.sampled_from([0, 1, 30, 240, 480, 1000]))
def test_the_bounds_agree_with_progress(now, ahead, seconds, warn):
    due = now.replace(second=0, microsecond=0) + timedelta(minutes=ahead, seconds=seconds)
    assert by_bounds(now, due, warn) == sla.progress(CAL, now, due, warn)


def test_around_the_lunch_break_and_a_weekend():
    """Four working hours before a Monday 09:00 due time is Friday 15:00 (local time): two hours
    on Friday afternoon, two on Monday morning."""
    due = datetime(2026, 11, 23, 9, 0, tzinfo=TIMEZONE)  # a Monday
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=TIMEZONE)
    assert by_bounds(friday, due, 240) == sla.progress(CAL, friday, due, 240) == sla.NEARLY_DUE
    earlier = friday - timedelta(minutes=1)
    assert by_bounds(earlier, due, 240) == sla.progress(CAL, earlier, due, 240) == sla.WITHIN
    lunch = datetime(2026, 11, 23, 12, 0, tzinfo=TIMEZONE)
    assert by_bounds(lunch, due, 240) == sla.OVERDUE
