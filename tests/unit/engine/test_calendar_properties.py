"""Properties of the working-time arithmetic, checked against a minute-by-minute reference.

The reference below walks the clock one minute at a time, using only the calendar's day
classification and its periods, so it shares none of the position/whole-day logic it checks.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import (
    TIMEZONE,
    DayEntry,
    WorkingCalendar,
    YearSchedule,
    default_calendar,
    to_local,
)

CAL = default_calendar()
MINUTE = timedelta(minutes=1)
BASE = datetime(2024, 12, 20, tzinfo=TIMEZONE)
SPAN_MINUTES = 60 * 24 * 800  # up to early 2027: both announced years and a fallback year

PROFILE = settings(max_examples=120, deadline=None)

# -- strategies ---------------------------------------------------------------------------

offsets = st.integers(0, SPAN_MINUTES)
seconds = st.sampled_from([0, 0, 0, 30, 59])


@st.composite
def instants(draw):
    moment = BASE + timedelta(minutes=draw(offsets), seconds=draw(seconds))
    if draw(st.booleans()):
        return moment.replace(tzinfo=None)  # naive local time
    return moment.astimezone(timezone.utc)  # the same instant, given in UTC


@st.composite
def calendars(draw):
    """Arbitrary periods, rest days, cut-off and a random 2026 schedule."""
    cuts = sorted(draw(st.sets(st.integers(5 * 60, 20 * 60), min_size=2, max_size=6)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    periods = [
        (time(s // 60, s % 60), time(e // 60, e % 60)) for s, e in zip(cuts[::2], cuts[1::2])
    ]
    weekend = draw(st.sets(st.integers(0, 6), max_size=3))
    cutoff = draw(st.integers(0, 24 * 60 - 1))
    year_days = [date(2026, 1, 1) + timedelta(n) for n in range(365)]
    off = draw(st.sets(st.sampled_from(year_days), max_size=40))
    work = draw(st.sets(st.sampled_from(year_days), max_size=10)) - off
    schedule = YearSchedule(
        2026, tuple(DayEntry(d) for d in off), tuple(DayEntry(d) for d in work), "random"
    )
    return WorkingCalendar(
        periods=periods,
        weekend=weekend,
        receipt_cutoff=time(cutoff // 60, cutoff % 60),
        schedules=[schedule],
    )


# -- the reference --------------------------------------------------------------------------


def _minute_of(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def _floor(moment: datetime) -> datetime:
    return to_local(moment).replace(second=0, microsecond=0)


def _is_working_minute(cal: WorkingCalendar, moment: datetime) -> bool:
    minute = _minute_of(moment)
    return cal.is_working_day(moment.date()) and any(s <= minute < e for s, e in _spans(cal))


def _spans(cal: WorkingCalendar) -> list[tuple[int, int]]:
    return [(s.hour * 60 + s.minute, e.hour * 60 + e.minute) for s, e in cal.periods]


def _step(cal: WorkingCalendar, clock: datetime) -> datetime:
    """The next minute to look at. Outside working time it jumps to the next period start or
    the next midnight: not working minutes either way, so this only keeps the walk short."""
    if cal.is_working_day(clock.date()):
        minute = _minute_of(clock)
        for start, end in _spans(cal):
            if start <= minute < end:
                return clock + MINUTE
            if minute < start:
                return clock.replace(hour=start // 60, minute=start % 60)
    return datetime.combine(clock.date() + timedelta(1), time(0), TIMEZONE)


def reference_add(cal: WorkingCalendar, start: datetime, minutes: int, receipt: bool) -> datetime:
    clock = _floor(start)
    cutoff = cal.receipt_cutoff.hour * 60 + cal.receipt_cutoff.minute
    if receipt and cal.is_working_day(clock.date()) and _minute_of(clock) > cutoff:
        clock = datetime.combine(clock.date() + timedelta(1), time(0), TIMEZONE)
    while not _is_working_minute(cal, clock):
        clock = _step(cal, clock)
    counted = 0
    while counted < minutes:
        if _is_working_minute(cal, clock):
            counted += 1
        clock = _step(cal, clock)
    return clock


def reference_between(cal: WorkingCalendar, begin: datetime, end: datetime) -> int:
    clock, stop, total = _floor(begin), _floor(end), 0
    while clock < stop:
        total += _is_working_minute(cal, clock)
        clock = min(_step(cal, clock), stop)
    return total


# -- properties -----------------------------------------------------------------------------


@settings(PROFILE, max_examples=80)
@given(instants(), st.integers(0, 1500), st.booleans())
def test_matches_the_minute_by_minute_reference(start, minutes, receipt):
    assert CAL.add_working_time(start, minutes, receipt=receipt) == reference_add(
        CAL, start, minutes, receipt
    )


@settings(PROFILE, max_examples=60)
@given(calendars(), st.integers(0, 60 * 24 * 400), seconds, st.integers(0, 1500), st.booleans())
def test_any_calendar_matches_the_reference(cal, offset, second, minutes, receipt):
    start = datetime(2025, 12, 1, tzinfo=TIMEZONE) + timedelta(minutes=offset, seconds=second)
    assert cal.add_working_time(start, minutes, receipt=receipt) == reference_add(
        cal, start, minutes, receipt
    )


@settings(PROFILE, max_examples=60)
@given(calendars(), st.integers(0, 60 * 24 * 400), st.integers(0, 60 * 24 * 12))
def test_any_calendar_counts_minutes_between_like_the_reference(cal, offset, length):
    begin = datetime(2025, 12, 1, tzinfo=TIMEZONE) + timedelta(minutes=offset)
    end = begin + timedelta(minutes=length)
    assert cal.working_minutes_between(begin, end) == reference_between(cal, begin, end)
    assert cal.working_minutes_between(end, begin) == 0


@settings(PROFILE)
@given(instants(), st.integers(0, 20000), st.integers(0, 20000), st.booleans())
def test_due_is_monotone_in_minutes(start, a, b, receipt):
    low, high = sorted((a, b))
    assert CAL.add_working_time(start, low, receipt=receipt) <= CAL.add_working_time(
        start, high, receipt=receipt
    )


@settings(PROFILE)
@given(instants(), instants(), st.integers(0, 20000), st.booleans())
def test_due_is_monotone_in_start(a, b, minutes, receipt):
    early, late = sorted((a, b), key=to_local)
    assert CAL.add_working_time(early, minutes, receipt=receipt) <= CAL.add_working_time(
        late, minutes, receipt=receipt
    )


@settings(PROFILE)
@given(st.one_of(st.just(CAL), calendars()), st.integers(0, 60 * 24 * 400),
       st.integers(0, 20000), st.booleans())
def test_due_is_in_working_time_or_at_a_period_end(cal, offset, minutes, receipt):
    start = datetime(2025, 12, 1, tzinfo=TIMEZONE) + timedelta(minutes=offset)
    due = cal.add_working_time(start, minutes, receipt=receipt)
    assert due.tzinfo is TIMEZONE and due.second == 0 and due.microsecond == 0
    assert cal.is_working_day(due.date())
    minute, spans = _minute_of(due), _spans(cal)
    if minutes == 0:
        assert any(s <= minute < e for s, e in spans)
    else:
        assert any(s < minute <= e for s, e in spans)
    assert due >= _floor(start)


@settings(PROFILE)
@given(st.one_of(st.just(CAL), calendars()), instants(), st.integers(0, 20000))
def test_round_trip_with_working_minutes_between(cal, start, minutes):
    due = cal.add_working_time(start, minutes, receipt=False)
    assert cal.working_minutes_between(start, due) == minutes
    receipt_due = cal.add_working_time(start, minutes)
    assert cal.working_minutes_between(cal.effective_start(start), receipt_due) == minutes


@settings(PROFILE)
@given(instants(), st.integers(0, 5000), st.integers(1, 5000))
def test_adding_in_two_steps_is_adding_the_sum(start, first, second):
    # second >= 1: adding 0 to a period end gives the next period's start (the effective start).
    middle = CAL.add_working_time(start, first, receipt=False)
    assert CAL.add_working_time(middle, second, receipt=False) == CAL.add_working_time(
        start, first + second, receipt=False
    )


@settings(PROFILE)
@given(instants(), instants(), instants())
def test_working_minutes_between_adds_up(a, b, c):
    a, b, c = sorted((a, b, c), key=to_local)
    assert CAL.working_minutes_between(a, b) + CAL.working_minutes_between(
        b, c
    ) == CAL.working_minutes_between(a, c)
