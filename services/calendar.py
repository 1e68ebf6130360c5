"""The stored working-time calendar (lịch làm việc lưu trong cơ sở dữ liệu) and its admin changes.

One ``calendar_config`` row (id 1) holds ``WorkingCalendar.to_dict()`` of what administrators
changed: the working periods, the receipt cut-off and the years they saved. The calendar that
deadlines use is layered, per year: a stored year wins over a shipped announced year
(engine/calendar/defaults.json), which wins over the statutory fallback. Storing only the edited
years means a release that ships a new year's announcement reaches installations that never
edited that year, and resetting a year simply removes it from the row.

Every change is one transaction with one ``calendar_changed`` audit event, and is checked against
the ``revision`` the editor started from, so two administrators saving at once cannot silently
overwrite each other: the second gets a Conflict.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.calendar import (
    FIRST_YEAR, LAST_YEAR, DayEntry, ScheduleError, WorkingCalendar, YearSchedule, default_calendar,
    to_local,
)
from services import audit
from services.actors import Actor, require_role
from services.errors import N_, Conflict, ValidationError
from services.models import CalendarConfig
from services.uow import transaction

STORED, SHIPPED, STATUTORY = "stored", "shipped", "statutory"
ACTION = "calendar_changed"
MAX_NAME_LENGTH = 200
MAX_ENTRIES = 366
ROW_ID = 1
#: The stored calendar's (revision, updated_at): the one read every deadline computation pays for.
HEAD = select(CalendarConfig.revision, CalendarConfig.updated_at).where(CalendarConfig.id == ROW_ID)


@dataclass(frozen=True)
class CalendarState:
    """The calendar in force and where each year comes from.

    ``revision`` is 0 while nothing is stored; an edit form sends back the revision it showed.
    """

    calendar: WorkingCalendar
    revision: int
    stored_years: frozenset[int]
    updated_at: datetime | None = None
    updated_by: str | None = None

    def origin(self, year: int) -> str:
        """STORED (saved by an admin), SHIPPED (announced, shipped) or STATUTORY (fallback)."""
        if year in self.stored_years:
            return STORED
        return SHIPPED if default_calendar().is_announced(year) else STATUTORY


# -- reading (the hot path: every receipt and every step asks for the calendar) -------------------

# One entry per database: url -> ((revision, updated_at), state). Parsing the JSON and building the
# calendar happens once per revision; afterwards a lookup costs one indexed single-row query.
_cache: dict[str, tuple[tuple[int, str], CalendarState]] = {}
_cache_lock = threading.Lock()


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands back naive UTC
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _stamp(revision: int, updated_at: datetime | None) -> tuple[int, str]:
    # updated_at joins the revision so that a different database file that happens to reuse
    # the same URL and revision number (a restored backup, a test copy) is not mistaken for it.
    moment = _utc(updated_at)
    return revision, moment.isoformat() if moment else ""


@lru_cache(maxsize=1)
def _default_state() -> CalendarState:
    return CalendarState(default_calendar(), 0, frozenset())


_UNREAD = object()


def load_state(session: Session, head=_UNREAD) -> CalendarState:
    """The calendar in force with its revision and stored years (thread-safe, cached).

    *head* is HEAD's row (or None) when the caller has already read it, with its other reads.
    """
    if head is _UNREAD:
        head = session.execute(HEAD).first()
    if head is None:
        return _default_state()
    key = session.get_bind().url.render_as_string(hide_password=True)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == _stamp(head.revision, head.updated_at):
        return hit[1]
    row = session.execute(
        select(CalendarConfig.revision, CalendarConfig.updated_at, CalendarConfig.updated_by,
               CalendarConfig.data).where(CalendarConfig.id == ROW_ID)
    ).first()
    if row is None:  # deleted between the two reads
        return _default_state()
    stored = _parse(row.data)
    state = CalendarState(_effective(stored), row.revision, frozenset(stored.schedules),
                          _utc(row.updated_at), row.updated_by)
    with _cache_lock:
        _cache[key] = (_stamp(row.revision, row.updated_at), state)
    return state


def current_calendar(session: Session, head=_UNREAD) -> WorkingCalendar:
    """The working calendar deadlines use: the stored one, else ``default_calendar()``."""
    return load_state(session, head).calendar


def _parse(data: str) -> WorkingCalendar:
    """The stored row's calendar; corrupt data is an error, never a silent fallback, because
    deadlines computed on the wrong calendar would mislead citizens."""
    try:
        return WorkingCalendar.from_dict(json.loads(data))
    except (ValueError, TypeError) as exc:  # ScheduleError is a ValueError, as is bad JSON
        raise ScheduleError(f"calendar_config.data: {exc}") from None


def _effective(stored: WorkingCalendar) -> WorkingCalendar:
    layered = {**default_calendar().schedules, **stored.schedules}
    return WorkingCalendar(periods=stored.periods, weekend=stored.weekend,
                           receipt_cutoff=stored.receipt_cutoff, schedules=layered.values())


def _empty_stored() -> WorkingCalendar:
    shipped = default_calendar()
    return WorkingCalendar(periods=shipped.periods, weekend=shipped.weekend,
                           receipt_cutoff=shipped.receipt_cutoff)


# -- validation ------------------------------------------------------------------------------------

def _actor(actor: Actor) -> str:
    """The audit actor: an administrator, or one of the system's own processes (services.actors)."""
    return require_role(actor, "admin", N_("Only administrators can change the working-time calendar."))


