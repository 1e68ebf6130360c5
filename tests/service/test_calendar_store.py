"""The stored working-time calendar: defaults, save/reset with audit, validation, concurrency, cache."""
from __future__ import annotations

import json
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from engine.calendar import ScheduleError, default_calendar, statutory_schedule, TIMEZONE
from services import calendar as store
from services.db import tune_sqlite
from services.errors import Conflict, Forbidden, ValidationError
from services.models import AuditEvent, CalendarConfig, User

ADDED_OFF = date(2027, 3, 5)  # a Friday, not a holiday in 2027
MAKE_UP = date(2027, 3, 13)  # a Saturday


def _user(session, name):
    return session.scalar(select(User).where(User.username == name))


def _events(session, obj=None):
    session.rollback()  # end the read snapshot: see what other sessions committed
    stmt = select(AuditEvent).where(AuditEvent.action == "calendar_changed")
    if obj:
        stmt = stmt.where(AuditEvent.object == obj)
    return list(session.scalars(stmt.order_by(AuditEvent.seq)))


def _statutory_pairs(year):
    return [(e.day, e.name) for e in statutory_schedule(year).days_off]


def _save_2027(session, actor="admin", **kw):
    admin = _user(session, actor) if isinstance(actor, str) else actor
    return store.save_year(session, admin, 2027,
                           _statutory_pairs(2027) + [(ADDED_OFF, "Nghỉ thử nghiệm")],
                           [(MAKE_UP, "Làm bù cho thứ Sáu 05/03/2027")], **kw)


def local(*args):
    return datetime(*args, tzinfo=TIMEZONE)


def test_nothing_stored_means_the_shipped_defaults(db_session):
    state = store.load_state(db_session)
    assert state.revision == 0 and state.stored_years == frozenset()
    assert store.current_calendar(db_session) is default_calendar()
    assert (state.origin(2026), state.origin(2025), state.origin(2027)) == ("shipped", "shipped", "statutory")


def test_a_saved_year_is_used_for_due_dates_and_audited(db_session):
    start = local(2027, 3, 4, 8, 0)  # Thursday 08:00, one working day
    assert default_calendar().add_working_days(start, 1) == local(2027, 3, 5, 8, 0)
    state = _save_2027(db_session)
    assert state.revision == 1 and state.stored_years == {2027} and state.origin(2027) == "stored"
    calendar = store.current_calendar(db_session)
    assert calendar.add_working_days(start, 1) == local(2027, 3, 8, 8, 0)  # Friday is off now
    assert not calendar.is_working_day(ADDED_OFF) and calendar.is_working_day(MAKE_UP)
    # The other years keep their shipped or statutory schedules.
    assert calendar.schedule_for(2026) == default_calendar().schedule_for(2026)
    assert calendar.schedule_for(2028) == default_calendar().schedule_for(2028)
    [event] = _events(db_session)
    payload = json.loads(event.payload)
    assert (event.actor, event.object) == ("admin", "calendar:2027")
    assert (payload["change"], payload["from"], payload["to"], payload["revision"]) == (
        "saved", "statutory", "stored", 1)
    assert payload["days_off"] == {"added": [{"date": "2027-03-05", "name": "Nghỉ thử nghiệm"}],
                                   "removed": [], "renamed": []}
    assert payload["working_days"]["added"] == [{"date": "2027-03-13",
                                                 "name": "Làm bù cho thứ Sáu 05/03/2027"}]
    row = db_session.get(CalendarConfig, 1)
    assert [s["year"] for s in json.loads(row.data)["schedules"]] == [2027]  # only edited years


def test_saving_the_same_schedule_again_changes_nothing(db_session):
    _save_2027(db_session)
    state = _save_2027(db_session)
    assert state.revision == 1 and len(_events(db_session)) == 1


def test_editing_a_shipped_year_records_renames_and_removals(db_session):
    admin = _user(db_session, "admin")
    shipped = default_calendar().schedule_for(2026)
    days_off = [(e.day, e.name) for e in shipped.days_off if e.day != date(2026, 4, 27)]
    days_off[0] = (days_off[0][0], "Tết Dương lịch 2026")
    store.save_year(db_session, admin, 2026, days_off, [(e.day, e.name) for e in shipped.working_days])
    assert store.current_calendar(db_session).is_working_day(date(2026, 4, 27))
    payload = json.loads(_events(db_session, "calendar:2026")[0].payload)
    assert payload["from"] == "shipped" and payload["days_off"]["added"] == []
    assert [d["date"] for d in payload["days_off"]["removed"]] == ["2026-04-27"]
    assert payload["days_off"]["renamed"] == [
        {"date": "2026-01-01", "before": "Tết Dương lịch", "after": "Tết Dương lịch 2026"}]


