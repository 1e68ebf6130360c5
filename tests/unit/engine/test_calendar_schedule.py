"""Yearly schedules: the statutory fallback, the shipped data, plain-data storage, validation."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from engine.calendar import (
    TIMEZONE,
    DayEntry,
    ScheduleError,
    WorkingCalendar,
    YearSchedule,
    default_calendar,
    shipped_defaults,
    statutory_schedule,
)

CAL = default_calendar()


def at(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=TIMEZONE)


def weekdays_off(cal: WorkingCalendar, year: int, month: int | None = None) -> set[date]:
    day, found = date(year, month or 1, 1), set()
    while day.year == year and (month is None or day.month == month):
        if day.weekday() < 5 and not cal.is_working_day(day):
            found.add(day)
        day += timedelta(1)
    return found


# -- years without an announced schedule ---------------------------------------------------


def test_2027_falls_back_to_the_statutory_holidays():
    assert not CAL.is_announced(2027)
    # Tết Đinh Mùi: mùng 1 is Sat 6 Feb 2027, so the days off are 29 Tết (Fri 5) to mùng 4
    # (Tue 9), and the Saturday and Sunday of Tết are given back on Wed 10 and Thu 11.
    assert weekdays_off(CAL, 2027, 2) == {date(2027, 2, d) for d in (5, 8, 9, 10, 11)}
    assert CAL.is_working_day(date(2027, 2, 4))  # no double shift to "29 Tết"
    assert CAL.is_working_day(date(2027, 2, 12))
    # Receipt Thu 4 Feb 16:00 (after the cut-off) + 1 day → the next working day is Fri 12.
    assert CAL.add_working_days(at(2027, 2, 4, 16), 1) == at(2027, 2, 12, 17)


def test_2027_other_statutory_days():
    assert not CAL.is_working_day(date(2027, 1, 1))
    assert not CAL.is_working_day(date(2027, 4, 16))  # Giỗ Tổ, 10/3 lunar
    assert not CAL.is_working_day(date(2027, 4, 30))
    # 1 May 2027 is a Saturday: the day in lieu is Monday 3 May, once.
    assert not CAL.is_working_day(date(2027, 5, 3))
    assert CAL.is_working_day(date(2027, 5, 4))
    assert not CAL.is_working_day(date(2027, 9, 2))
    assert not CAL.is_working_day(date(2027, 9, 3))  # the adjacent day of National Day
    assert weekdays_off(CAL, 2027) == {
        date(2027, 1, 1), *(date(2027, 2, d) for d in (5, 8, 9, 10, 11)), date(2027, 4, 16),
        date(2027, 4, 30), date(2027, 5, 3), date(2027, 9, 2), date(2027, 9, 3),
        date(2027, 11, 24),
    }


def test_2030_lunar_dates_and_weekend_shift():
    # Tết Canh Tuất on the Vietnamese lunar calendar: mùng 1 is Sat 2 Feb 2030.
    assert weekdays_off(CAL, 2030, 2) == {date(2030, 2, d) for d in (1, 4, 5, 6, 7)}
    assert not CAL.is_working_day(date(2030, 4, 12))  # Giỗ Tổ
    # 24 Nov 2030 is a Sunday → Monday 25 Nov.
    assert not CAL.is_working_day(date(2030, 11, 25))
    assert CAL.is_working_day(date(2030, 11, 26))


def test_statutory_schedule_leaves_out_the_packages_one_off_swaps():
    off_2025 = statutory_schedule(2025).off_dates
    off_2026 = statutory_schedule(2026).off_dates
    assert date(2025, 5, 2) not in off_2025
    assert date(2026, 8, 31) not in off_2026
    assert statutory_schedule(2026).working_days == ()


def test_statutory_2026_has_giỗ_tổ_in_lieu_on_monday_only():
    off = statutory_schedule(2026).off_dates
    assert {date(2026, 4, 26), date(2026, 4, 27)} <= off
    assert date(2026, 4, 28) not in off


def test_statutory_schedule_follows_the_weekend_it_is_given():
    # With Sunday as the only rest day, a Saturday holiday gets no day in lieu.
    sunday_only = statutory_schedule(2027, frozenset({6}))
    assert date(2027, 5, 3) not in sunday_only.off_dates  # 1 May is a Saturday
    assert date(2027, 2, 10) in sunday_only.off_dates  # for Sunday 7 Feb (mùng 2)
    assert date(2027, 2, 11) not in sunday_only.off_dates


def test_announced_schedules_move_days_but_keep_the_statutory_total():
    for year in (2025, 2026):
        announced = weekdays_off(CAL, year)
        statutory = weekdays_off(CAL.without_schedule(year), year)
        make_up = len(CAL.schedule_for(year).working_days)
        assert len(announced) - make_up == len(statutory), year
    assert weekdays_off(CAL, 2026) - weekdays_off(CAL.without_schedule(2026), 2026) == {
        date(2026, 1, 2)
    }
    assert weekdays_off(CAL.without_schedule(2026), 2026) <= weekdays_off(CAL, 2026)


# -- plain data ---------------------------------------------------------------------------


def test_the_shipped_calendar_round_trips_through_json():
    data = CAL.to_dict()
    assert data == shipped_defaults()
    rebuilt = WorkingCalendar.from_dict(json.loads(json.dumps(data)))
    assert rebuilt.to_dict() == data
    assert rebuilt.add_working_days(at(2026, 2, 12, 15, 30), 3) == at(2026, 2, 24, 17)


def test_data_format():
    data = CAL.to_dict()
    assert data["format"] == 1
    assert data["periods"] == [["07:00", "11:30"], ["13:30", "17:00"]]
    assert data["weekend"] == ["sat", "sun"]
    assert data["receipt_cutoff"] == "15:00"
    assert [s["year"] for s in data["schedules"]] == [2025, 2026]
    y2026 = data["schedules"][1]
    assert {"date": "2026-01-10", "name": "Làm bù cho thứ Sáu 02/01/2026"} in y2026["working_days"]
    assert all(set(e) == {"date", "name"} for e in y2026["days_off"])


def test_a_year_schedule_round_trips():
    schedule = CAL.schedule_for(2025)
    assert YearSchedule.from_dict(schedule.to_dict()) == schedule
    statutory = statutory_schedule(2031)
    assert YearSchedule.from_dict(json.loads(json.dumps(statutory.to_dict()))) == statutory


def test_an_admin_edited_year_replaces_the_fallback():
    # A hypothetical 2027 announcement: Fri 30 Apr – Mon 3 May off, Sat 8 May worked.
    edited = YearSchedule.from_dict({
        "year": 2027,
        "source": "admin",
        "days_off": [{"date": "2027-01-01", "name": "Tết Dương lịch"},
                     {"date": "2027-04-30", "name": "30/4"},
                     {"date": "2027-05-03", "name": "bù 1/5"}],
        "working_days": [{"date": "2027-05-08", "name": "làm bù"}],
    })
    cal = CAL.with_schedule(edited)
    assert cal.is_announced(2027) and not CAL.is_announced(2027)
    assert cal.is_working_day(date(2027, 5, 8))
    assert cal.is_working_day(date(2027, 2, 8))  # this schedule has no Tết: it is complete
    assert not cal.is_working_day(date(2027, 5, 3))
    assert cal.add_working_days(at(2027, 5, 7, 16), 1) == at(2027, 5, 8, 17)
    assert cal.without_schedule(2027).to_dict() == CAL.to_dict()


def test_without_a_schedule_2026_swaps_disappear():
    plain = CAL.without_schedule(2026)
    assert plain.is_working_day(date(2026, 1, 2))
    assert not plain.is_working_day(date(2026, 1, 10))


def test_day_entries():
    entry = DayEntry(date(2026, 1, 10), "làm bù")
    assert DayEntry.from_dict(entry.to_dict()) == entry
    with pytest.raises(ScheduleError):
        DayEntry(datetime(2026, 1, 10, 8, 0), "x")


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"year": 2026, "days_off": [{"date": "2025-12-31"}]}, "days_off"),
        ({"year": 2026, "days_off": [{"date": "2026-02-30"}]}, "days_off[0].date"),
        ({"year": 2026, "days_off": [{"date": "2026-01-01"}, {"date": "2026-01-01"}]}, "twice"),
        ({"year": 2026, "days_off": [{"date": "2026-01-10"}],
          "working_days": [{"date": "2026-01-10"}]}, "working_days"),
        ({"year": "2026"}, "year"),
        ({"year": 2026, "days_off": "2026-01-01"}, "days_off"),
        ({"year": 2026, "days_off": [{"date": 20260101}]}, "days_off[0].date"),
        ({"year": 2026, "holidays": []}, "holidays"),
    ],
)
def test_bad_year_schedules_name_the_field(data, where):
    with pytest.raises(ScheduleError) as info:
        YearSchedule.from_dict(data)
    assert str(info.value).startswith("schedule")
    assert where in str(info.value)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"periods": [["07:00", "11:30"], ["11:00", "17:00"]]}, "periods[1]"),
        ({"periods": [["17:00", "07:00"]]}, "periods[0]"),
        ({"periods": []}, "periods"),
        ({"periods": [["7h", "11:30"]]}, "periods[0].start"),
        ({"receipt_cutoff": "25:00"}, "receipt_cutoff"),
        ({"weekend": ["sat", "dim"]}, "weekend"),
        ({"weekend": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}, "weekend"),
        ({"format": 2}, "format"),
        ({"timezone": "UTC"}, "timezone"),
        ({"schedules": [{"year": 2026}, {"year": 2026}]}, "2026"),
        ({"schedules": [{"year": 2026, "days_off": [{"date": "x"}]}]}, "schedules[0].days_off[0]"),
    ],
)
def test_bad_calendars_name_the_field(data, where):
    with pytest.raises(ScheduleError) as info:
        WorkingCalendar.from_dict(data)
    assert where in str(info.value)


def test_missing_keys_take_the_defaults():
    cal = WorkingCalendar.from_dict({})
    assert cal.minutes_per_day == 480
    assert cal.receipt_cutoff.hour == 15
    assert cal.schedules == {}
    assert not cal.is_working_day(date(2026, 2, 17))  # statutory Tết still applies


def test_a_configured_cut_off_and_weekend():
    cal = WorkingCalendar.from_dict({"receipt_cutoff": "16:00", "weekend": ["sun"]})
    assert cal.add_working_time(at(2027, 3, 10, 15, 30), 30) == at(2027, 3, 10, 16, 0)
    assert cal.is_working_day(date(2027, 3, 13))  # Saturday
    assert cal.add_working_time(at(2027, 3, 12, 16, 30), 30) == at(2027, 3, 13, 7, 30)
