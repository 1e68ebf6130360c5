"""Far dates in queries, and old bad rows on the pages that read them (issue #11, findings 2 and 6).

A date typed into a filter that the working calendar cannot compute with is a 400 naming the
field, never a 500; a dossier whose stored dates are out of the calendar's range (as the unbounded
apology letter left one) is shown as such by every page that reads it.
"""
from __future__ import annotations

import html as html_lib

import pytest
from sqlalchemy import text

from services import dossiers
from tests.conftest import login
from tests.dossier_helpers import procedure, user, vn

T0 = vn(2026, 11, 23, 8)


@pytest.mark.parametrize("args, field", [
    ("from=0001-01-01&to=9999-12-31", "from"),
    ("from=01/01/2026&to=9999-12-31", "to"),
    ("from=01/01/2026&to=31/12/9999", "to"),
    ("from=01/01/1900&to=01/01/2026", "from"),
    ("month=01/0001", "month"),
    ("month=12/9999", "month"),
    ("month=0001-01", "month"),
])
def test_report_periods_outside_the_calendar_are_a_400_naming_the_field(client, args, field):
    login(client, "thanhtra")
    for path in ("/reports/", "/reports/compliance", "/reports/heatmap"):
        response = client.get(f"{path}?{args}")
        page = html_lib.unescape(response.get_data(as_text=True))
        assert response.status_code == 400, (path, args)
        if path == "/reports/heatmap":  # no period fields until a version has dossiers
            continue
        assert f'id="r-{field}-error"' in page, (path, args)
        assert "nằm ngoài khoảng thời gian lịch làm việc hỗ trợ (từ 01/01/1901 00:00 đến 31/12/2100 23:59)" \
            in page or "không phải là" in page, (path, args)


def test_the_last_day_the_calendar_supports_is_accepted(client):
    login(client, "thanhtra")
    assert client.get("/reports/?from=01/12/2100&to=31/12/2100").status_code == 200
    assert client.get("/reports/?month=12/2100").status_code == 200


@pytest.mark.parametrize("args", ["from=0001-01-01&to=9999-12-31", "from=01/01/0001", "to=31/12/9999"])
def test_audit_log_filters_outside_the_calendar_are_a_400(client, args):
    login(client, "thanhtra")
    response = client.get(f"/audit/?{args}")
    assert response.status_code == 400
    assert "lịch làm việc hỗ trợ" in html_lib.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("args", ["received_from=01/01/0001", "received_to=31/12/9999"])
def test_inbox_received_filters_outside_the_calendar_are_a_400(client, args):
    login(client, "motcua")
    response = client.get(f"/inbox?{args}")
    assert response.status_code == 400
    assert "lịch làm việc hỗ trợ" in html_lib.unescape(response.get_data(as_text=True))


# -- an old bad row ------------------------------------------------------------------------------------

BAD_ROWS = {
    # The apology letter's 31/12/9999, stored late in the day: its local time does not even exist.
    "due in 9999": {"dossiers": {"due_at": "9999-12-31 23:59:59.000000"},
                    "dossier_steps": {"due_at": "9999-12-31 23:59:59.000000"}},
    "due in 2101": {"dossiers": {"due_at": "2101-06-01 03:00:00.000000"},
                    "dossier_steps": {"due_at": "2101-06-01 03:00:00.000000"}},
    "received in year 1": {"dossiers": {"received_at": "0001-01-01 00:00:00.000000"},
                           "dossier_steps": {"started_at": "0001-01-01 00:00:00.000000"}},
}


@pytest.fixture(params=sorted(BAD_ROWS))
def bad(request, db_session):
    dossier = dossiers.receive(db_session, user(db_session, "motcua"),
                               procedure_id=procedure(db_session, "1.003822").id, applicant_name="Hồ sơ hỏng",
                               received_at=T0, now=T0)
    db_session.rollback()
    for table, columns in BAD_ROWS[request.param].items():
        key = "id" if table == "dossiers" else "dossier_id"
        for column, value in columns.items():
            db_session.execute(text(f"UPDATE {table} SET {column} = :v WHERE {key} = :id"),
                               {"v": value, "id": dossier.id})
    db_session.commit()
    return request.param, dossier.code


def test_pages_that_read_a_bad_row_answer_200_and_show_it(app, client, bad):
    kind, code = bad
    login(client, "motcua")
    for path in (f"/dossiers/{code}", "/desk", "/desk?status=all", "/inbox", f"/desk/dossiers/{code}/receipt",
                 f"/desk/dossiers/{code}/apology"):
        response = client.get(path)
        assert response.status_code == 200, (kind, path)
        assert "Traceback" not in response.get_data(as_text=True)
    page = html_lib.unescape(client.get(f"/dossiers/{code}").get_data(as_text=True))
    assert '<html lang="vi">' in page  # the date filters' fallback leaves the page's context alone
    if kind.startswith("due"):
        assert "Hạn trả ngoài phạm vi lịch làm việc" in page, kind  # the badge, not a guess
        assert ("31/12/9999 23:59 UTC" if kind == "due in 9999" else "01/06/2101 10:00") in page
    client = app.test_client()
    login(client, "thanhtra")
    for path in ("/reports/", "/reports/compliance", "/reports/heatmap", f"/dossiers/{code}", "/audit/"):
        response = client.get(path)
        assert response.status_code == 200, (kind, path)
    report = html_lib.unescape(client.get("/reports/").get_data(as_text=True))
    if kind.startswith("due"):
        assert "Hạn trả ngoài phạm vi lịch làm việc" in report and code in report


def test_the_end_of_the_supported_range_survives_the_round_trip_of_the_audit_links(client):
    """The search page and its export link keep a period at the calendar's last month."""
    login(client, "thanhtra")
    response = client.get("/audit/", query_string={"from": "01/12/2100", "to": "31/12/2100"})
    assert response.status_code == 200
    page = html_lib.unescape(response.get_data(as_text=True))
    assert "from=01/12/2100" in page and "to=31/12/2100" in page
    assert client.get("/audit/export.jsonl", query_string={"from": "01/12/2100", "to": "31/12/2100"}).status_code == 200