def test_reset_goes_back_to_the_shipped_or_statutory_schedule(db_session):
    admin = _user(db_session, "admin")
    _save_2027(db_session)
    store.save_year(db_session, admin, 2026, [(date(2026, 1, 1), "Tết Dương lịch")], [])
    assert store.current_calendar(db_session).is_working_day(date(2026, 2, 17))  # Tết dropped
    state = store.reset_year(db_session, admin, 2026)
    assert state.origin(2026) == "shipped" and state.revision == 3
    assert state.calendar.schedule_for(2026) == default_calendar().schedule_for(2026)
    state = store.reset_year(db_session, admin, 2027)
    assert state.origin(2027) == "statutory" and state.calendar.is_working_day(ADDED_OFF)
    payload = json.loads(_events(db_session, "calendar:2027")[-1].payload)
    assert (payload["change"], payload["from"], payload["to"]) == ("reset", "stored", "statutory")
    assert payload["days_off"]["removed"] == [{"date": "2027-03-05", "name": "Nghỉ thử nghiệm"}]
    # Nothing stored for 2027 any more: a second reset is not a change.
    assert store.reset_year(db_session, admin, 2027).revision == 4
    assert len(_events(db_session)) == 4


@pytest.mark.parametrize("year, days_off, working_days, field, message", [
    (2027, [(date(2026, 12, 31), "Giao thừa")], [], "days_off", "31/12/2026 is not in 2027."),
    (2027, [(ADDED_OFF, "a"), (ADDED_OFF, "b")], [], "days_off", "05/03/2027 is listed twice."),
    (2027, [], [(date(2027, 3, 10), "Thứ Tư")], "working_days",
     "10/03/2027 is a weekday, already worked: a make-up working day must be a Saturday or a Sunday."),
    (2027, [(MAKE_UP, "nghỉ")], [(MAKE_UP, "làm")], "working_days",
     "13/03/2027 is listed both as a day off and as a make-up working day."),
    (2027, [(ADDED_OFF, "x" * 201)], [], "days_off",
     "The name given for 05/03/2027 is longer than 200 characters."),
    (2027, [("2027-03-05", "text, not a date")], [], "days_off", "2027-03-05 is not a date."),
    (2027, [(ADDED_OFF, "tab\there")], [], "days_off", "The name given for 05/03/2027 contains"),
    (1900, [], [], "year", "The year must be between 1901 and 2100."),
    (2101, [], [], "year", "The year must be between 1901 and 2100."),
])
def test_validation_names_the_field_and_the_date(db_session, year, days_off, working_days, field, message):
    with pytest.raises(ValidationError) as caught:
        store.save_year(db_session, _user(db_session, "admin"), year, days_off, working_days)
    assert caught.value.field == field and caught.value.message.startswith(message)
    assert store.load_state(db_session).revision == 0 and _events(db_session) == []


def test_a_name_of_exactly_200_characters_is_accepted(db_session):
    store.save_year(db_session, _user(db_session, "admin"), 2027, [(ADDED_OFF, "x" * 200)], [])
    assert store.current_calendar(db_session).schedule_for(2027).days_off[0].name == "x" * 200


def test_only_administrators_change_the_calendar(db_session):
    official = _user(db_session, "chuyenvien")
    for change in (lambda: _save_2027(db_session, official),
                   lambda: store.reset_year(db_session, official, 2026),
                   lambda: store.update_settings(db_session, official, periods=[("08:00", "17:00")],
                                                 receipt_cutoff="15:00")):
        with pytest.raises(Forbidden):
            change()
    assert store.load_state(db_session).revision == 0 and _events(db_session) == []


def test_a_stale_revision_is_a_conflict_naming_who_changed_it(db_session):
    opened = store.load_state(db_session).revision
    _save_2027(db_session, expected_revision=opened)
    with pytest.raises(Conflict, match=r"changed by admin at \d\d/\d\d/\d{4} \d\d:\d\d") as caught:
        store.reset_year(db_session, _user(db_session, "admin"), 2027, expected_revision=opened)
    assert caught.value.field == "revision" and caught.value.status == 409
    assert store.load_state(db_session).stored_years == {2027} and len(_events(db_session)) == 1


def _engine(app):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    tune_sqlite(engine)
    return engine


