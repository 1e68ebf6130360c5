"""`quytrinh calendar` per the CLI contract: no Flask app, no database, one-line errors, exit 2."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.calendar import default_calendar
from web.commands.calendar import calendar_group


def run(*args: str):
    return CliRunner().invoke(calendar_group, list(args))


def test_the_design_example():
    result = run("due", "--from", "2026-02-12T15:30", "--working-days", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout == "2026-02-24T17:00:00+07:00\n"
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (["--from", "2026-03-11T08:00", "--hours", "8"], "2026-03-12T08:00:00+07:00"),
        (["--from", "2026-03-11T11:00", "--hours", "1"], "2026-03-11T14:00:00+07:00"),
        (["--from", "2026-03-11T15:00", "--minutes", "120"], "2026-03-11T17:00:00+07:00"),
        (["--from", "2026-03-11T15:01", "--minutes", "60"], "2026-03-12T08:00:00+07:00"),
        (["--from", "2026-03-11T15:30", "--minutes", "60", "--no-cutoff"],
         "2026-03-11T16:30:00+07:00"),
        (["--from", "2026-03-09T07:00", "--working-days", "0,5"], "2026-03-09T11:00:00+07:00"),
        (["--from", "2026-03-09T07:00", "--working-days", "1.5"], "2026-03-10T11:00:00+07:00"),
        # 01:00 UTC is 08:00 in Hà Nội.
        (["--from", "2026-03-11T01:00:00Z", "--hours", "1"], "2026-03-11T09:00:00+07:00"),
        (["--from", "2026-01-09T16:00", "--working-days", "1"], "2026-01-10T17:00:00+07:00"),
        (["--from", "2027-02-04T16:00", "--working-days", "1"], "2027-02-12T17:00:00+07:00"),
        (["--from", "2026-03-11T09:17", "--minutes", "0"], "2026-03-11T09:17:00+07:00"),
    ],
)
def test_due(args, printed):
    result = run("due", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == printed + "\n"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--from", "2026-02-30T08:00", "--working-days", "1"], "--from"),
        (["--from", "hôm nay", "--working-days", "1"], "--from"),
        (["--from", "", "--working-days", "1"], "--from"),
        (["--from", "2026-02-12T25:30", "--hours", "1"], "--from"),
        (["--from", "1800-01-01T08:00", "--hours", "1"], "--from"),
        (["--working-days", "1"], "--from"),
        (["--from", "2026-02-12T15:30", "--working-days", "-1"], "--working-days"),
        (["--from", "2026-02-12T15:30", "--working-days", "ba"], "--working-days"),
        (["--from", "2026-02-12T15:30", "--working-days", "nan"], "--working-days"),
        (["--from", "2026-02-12T15:30", "--hours", "-0.5"], "--hours"),
        (["--from", "2026-02-12T15:30", "--minutes", "1.5"], "--minutes"),
        (["--from", "2026-02-12T15:30", "--minutes", "-3"], "--minutes"),
        (["--from", "2026-02-12T15:30", "--hours", "1e9"], "--hours"),
        (["--from", "2026-02-12T15:30"], "--working-days"),
        (["--from", "2026-02-12T15:30", "--hours", "1", "--minutes", "3"], "--hours và --minutes"),
    ],
)
def test_bad_input_is_one_line_naming_the_option_and_exit_2(args, option):
    result = run("due", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Lỗi: ")
    assert option in lines[0]
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_show_an_announced_year():
    result = run("show", "--year", "2026")
    assert result.exit_code == 0, result.output
    assert "lịch nghỉ đã công bố" in result.stdout
    assert "2026-02-16 Thứ Hai" in result.stdout
    assert "2026-01-10 Thứ Bảy" in result.stdout
    assert f"Số ngày làm việc trong năm: {default_calendar().working_day_count(2026)}." in result.stdout


def test_show_a_fallback_year():
    result = run("show", "--year", "2027")
    assert result.exit_code == 0, result.output
    assert "chưa có lịch công bố" in result.stdout
    assert "2027-02-10 Thứ Tư" in result.stdout
    assert "Ngày làm bù: không có." in result.stdout


def test_show_json_is_the_stored_form():
    result = run("show", "--year", "2026", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == default_calendar().schedule_for(2026).to_dict()


@pytest.mark.parametrize("year", ["abc", "1800", "2101"])
def test_show_bad_year(year):
    result = run("show", "--year", year)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--year" in result.stderr


def test_the_quytrinh_entry_point_needs_no_database(monkeypatch, capsys):
    # An unusable database setting must not matter: the command never opens the app or the DB.
    monkeypatch.setenv("DATABASE_URL", "nonsense://nowhere")
    from web.cli import main

    assert main(["calendar", "due", "--from", "2026-02-12T15:30", "--working-days", "3"]) == 0
    assert capsys.readouterr().out == "2026-02-24T17:00:00+07:00\n"
    assert main(["calendar", "due", "--from", "x", "--working-days", "3"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "--from" in captured.err
