"""The admin calendar pages through the real web stack: edit, prefill, reset, refusals, messages."""
from __future__ import annotations

import html
import json
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.calendar import TIMEZONE, default_calendar, statutory_schedule
from services import calendar as store
from services.models import AuditEvent
from tests.conftest import csrf_token, login

YEAR_PAGE = "/admin/calendar/2027"


def _statutory_lines(year):
    return "\n".join(f"{e.day:%d/%m/%Y} {e.name}" for e in statutory_schedule(year).days_off)


def _text(response) -> str:
    """The page's visible text, one space between words."""
    visible = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(visible))


def _field_error(response, field) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.get_data(as_text=True))
    assert match, f"no error next to {field}"
    return html.unescape(match.group(1))


def _post_year(client, days_off, working_days="", revision="0", path=YEAR_PAGE):
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, "revision": revision,
                                   "days_off": days_off, "working_days": working_days})


def _state(db_session):
    db_session.rollback()  # end the read snapshot: see what the requests committed
    return store.load_state(db_session)


def test_admin_edits_a_year_and_due_dates_follow(client, db_session):
    login(client, "admin")
    years = _text(client.get("/admin/calendar"))
    assert "Lịch làm việc" in years and "Lịch đã công bố (có sẵn)" in years
    assert "Chỉ ngày nghỉ lễ theo luật" in years  # 2027 has no announced schedule
    page = _text(client.get(YEAR_PAGE))
    assert "01/01/2027 Thứ Sáu Tết Dương lịch" in page

    response = _post_year(client, _statutory_lines(2027) + "\n05/03/2027 Nghỉ thử nghiệm",
                          "13/03/2027 Làm bù cho thứ Sáu 05/03/2027")
    assert response.status_code == 302 and response.headers["Location"].endswith(YEAR_PAGE)
    page = _text(client.get(YEAR_PAGE))
    assert "Đã lưu lịch năm 2027." in page and "Do quản trị viên lưu" in page
    assert "05/03/2027 Thứ Sáu Nghỉ thử nghiệm" in page
    assert "13/03/2027 Thứ Bảy Làm bù cho thứ Sáu 05/03/2027" in page

    # A due date computed afterwards, as receipt does, skips the new day off.
    start = datetime(2027, 3, 4, 8, 0, tzinfo=TIMEZONE)
    due = store.current_calendar(db_session).add_working_days(start, 1)
    assert due == datetime(2027, 3, 8, 8, 0, tzinfo=TIMEZONE)
    assert default_calendar().add_working_days(start, 1) == datetime(2027, 3, 5, 8, 0, tzinfo=TIMEZONE)
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_changed"))
    assert event.actor == "admin" and json.loads(event.payload)["days_off"]["added"] == [
        {"date": "2027-03-05", "name": "Nghỉ thử nghiệm"}]


def test_a_range_line_gives_every_day(client, db_session):
    login(client, "admin")
    assert _post_year(client, "01/03/2027-03/03/2027 Nghỉ đợt").status_code == 302
    days = [e.day for e in _state(db_session).calendar.schedule_for(2027).days_off]
    assert days == [date(2027, 3, 1), date(2027, 3, 2), date(2027, 3, 3)]


def test_prefill_from_statutory_and_reset(client, db_session):
    login(client, "admin")
    page = _text(client.get("/admin/calendar/2026?prefill=statutory"))
    assert "Đã điền sẵn các ngày nghỉ lễ theo luật của năm 2026" in page
    first = statutory_schedule(2026).days_off[1]
    assert f"{first.day:%d/%m/%Y} {first.name}" in page
    assert "Khôi phục mặc định" not in page  # nothing stored for 2026 yet

    assert _post_year(client, "01/01/2026 Tết Dương lịch", path="/admin/calendar/2026").status_code == 302
    state = _state(db_session)
    assert state.origin(2026) == "stored" and state.calendar.is_working_day(date(2026, 2, 17))
    token = csrf_token(client, "/admin/calendar/2026")
    response = client.post("/admin/calendar/2026/reset", data={"csrf_token": token, "revision": "1"})
    assert response.status_code == 302
    assert "Lịch năm 2026 đã được khôi phục mặc định." in _text(client.get("/admin/calendar/2026"))
    state = _state(db_session)
    assert state.origin(2026) == "shipped" and not state.calendar.is_working_day(date(2026, 2, 17))


@pytest.mark.parametrize("path", ["/admin/calendar", YEAR_PAGE])
def test_an_official_gets_403(client, db_session, path):
    login(client, "chuyenvien")
    assert client.get(path).status_code == 403
    token = csrf_token(client, "/")
    response = client.post(YEAR_PAGE, data={"csrf_token": token, "revision": "0",
                                            "days_off": "05/03/2027 Nghỉ", "working_days": ""})
    assert response.status_code == 403
    assert _state(db_session).revision == 0