def check_year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(N_("The year must be between %(first)d and %(last)d."), "year",
                              first=FIRST_YEAR, last=LAST_YEAR)
    return year


def shown_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _entries(year: int, items: Iterable[tuple[date, str]], field: str) -> list[DayEntry]:
    items = list(items)
    if len(items) > MAX_ENTRIES:
        raise ValidationError(N_("At most %(n)d days can be listed."), field, n=MAX_ENTRIES)
    entries, seen = [], set()
    for item in items:
        day, name = item if isinstance(item, (tuple, list)) and len(item) == 2 else (item, "")
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValidationError(N_("%(value)s is not a date."), field, value=str(day))
        shown = shown_date(day)
        if day.year != year:
            raise ValidationError(N_("%(date)s is not in %(year)d."), field, date=shown, year=year)
        if day in seen:
            raise ValidationError(N_("%(date)s is listed twice."), field, date=shown)
        seen.add(day)
        name = (name or "").strip() if isinstance(name, str) or name is None else str(name).strip()
        if len(name) > MAX_NAME_LENGTH:
            raise ValidationError(N_("The name given for %(date)s is longer than %(n)d characters."),
                                  field, date=shown, n=MAX_NAME_LENGTH)
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
            raise ValidationError(N_("The name given for %(date)s contains a control character."),
                                  field, date=shown)
        entries.append(DayEntry(day, name))
    return entries


def build_schedule(year: int, days_off: Iterable[tuple[date, str]],
                   working_days: Iterable[tuple[date, str]], *, weekend: frozenset[int] = frozenset({5, 6}),
                   source: str = "") -> YearSchedule:
    """A validated year schedule; a ValidationError names the field and the date at fault.

    A day off may fall on any day (announcements list whole ranges, weekends included); a
    make-up working day must be a weekly rest day, since a weekday is worked anyway.
    """
    year = check_year(year)
    off = _entries(year, days_off, "days_off")
    work = _entries(year, working_days, "working_days")
    off_dates = {e.day for e in off}
    for entry in work:
        if entry.day.weekday() not in weekend:
            raise ValidationError(N_("%(date)s is a weekday, already worked: a make-up working day "
                                     "must be a Saturday or a Sunday."), "working_days",
                                  date=shown_date(entry.day))
        if entry.day in off_dates:
            raise ValidationError(N_("%(date)s is listed both as a day off and as a make-up "
                                     "working day."), "working_days", date=shown_date(entry.day))
    return YearSchedule(year, tuple(off), tuple(work), source)


def _clock(value: object) -> time | None:
    """A whole-minute clock time from a ``time`` or an ``HH:MM`` text, else None."""
    if isinstance(value, time):
        return value if not (value.second or value.microsecond or value.tzinfo) else None
    text = value.strip() if isinstance(value, str) else ""
    try:
        return time.fromisoformat(text) if len(text) == 5 and text[2] == ":" else None
    except ValueError:
        return None


def _periods(periods: Sequence[tuple[object, object]]) -> list[tuple[time, time]]:
    result: list[tuple[time, time]] = []
    if not periods:
        raise ValidationError(N_("At least one working period is needed."), "periods")
    if len(periods) > 6:
        raise ValidationError(N_("At most %(n)d working periods a day."), "periods", n=6)
    for n, pair in enumerate(periods, start=1):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValidationError(N_("Working period %(n)d needs a start and an end time."),
                                  "periods", n=n)
        start, end = (_clock(v) for v in pair)
        for value, parsed in zip(pair, (start, end)):
            if parsed is None:
                raise ValidationError(N_("Working period %(n)d: '%(value)s' is not a clock time HH:MM."),
                                      "periods", n=n, value=str(value))
        if end <= start:
            raise ValidationError(N_("Working period %(n)d ends before it starts."), "periods", n=n)
        if result and start < result[-1][1]:
            raise ValidationError(N_("Working period %(n)d starts before the previous one ends."),
                                  "periods", n=n)
        result.append((start, end))
    return result


# -- changes ---------------------------------------------------------------------------------------

def _load_for_write(session: Session, expected_revision: int | None):
    row = session.get(CalendarConfig, ROW_ID, populate_existing=True)
    current = row.revision if row is not None else 0
    if expected_revision is not None and expected_revision != current:
        at = to_local(_utc(row.updated_at)).strftime("%d/%m/%Y %H:%M") if row else "?"
        raise Conflict(N_("The calendar was changed by %(user)s at %(at)s after you opened it; "
                          "reload the page and make your change again."), "revision",
                       user=row.updated_by if row else "?", at=at)
    return row, (_parse(row.data) if row is not None else _empty_stored())