def _race(engine, revision, before_write=None):
    """Two admins saving different years at the same moment, both from `revision`."""
    results, barrier = [], threading.Barrier(2, timeout=20)

    def admin_saves(year):
        with Session(engine) as session:
            admin = _user(session, "admin")
            session.rollback()
            barrier.wait()
            try:
                store.save_year(session, admin, year, [(date(year, 3, 5), "Nghỉ")], [],
                                expected_revision=revision)
                results.append("ok")
            except Conflict as exc:
                results.append(exc.message)

    threads = [threading.Thread(target=admin_saves, args=(y,)) for y in (2027, 2028)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_admins_saving_at_once_one_gets_a_conflict(app, db_session):
    engine = _engine(app)
    try:
        results = _race(engine, 0)
    finally:
        engine.dispose()
    assert sorted(r == "ok" for r in results) == [False, True], results
    assert "reload the page" in next(r for r in results if r != "ok")
    assert len(_events(db_session)) == 1 and store.load_state(db_session).revision == 1


def test_the_cache_sees_a_change_made_by_another_session(app, db_session, monkeypatch):
    parsed = []
    real_parse = store._parse
    monkeypatch.setattr(store, "_parse", lambda data: parsed.append(1) or real_parse(data))
    _save_2027(db_session)
    engine = _engine(app)
    try:
        with Session(engine) as other:
            first = store.current_calendar(other)
            parses = len(parsed)
            for _ in range(50):  # the hot path: no JSON parsing while the revision is unchanged
                assert store.current_calendar(other) is first
            assert len(parsed) == parses
            other.rollback()
            store.reset_year(db_session, _user(db_session, "admin"), 2027)  # another session
            other.rollback()  # a new request/transaction in the reading session
            assert store.current_calendar(other).is_working_day(ADDED_OFF)
            assert not first.is_working_day(ADDED_OFF)
    finally:
        engine.dispose()


def test_settings_change_periods_and_cutoff(db_session):
    admin = _user(db_session, "admin")
    state = store.update_settings(db_session, admin, periods=[("07:30", "11:30"), ("13:00", "17:00")],
                                  receipt_cutoff="16:00")
    calendar = state.calendar
    assert calendar.minutes_per_day == 480 and calendar.receipt_cutoff.hour == 16
    # Received at 15:30 on a working day: before the new cut-off, so it counts from 15:30.
    assert calendar.effective_start(local(2027, 3, 4, 15, 30)) == local(2027, 3, 4, 15, 30)
    assert calendar.schedule_for(2026) == default_calendar().schedule_for(2026)
    [event] = _events(db_session, "calendar:settings")
    payload = json.loads(event.payload)
    assert payload["before"] == {"periods": [["07:00", "11:30"], ["13:30", "17:00"]], "receipt_cutoff": "15:00"}
    assert payload["after"] == {"periods": [["07:30", "11:30"], ["13:00", "17:00"]], "receipt_cutoff": "16:00"}


@pytest.mark.parametrize("periods, cutoff, field, message", [
    ([], "15:00", "periods", "At least one working period is needed."),
    ([("7h", "11:30")], "15:00", "periods", "Working period 1: '7h' is not a clock time HH:MM."),
    ([("07:00", "11:30"), ("11:00", "17:00")], "15:00", "periods",
     "Working period 2 starts before the previous one ends."),
    ([("17:00", "07:00")], "15:00", "periods", "Working period 1 ends before it starts."),
    ([("07:00", "17:00")], "25:00", "receipt_cutoff", "The receipt cut-off '25:00' is not a clock time HH:MM."),
])
def test_settings_validation(db_session, periods, cutoff, field, message):
    with pytest.raises(ValidationError) as caught:
        store.update_settings(db_session, _user(db_session, "admin"), periods=periods, receipt_cutoff=cutoff)
    assert (caught.value.field, caught.value.message) == (field, message)
    assert _events(db_session) == []


def test_corrupt_stored_data_is_an_error_not_a_silent_fallback(db_session):
    _save_2027(db_session)
    db_session.rollback()
    db_session.execute(text("UPDATE calendar_config SET data = '{\"periods\": 3}', revision = 9"))
    db_session.commit()
    with pytest.raises(ScheduleError, match=r"^calendar_config\.data: periods"):
        store.current_calendar(db_session)


@pytest.mark.postgres
def test_postgres_concurrent_saves_one_conflict(pg_database, tmp_path):
    """Two admins saving from the same revision at once on PostgreSQL: write transactions take the
    writers' lock first (services.uow), so they run one after the other and the second, still
    holding the old revision, gets the Conflict; nothing half-written, one event."""
    from tests.conftest import load_demo, make_app, upgrade

    app = make_app(pg_database, tmp_path)
    upgrade(app)
    load_demo(app)
    engine = create_engine(pg_database)
    try:
        with Session(engine) as session:
            _save_2027(session)
        results = _race(engine, 1)
        assert sorted(r == "ok" for r in results) == [False, True], results
        with Session(engine) as session:
            assert store.load_state(session).revision == 2
            count = session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "calendar_changed"))
        assert count == 2
    finally:
        engine.dispose()
        with app.app_context():
            from web.extensions import db
            db.engine.dispose()
    assert sorted(r == "ok" for r in results) == [False, True], results
    assert "after you opened it" in next(r for r in results if r != "ok")
