"""Working-time arithmetic in whole minutes over a working calendar.

Instants are read in Asia/Ho_Chi_Minh (naive ones are taken as local time) and to the minute:
seconds are dropped, as receipts and logs print them, so 15:00:40 counts as 15:00. Results are
aware datetimes in Asia/Ho_Chi_Minh on a whole minute.

Inside a working day a position is the number of working minutes before a clock time
(``_cum``): 0 before the first period, 270 from 11:30 to 13:30 by default, 480 from 17:00 on.
Adding time moves the position; whole days are skipped through a per-year sorted list of
working days, so the cost does not grow with the amount of time added.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from engine.calendar.amounts import days_to_minutes
from engine.calendar.clock import (
    FIRST_YEAR,
    LAST_YEAR,
    CalendarRangeError,
    clock_minutes,
    clock_text,
    instant,
    local_minute,
    to_local,
)
from engine.calendar.schedule import (
    DEFAULT_WEEKEND,
    ScheduleError,
    YearSchedule,
    parse_weekend,
    shipped_defaults,
    statutory_schedule,
    weekend_codes,
)

DEFAULT_PERIODS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
DEFAULT_RECEIPT_CUTOFF = time(15, 0)
DATA_FORMAT = 1
_DAY = timedelta(days=1)


def _check_minutes(minutes: Any) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise TypeError("minutes must be an int (convert days with days_to_minutes)")
    if minutes < 0:
        raise ValueError(f"minutes must not be negative, got {minutes}")
    return minutes


@dataclass(frozen=True)
class _Year:
    working: frozenset[int]  # ordinals of the working days
    ordinals: tuple[int, ...]  # the same, sorted, for bisecting over whole days


class WorkingCalendar:
    """Working-time calendar (lịch làm việc): periods, rest days, holidays, receipt cut-off.

    Immutable; build a changed copy with :meth:`with_schedule`. Plain data for storage:
    :meth:`to_dict` / :meth:`from_dict`.
    """

    def __init__(
        self,
        *,
        periods: Iterable[tuple[time | str, time | str]] = DEFAULT_PERIODS,
        weekend: Iterable[int] = DEFAULT_WEEKEND,
        receipt_cutoff: time | str = DEFAULT_RECEIPT_CUTOFF,
        schedules: Iterable[YearSchedule] = (),
    ) -> None:
        spans = []
        for i, pair in enumerate(periods):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ScheduleError(f"periods[{i}]: expected a pair [start, end]")
            start = clock_minutes(pair[0], f"periods[{i}].start")
            end = clock_minutes(pair[1], f"periods[{i}].end")
            if end <= start:
                raise ScheduleError(f"periods[{i}]: ends at or before it starts")
            if spans and start < spans[-1][1]:
                raise ScheduleError(f"periods[{i}]: starts before the previous period ends")
            spans.append((start, end))
        if not spans:
            raise ScheduleError("periods: at least one working period is needed")
        self._periods = tuple(spans)
        cum, offsets = 0, []
        for start, end in spans:
            offsets.append(cum)
            cum += end - start
        self._offsets = tuple(offsets)
        self._minutes_per_day = cum
        rest = frozenset(weekend)
        if not rest <= set(range(7)) or len(rest) == 7:
            raise ScheduleError("weekend: weekday numbers 0 (Monday) to 6, not all seven")
        self._weekend = rest
        self._cutoff = clock_minutes(receipt_cutoff, "receipt_cutoff")
        by_year: dict[int, YearSchedule] = {}
        for schedule in schedules:
            if not isinstance(schedule, YearSchedule):
                raise ScheduleError("schedules: expected YearSchedule items")
            if schedule.year in by_year:
                raise ScheduleError(f"schedules: {schedule.year} is given twice")
            by_year[schedule.year] = schedule
        self._schedules = dict(sorted(by_year.items()))
        self._years: dict[int, _Year] = {}

    # -- configuration ---------------------------------------------------------------------

    @property
    def periods(self) -> tuple[tuple[time, time], ...]:
        return tuple((time(s // 60, s % 60), time(e // 60, e % 60)) for s, e in self._periods)

    @property
    def minutes_per_day(self) -> int:
        """Working minutes in one working day: the sum of the periods (480 by default)."""
        return self._minutes_per_day

    @property
    def receipt_cutoff(self) -> time:
        return time(self._cutoff // 60, self._cutoff % 60)

    @property
    def weekend(self) -> frozenset[int]:
        return self._weekend

    @property
    def schedules(self) -> Mapping[int, YearSchedule]:
        """The announced (shipped or stored) schedules, by year."""
        return dict(self._schedules)

    def is_announced(self, year: int) -> bool:
        return year in self._schedules

    def schedule_for(self, year: int) -> YearSchedule:
        """The announced schedule of ``year``, else the statutory holidays of that year."""
        announced = self._schedules.get(year)
        return announced if announced is not None else statutory_schedule(year, self._weekend)

    def with_schedule(self, schedule: YearSchedule) -> WorkingCalendar:
        """A copy with ``schedule`` replacing whatever ``schedule.year`` had."""
        others = [s for y, s in self._schedules.items() if y != schedule.year]
        return self._copy(others + [schedule])

    def without_schedule(self, year: int) -> WorkingCalendar:
        """A copy where ``year`` falls back to the statutory holidays."""
        return self._copy([s for y, s in self._schedules.items() if y != year])

    def _copy(self, schedules: list[YearSchedule]) -> WorkingCalendar:
        return WorkingCalendar(
            periods=self.periods,
            weekend=self._weekend,
            receipt_cutoff=self.receipt_cutoff,
            schedules=schedules,
        )

    def days_to_minutes(self, days: object) -> int:
        """Working days → whole working minutes with this calendar's day length (floor)."""
        return days_to_minutes(days, self._minutes_per_day)

    # -- days ------------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = self._build_year(year)
        return found

    def _build_year(self, year: int) -> _Year:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise CalendarRangeError(year)
        schedule = self.schedule_for(year)
        off, extra = schedule.off_dates, schedule.work_dates
        day, working = date(year, 1, 1), []
        while day.year == year:
            if day not in off and (day.weekday() not in self._weekend or day in extra):
                working.append(day.toordinal())
            day += _DAY
        return _Year(frozenset(working), tuple(working))

    def working_day_count(self, year: int) -> int:
        """How many working days ``year`` has."""
        return len(self._year(year).ordinals)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is worked (a datetime is first taken to its local date)."""
        if isinstance(day, datetime):
            day = to_local(day).date()
        return day.toordinal() in self._year(day.year).working

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        if isinstance(day, datetime):
            day = to_local(day).date()
        return self._nth_working_day_after(day, 1)

    def _nth_working_day_after(self, day: date, n: int) -> date:
        ordinal, year = day.toordinal(), day.year
        while True:
            if year > LAST_YEAR:
                raise CalendarRangeError(year, "the result would fall in year")
            ordinals = self._year(year).ordinals
            index = bisect_right(ordinals, ordinal)
            available = len(ordinals) - index
            if n <= available:
                return date.fromordinal(ordinals[index + n - 1])
            n -= available
            year += 1

    def _working_days_strictly_between(self, first: date, last: date) -> int:
        low, high = first.toordinal(), last.toordinal()
        return sum(
            bisect_left(ordinals, high) - bisect_right(ordinals, low)
            for ordinals in (self._year(y).ordinals for y in range(first.year, last.year + 1))
        )

    # -- positions inside a day ------------------------------------------------------------

    def _cum(self, minute: int) -> int:
        return sum(max(0, min(minute, end) - start) for start, end in self._periods)

    def _opening_at(self, day: date, position: int) -> datetime:
        """The instant working time resumes at ``position`` (0 <= position < day length)."""
        for (start, end), offset in zip(self._periods, self._offsets):
            if position < offset + end - start:
                return instant(day, start + position - offset)
        raise AssertionError("position past the end of the day")

    def _closing_at(self, day: date, position: int) -> datetime:
        """The instant ``position`` (0 < position <= day length) is reached: a period's end
        rather than the next period's start, so time running out at 17:00 is due at 17:00."""
        for (start, end), offset in zip(self._periods, self._offsets):
            if position <= offset + end - start:
                return instant(day, start + position - offset)
        raise AssertionError("position past the end of the day")

    def _start_position(self, moment: datetime, receipt: bool) -> tuple[date, int]:
        day, minute = local_minute(moment)
        if not self.is_working_day(day) or (receipt and minute > self._cutoff):
            return self._nth_working_day_after(day, 1), 0
        return day, self._cum(minute)

    # -- instants --------------------------------------------------------------------------

    def is_working_time(self, moment: datetime) -> bool:
        """Whether ``moment`` is inside a working period of a working day (start included,
        end excluded)."""
        day, minute = local_minute(moment)
        return self.is_working_day(day) and any(s <= minute < e for s, e in self._periods)

    def is_appointment_time(self, moment: datetime) -> bool:
        """Whether a time given to a citizen or an official (a return date) can be kept: inside a
        working period of a working day, its end included — 11:30 and 17:00 close a period, and
        due times computed by :meth:`add_working_time` fall there."""
        day, minute = local_minute(moment)
        return self.is_working_day(day) and any(s <= minute <= e for s, e in self._periods)

    def effective_start(self, moment: datetime, *, receipt: bool = True) -> datetime:
        """When the clock starts for something received at ``moment``.

        Inside working time: ``moment`` itself (to the minute). Outside (lunch break, evening,
        before the first period, a day off): the start of the next working period. With
        ``receipt=True``, a receipt strictly after the cut-off (15:00 by default; 15:00 itself
        is not after) on a working day starts at the next working day's first period.
        """
        day, position = self._start_position(moment, receipt)
        if position >= self._minutes_per_day:
            day, position = self._nth_working_day_after(day, 1), 0
        return self._opening_at(day, position)

    def next_working_start(self, moment: datetime) -> datetime:
        """The first instant at or after ``moment`` that is working time (no cut-off)."""
        return self.effective_start(moment, receipt=False)

    def add_working_time(self, start: datetime, minutes: int, *, receipt: bool = True) -> datetime:
        """The due instant: ``minutes`` working minutes counted from ``start``.

        ``receipt=True`` (the default) applies DESIGN's receipt rule, cut-off included, for a
        dossier's due date; ``receipt=False`` is for step due times inside a running dossier.
        Lunch breaks, rest days and holidays do not count. Time that runs out exactly at the end
        of a period is due at that end (11:30, 17:00). ``minutes == 0`` gives the effective
        start (see :meth:`effective_start`). The result is always on a working day.
        """
        minutes = _check_minutes(minutes)
        if minutes == 0:
            return self.effective_start(start, receipt=receipt)
        day, position = self._start_position(start, receipt)
        target, length = position + minutes, self._minutes_per_day
        if target <= length:
            return self._closing_at(day, target)
        beyond = target - length
        days_ahead = (beyond - 1) // length + 1
        day = self._nth_working_day_after(day, days_ahead)
        return self._closing_at(day, beyond - (days_ahead - 1) * length)

    def add_working_days(self, start: datetime, days: object, *, receipt: bool = True) -> datetime:
        """:meth:`add_working_time` with an amount in working days (fractions allowed)."""
        return self.add_working_time(start, self.days_to_minutes(days), receipt=receipt)

    def working_minutes_between(self, begin: datetime, end: datetime) -> int:
        """Working minutes in [begin, end), both taken to the minute; 0 when end <= begin.

        Consistent with :meth:`add_working_time`: for any ``s`` and ``m``,
        ``working_minutes_between(s, add_working_time(s, m, receipt=False)) == m``.
        No cut-off applies: this measures time, e.g. the time a dossier waited.
        """
        first_day, first_minute = local_minute(begin)
        last_day, last_minute = local_minute(end)
        if (last_day, last_minute) <= (first_day, first_minute):
            return 0
        for day in (first_day, last_day):  # before counting the years between, not after 2100 of them
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise CalendarRangeError(day.year)
        if first_day == last_day:
            if not self.is_working_day(first_day):
                return 0
            return self._cum(last_minute) - self._cum(first_minute)
        total = self._minutes_per_day * self._working_days_strictly_between(first_day, last_day)
        if self.is_working_day(first_day):
            total += self._minutes_per_day - self._cum(first_minute)
        if self.is_working_day(last_day):
            total += self._cum(last_minute)
        return total

    # -- plain data ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data (see engine/calendar/defaults.json for an example)."""
        return {
            "format": DATA_FORMAT,
            "periods": [[clock_text(s), clock_text(e)] for s, e in self._periods],
            "weekend": weekend_codes(self._weekend),
            "receipt_cutoff": clock_text(self._cutoff),
            "schedules": [s.to_dict() for s in self._schedules.values()],
        }

    @classmethod
    def from_dict(cls, data: Any) -> WorkingCalendar:
        """Build from :meth:`to_dict` data; missing keys take the defaults."""
        if not isinstance(data, Mapping):
            raise ScheduleError("calendar: expected an object")
        unknown = set(data) - {"format", "periods", "weekend", "receipt_cutoff", "schedules"}
        if unknown:
            raise ScheduleError(f"calendar: unknown field {sorted(unknown)[0]!r}")
        if data.get("format", DATA_FORMAT) != DATA_FORMAT:
            raise ScheduleError(f"format: only format {DATA_FORMAT} is known")
        periods = data.get("periods", DEFAULT_PERIODS)
        if not isinstance(periods, (list, tuple)):
            raise ScheduleError("periods: expected a list of [start, end] pairs")
        weekend = DEFAULT_WEEKEND
        if "weekend" in data:
            weekend = parse_weekend(data["weekend"])
        schedules = data.get("schedules", [])
        if not isinstance(schedules, list):
            raise ScheduleError("schedules: expected a list")
        return cls(
            periods=periods,
            weekend=weekend,
            receipt_cutoff=data.get("receipt_cutoff", DEFAULT_RECEIPT_CUTOFF),
            schedules=[
                YearSchedule.from_dict(item, f"schedules[{i}]") for i, item in enumerate(schedules)
            ],
        )

    def __repr__(self) -> str:
        periods = ", ".join(f"{clock_text(s)}-{clock_text(e)}" for s, e in self._periods)
        years = ", ".join(str(y) for y in self._schedules) or "none"
        return (
            f"WorkingCalendar(periods=[{periods}], cutoff={clock_text(self._cutoff)}, "
            f"announced years: {years})"
        )


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The shipped calendar: default periods and cut-off, announced 2025 and 2026 schedules.

    It applies when nothing is stored (no database set up, or no calendar saved yet).
    """
    return WorkingCalendar.from_dict(shipped_defaults())