def test_anonymous_is_sent_to_login(client):
    response = client.get(YEAR_PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_post_without_a_valid_csrf_token_is_refused(client, db_session, token):
    login(client, "admin")
    data = {"revision": "0", "days_off": "05/03/2027 Nghỉ", "working_days": ""}
    if token:
        data["csrf_token"] = token
    response = client.post(YEAR_PAGE, data=data)
    assert response.status_code == 400
    assert "Mã bảo mật của biểu mẫu bị thiếu hoặc đã hết hạn" in _text(response)
    reset = client.post("/admin/calendar/2026/reset", data={"revision": "0"})
    assert reset.status_code == 400
    assert _state(db_session).revision == 0


def test_validation_message_next_to_the_field_in_vietnamese_and_english(client, db_session):
    login(client, "admin")
    response = _post_year(client, "05/03/2027 Nghỉ", "\n10/03/2027 Thứ Tư")
    assert response.status_code == 400
    assert _field_error(response, "working_days") == (
        "Dòng 2: Ngày 10/03/2027 là ngày làm việc bình thường: ngày làm bù phải là thứ Bảy hoặc Chủ nhật.")
    assert "10/03/2027 Thứ Tư" in response.get_data(as_text=True)  # what was typed is kept

    response = _post_year(client, "05/03/2027 Nghỉ\n\nxx ngày\n")
    assert _field_error(response, "days_off") == "Dòng 3: 'xx ngày' không bắt đầu bằng một ngày dd/mm/yyyy."
    response = _post_year(client, "31/02/2027 Nghỉ")
    assert _field_error(response, "days_off") == "Dòng 1: '31/02/2027 Nghỉ' không phải là ngày hợp lệ."

    client.get("/lang/en")
    response = _post_year(client, "05/03/2027 Nghỉ", "\n10/03/2027 Thứ Tư")
    assert response.status_code == 400
    assert _field_error(response, "working_days") == (
        "Line 2: 10/03/2027 is a weekday, already worked: a make-up working day must be a Saturday or a Sunday.")
    response = _post_year(client, "05/03/2027 Nghỉ\n01/01/2028 Tết")
    assert _field_error(response, "days_off") == "Line 2: 01/01/2028 is not in 2027."
    assert _state(db_session).revision == 0


def test_two_admins_editing_at_once_the_second_gets_a_conflict(client, app, db_session):
    login(client, "admin")
    other = app.test_client()
    login(other, "admin")
    assert _post_year(client, "05/03/2027 Nghỉ của người thứ nhất").status_code == 302
    response = _post_year(other, "08/03/2027 Nghỉ của người thứ hai", revision="0")
    assert response.status_code == 409
    assert re.search(r"Lịch đã được admin thay đổi lúc \d\d/\d\d/\d{4} \d\d:\d\d sau khi bạn mở trang",
                     _text(response))
    names = [e.name for e in _state(db_session).calendar.schedule_for(2027).days_off]
    assert names == ["Nghỉ của người thứ nhất"]


def test_working_hours_form(client, db_session):
    login(client, "admin")
    token = csrf_token(client, "/admin/calendar")
    response = client.post("/admin/calendar/settings", data={
        "csrf_token": token, "revision": "0", "periods": "7h-11:30, 13:30-17:00", "receipt_cutoff": "15:00"})
    assert response.status_code == 400
    assert _field_error(response, "periods") == "'7h-11:30' không phải là một buổi làm việc dạng HH:MM-HH:MM."
    response = client.post("/admin/calendar/settings", data={
        "csrf_token": token, "revision": "0", "periods": "07:30-11:30; 13:00-17:00", "receipt_cutoff": "16:00"})
    assert response.status_code == 302
    assert "Đã lưu giờ làm việc." in _text(client.get("/admin/calendar"))
    calendar = _state(db_session).calendar
    assert f"{calendar.receipt_cutoff:%H:%M}" == "16:00" and calendar.periods[0][0].minute == 30


@pytest.mark.parametrize("path", ["/admin/calendar/1800", "/admin/calendar/2101"])
def test_a_year_outside_the_calendar_is_404(client, path):
    login(client, "admin")
    assert client.get(path).status_code == 404


def test_nav_links_to_the_calendar(client):
    login(client, "admin")
    assert 'href="/admin/calendar"' in client.get("/admin/users").get_data(as_text=True)


@pytest.mark.parametrize("line", ["31/12/9999 Tận thế", "30/12/9999-31/12/9999 Nghỉ", "01/01/0001 Đầu"])
def test_a_day_at_the_end_of_the_date_range_is_a_line_error_not_a_500(client, db_session, line):
    """Issue 11 (fuzz over every route): stepping past 31/12/9999 overflowed Python's date."""
    login(client, "admin")
    response = _post_year(client, line)
    assert response.status_code == 400
    assert "Dòng 1" in _text(response) or "2027" in _text(response)
    assert db_session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "calendar_changed")) is None