def _write(session: Session, row: CalendarConfig | None, who: str, stored: WorkingCalendar) -> int:
    data = json.dumps(stored.to_dict(), ensure_ascii=False, sort_keys=True)
    now = datetime.now(timezone.utc)
    if row is None:
        row = CalendarConfig(id=ROW_ID, data=data, updated_at=now, updated_by=who)
        session.add(row)
    else:
        row.data, row.updated_at, row.updated_by = data, now, who
    try:
        session.flush()  # the version counter turns a concurrent save into StaleDataError here
    except (StaleDataError, IntegrityError):
        raise Conflict(N_("Another administrator saved the calendar at the same moment; reload "
                          "the page and make your change again."), "revision") from None
    return row.revision


def _diff(before: tuple[DayEntry, ...], after: tuple[DayEntry, ...]) -> dict:
    old = {e.day: e.name for e in before}
    new = {e.day: e.name for e in after}
    return {
        "added": [{"date": d.isoformat(), "name": new[d]} for d in sorted(new.keys() - old.keys())],
        "removed": [{"date": d.isoformat(), "name": old[d]} for d in sorted(old.keys() - new.keys())],
        "renamed": [{"date": d.isoformat(), "before": old[d], "after": new[d]}
                    for d in sorted(old.keys() & new.keys()) if old[d] != new[d]],
    }


def _year_change(session: Session, who: str, year: int, row, stored: WorkingCalendar,
                 changed: WorkingCalendar, change: str) -> None:
    before, after = _effective(stored), _effective(changed)
    old, new = before.schedule_for(year), after.schedule_for(year)
    origins = [STORED if year in c.schedules else (SHIPPED if default_calendar().is_announced(year)
                                                   else STATUTORY) for c in (stored, changed)]
    revision = _write(session, row, who, changed)
    audit.record(session, who, ACTION, f"calendar:{year}", {
        "change": change, "year": year, "revision": revision, "from": origins[0], "to": origins[1],
        "days_off": _diff(old.days_off, new.days_off),
        "working_days": _diff(old.working_days, new.working_days),
    })


def save_year(session: Session, actor: Actor, year: int, days_off: Iterable[tuple[date, str]],
              working_days: Iterable[tuple[date, str]], *,
              expected_revision: int | None = None) -> CalendarState:
    """Store ``year``'s complete list of days off and make-up working days.

    Saving what is already stored changes nothing and writes no event.
    """
    who = _actor(actor)
    year = check_year(year)
    days_off, working_days = list(days_off), list(working_days)
    with transaction(session):
        row, stored = _load_for_write(session, expected_revision)
        stamp = to_local(datetime.now(timezone.utc)).strftime("%d/%m/%Y")
        schedule = build_schedule(year, days_off, working_days, weekend=stored.weekend,
                                  source=f"Lưu trên trang quản trị bởi {who}, {stamp}")
        previous = stored.schedules.get(year)
        unchanged = previous is not None and (previous.days_off, previous.working_days) == (
            schedule.days_off, schedule.working_days)
        if not unchanged:
            _year_change(session, who, year, row, stored, stored.with_schedule(schedule), "saved")
    return load_state(session)


def reset_year(session: Session, actor: Actor, year: int, *,
               expected_revision: int | None = None) -> CalendarState:
    """Forget what was stored for ``year``: the shipped announcement, else the statutory
    holidays, apply again. A year with nothing stored is left alone (no event)."""
    who = _actor(actor)
    year = check_year(year)
    with transaction(session):
        row, stored = _load_for_write(session, expected_revision)
        if year in stored.schedules:
            _year_change(session, who, year, row, stored, stored.without_schedule(year), "reset")
    return load_state(session)


def update_settings(session: Session, actor: Actor, *, periods: Sequence[tuple[object, object]],
                    receipt_cutoff: object, expected_revision: int | None = None) -> CalendarState:
    """Change the working periods of a day and the receipt cut-off (giờ làm việc, giờ chốt).

    Amounts already converted to minutes (running dossiers) keep their minutes; only the clock
    positions of future computations change.
    """
    who = _actor(actor)
    spans = _periods(periods)
    cutoff = _clock(receipt_cutoff)
    if cutoff is None:
        raise ValidationError(N_("The receipt cut-off '%(value)s' is not a clock time HH:MM."),
                              "receipt_cutoff", value=str(receipt_cutoff))
    with transaction(session):
        row, stored = _load_for_write(session, expected_revision)
        changed = WorkingCalendar(periods=spans, weekend=stored.weekend, receipt_cutoff=cutoff,
                                  schedules=stored.schedules.values())
        old, new = stored.to_dict(), changed.to_dict()
        keys = ("periods", "receipt_cutoff")
        if any(old[k] != new[k] for k in keys):
            revision = _write(session, row, who, changed)
            audit.record(session, who, ACTION, "calendar:settings", {
                "change": "settings", "revision": revision,
                "before": {k: old[k] for k in keys}, "after": {k: new[k] for k in keys},
            })
    return load_state(session)
