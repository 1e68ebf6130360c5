"""A year's days off and make-up working days (lịch nghỉ lễ, Tết và làm bù trong năm).

A :class:`YearSchedule` is plain data so that services can store it and an admin page can edit
it: ``to_dict()`` / ``from_dict()`` round-trip through JSON. A stored or shipped schedule for a
year is complete: it lists every day off of that year (public holidays, days off in lieu,
swapped days), not only the changes against the law. Years without one fall back to
:func:`statutory_schedule`, which an admin page can also use to prefill a new year.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from holidays.countries.vietnam import Vietnam

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WEEKEND = frozenset({5, 6})
DEFAULTS_RESOURCE = "defaults.json"


class ScheduleError(ValueError):
    """Invalid calendar data; the message starts with the path of the offending field."""


@dataclass(frozen=True, order=True)
class DayEntry:
    """One dated entry of a schedule: a day off or a make-up working day, with its label."""

    day: date
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.day, datetime) or not isinstance(self.day, date):
            raise ScheduleError(f"date: expected a date, got {self.day!r}")
        if not isinstance(self.name, str):
            raise ScheduleError("name: expected text")

    def to_dict(self) -> dict[str, str]:
        return {"date": self.day.isoformat(), "name": self.name}

    @classmethod
    def from_dict(cls, data: Any, where: str = "entry") -> DayEntry:
        if not isinstance(data, Mapping):
            raise ScheduleError(f"{where}: expected an object with 'date' and 'name'")
        raw = data.get("date")
        if not isinstance(raw, str):
            raise ScheduleError(f"{where}.date: expected a date YYYY-MM-DD")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ScheduleError(f"{where}.date: not a date YYYY-MM-DD: {raw!r}") from None
        name = data.get("name", "")
        if not isinstance(name, str):
            raise ScheduleError(f"{where}.name: expected text")
        return cls(day, name)


@dataclass(frozen=True)
class YearSchedule:
    """The days off and make-up working days of one year.

    ``days_off`` may include weekend days (announcements give whole ranges such as 14–22 Feb);
    ``working_days`` are normally Saturdays worked in exchange for a bridge day off. A make-up
    day that is already a working day changes nothing. Entries are kept sorted by date.
    """

    year: int
    days_off: tuple[DayEntry, ...] = ()
    working_days: tuple[DayEntry, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise ScheduleError("year: expected an integer")
        if not 1 <= self.year <= 9999:
            raise ScheduleError(f"year: out of range: {self.year}")
        off = _checked_entries(self.year, self.days_off, "days_off")
        work = _checked_entries(self.year, self.working_days, "working_days")
        both = {e.day for e in off} & {e.day for e in work}
        if both:
            first = min(both).isoformat()
            raise ScheduleError(f"working_days: {first} is also listed in days_off")
        object.__setattr__(self, "days_off", off)
        object.__setattr__(self, "working_days", work)

    @property
    def off_dates(self) -> frozenset[date]:
        return frozenset(e.day for e in self.days_off)

    @property
    def work_dates(self) -> frozenset[date]:
        return frozenset(e.day for e in self.working_days)

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "source": self.source,
            "days_off": [e.to_dict() for e in self.days_off],
            "working_days": [e.to_dict() for e in self.working_days],
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "schedule") -> YearSchedule:
        if not isinstance(data, Mapping):
            raise ScheduleError(f"{where}: expected an object")
        unknown = set(data) - {"year", "source", "days_off", "working_days"}
        if unknown:
            raise ScheduleError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        year = data.get("year")
        if isinstance(year, bool) or not isinstance(year, int):
            raise ScheduleError(f"{where}.year: expected an integer")
        source = data.get("source", "")
        if not isinstance(source, str):
            raise ScheduleError(f"{where}.source: expected text")
        lists = {}
        for key in ("days_off", "working_days"):
            items = data.get(key, [])
            if not isinstance(items, list):
                raise ScheduleError(f"{where}.{key}: expected a list")
            lists[key] = tuple(
                DayEntry.from_dict(item, f"{where}.{key}[{i}]") for i, item in enumerate(items)
            )
        try:
            return cls(year, lists["days_off"], lists["working_days"], source)
        except ScheduleError as exc:
            raise ScheduleError(f"{where}.{exc}") from None


def _checked_entries(year: int, entries: Iterable[DayEntry], field: str) -> tuple[DayEntry, ...]:
    items = tuple(entries)
    if not all(isinstance(entry, DayEntry) for entry in items):
        raise ScheduleError(f"{field}: expected DayEntry items")
    result = tuple(sorted(items))
    seen: set[date] = set()
    for entry in result:
        if entry.day.year != year:
            raise ScheduleError(f"{field}: {entry.day.isoformat()} is not in {year}")
        if entry.day in seen:
            raise ScheduleError(f"{field}: {entry.day.isoformat()} is listed twice")
        seen.add(entry.day)
    return result


def parse_weekend(codes: Any, where: str = "weekend") -> frozenset[int]:
    """``["sat", "sun"]`` → ``{5, 6}`` (Python weekday numbers)."""
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ScheduleError(f"{where}: expected a list of day codes such as ['sat', 'sun']")
    days = set()
    for code in codes:
        if code.lower() not in WEEKDAY_CODES:
            raise ScheduleError(f"{where}: unknown day {code!r} (use {', '.join(WEEKDAY_CODES)})")
        days.add(WEEKDAY_CODES.index(code.lower()))
    if len(days) == 7:
        raise ScheduleError(f"{where}: every day of the week cannot be a rest day")
    return frozenset(days)


def weekend_codes(weekend: Collection[int]) -> list[str]:
    return [WEEKDAY_CODES[d] for d in sorted(weekend)]


class _StatutoryVietnam(Vietnam):
    """holidays.VN without its one-off swaps (e.g. 2 May 2025 off for Sat 26 Apr worked).

    Those swaps are announcements, not law; announced years come from YearSchedule data, and the
    package records only the day off of a swap, not the Saturday worked for it.
    """

    def _add_special_holidays(self, mapping_names, *, observed=False):
        return None


@lru_cache(maxsize=256)
def statutory_schedule(year: int, weekend: frozenset[int] = DEFAULT_WEEKEND) -> YearSchedule:
    """The public holidays the law gives in ``year``, for years without an announced schedule.

    Dates come from the ``holidays`` package without its own weekend shifting
    (``observed=False``): Tết on the lunar calendar, Giỗ Tổ Hùng Vương (10/3 lunar), 30/4, 1/5,
    2/9 with its adjacent day, and what else the pinned package lists. Each holiday that falls
    on a weekly rest day then gives a day off in lieu on the next working day not already off,
    as the Labor Code (art. 111(3)) says; holidays.VN's own rule would move a Saturday of Tết to
    the previous day instead, so its observed days are not used.
    """
    found = _StatutoryVietnam(years=year, observed=False, language="vi")
    named = {d: name for d, name in found.items() if d.year == year}
    entries = dict(named)
    for holiday in sorted(named):
        if holiday.weekday() not in weekend:
            continue
        lieu = holiday + timedelta(days=1)
        while lieu.weekday() in weekend or lieu in entries:
            lieu += timedelta(days=1)
        # The last statutory holiday is 24 Nov, so a day in lieu never spills into next year.
        if lieu.year == year:
            entries[lieu] = f"Nghỉ bù {named[holiday]} ({holiday:%d/%m/%Y})"
    return YearSchedule(
        year,
        tuple(DayEntry(d, name) for d, name in entries.items()),
        (),
        source="statutory",
    )


def shipped_defaults() -> dict[str, Any]:
    """The shipped calendar data (working periods, cut-off, announced 2025 and 2026 schedules).

    A fresh dict each call, so a caller may edit it (e.g. to prefill an admin form).
    """
    return json.loads(_shipped_text())


@lru_cache(maxsize=1)
def _shipped_text() -> str:
    return resources.files(__package__).joinpath(DEFAULTS_RESOURCE).read_text(encoding="utf-8")
