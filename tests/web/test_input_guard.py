"""Malformed input is a 4xx naming the field, never a 500 (issue #11, finding 6; web/input_guard.py).

The cases the attack found — a NUL in a field or a query, an id past the integer columns — and the
rest of the guard's rule: lone surrogates (JSON), other control characters, headers, multipart file
names, integer and page query parameters. On SQLite a NUL was stored as typed; PostgreSQL refuses
it (tests/postgres/test_input_fuzz_pg.py sends the same there).
"""
from __future__ import annotations

import html
import io
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from services.models import AuditEvent, Dossier
from tests.conftest import csrf_token, login
from web import input_guard


def _message(response) -> str:
    match = re.search(r"<h1>.*?</h1>\s*<p>(.*?)</p>", response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)[:500]
    return html.unescape(match.group(1))


def _counts(db_session) -> tuple[int, int]:
    db_session.rollback()
    return db_session.scalar(select(func.count(Dossier.id))), db_session.scalar(select(func.count(AuditEvent.seq)))


def _receive(client, **fields):
    data = {"csrf_token": csrf_token(client, "/desk/receive"), "procedure_id": "1",
            "applicant_name": "Công ty Xây dựng", **fields}
    return client.post("/desk/receive", data=data)


def test_a_nul_in_a_form_field_is_a_400_naming_it_in_vietnamese_and_nothing_is_saved(client, db_session):
    login(client, "motcua")
    before = _counts(db_session)
    response = _receive(client, applicant_name="ab\x00cd")
    assert response.status_code == 400
    assert _message(response) == ("Trường biểu mẫu “applicant_name” chứa một ký tự không được phép (U+0000) "
                                  "ở vị trí 3. Hãy xoá ký tự đó rồi thử lại.")
    assert _counts(db_session) == before


def test_the_message_follows_the_chosen_language(client):
    login(client, "motcua")
    client.get("/lang/en")
    response = client.get("/inbox?code=%00")
    assert response.status_code == 400
    assert _message(response).startswith("The query parameter “code” contains a character that is not allowed "
                                         "(U+0000) at position 1.")


@pytest.mark.parametrize("url, where", [
    ("/inbox?code=%00", "Tham số truy vấn “code”"),
    ("/inbox?status=ok%1B%5B2J", "Tham số truy vấn “status”"),
    ("/inbox?a%00b=1", "Tên tham số truy vấn “aU+0000b”"),
    ("/dossiers/H01.15%00", "Địa chỉ (URL)"),
])
def test_a_control_character_in_the_query_or_the_path_is_a_400_naming_where(client, url, where):
    login(client, "chuyenvien")
    response = client.get(url)
    assert response.status_code == 400
    assert _message(response).startswith(where + " chứa một ký tự không được phép")


def test_a_nul_in_a_header_is_a_400_naming_the_header(client):
    login(client, "chuyenvien")
    response = client.get("/inbox", headers={"HX-Request": "tr\x00ue"})
    assert response.status_code == 400 and "Tiêu đề HTTP “Hx-Request”" in _message(response)


def test_tab_and_new_lines_are_text_but_escape_and_del_are_not(client, db_session):
    login(client, "motcua")
    address = "12 Trần Hưng Đạo\r\nLong Xuyên\tAn Giang"
    assert _receive(client, applicant_address=address).status_code == 302
    db_session.rollback()
    assert db_session.scalar(select(Dossier.applicant_address).order_by(Dossier.id.desc()).limit(1)) == address
    for bad in ("\x1b[31m", "\x7f", "\x85"):
        response = _receive(client, applicant_address=f"12 {bad}")
        assert response.status_code == 400 and "“applicant_address”" in _message(response), bad


def test_right_to_left_and_zero_width_characters_are_kept_as_text(client, db_session):
    login(client, "motcua")
    assert _receive(client, applicant_name="Nguyễn\u202eVăn\u200bA").status_code == 302
    db_session.rollback()
    assert db_session.scalar(select(Dossier.applicant_name).order_by(Dossier.id.desc()).limit(1)) == \
        "Nguyễn\u202eVăn\u200bA"


def test_a_multipart_file_name_with_a_nul_is_a_400_naming_the_field(client, db_session):
    from tests.web.test_documents import PDF
    from tests.web.test_inbox import at_step

    _dossier, step = at_step(db_session, "Task_ThamDinh")
    login(client, "chuyenvien.noivu")
    token = csrf_token(client, f"/tasks/{step.id}")
    response = client.post(f"/tasks/{step.id}/documents", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(PDF), "don\x00.pdf")})
    assert response.status_code == 400 and _message(response).startswith("Tên tệp trong trường “file”")


def test_a_lone_surrogate_in_a_json_body_is_a_json_400_naming_its_path(app):
    from web.extensions import csrf

    @app.post("/api/echo")
    @csrf.exempt  # a JSON API authenticates otherwise; the guard is what is tested
    def _echo():
        from flask import request
        return {"got": request.get_json()}

    client = app.test_client()
    response = client.post("/api/echo", data=b'{"items": [{"name": "a\\ud800b"}]}', content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "$.items[0].name" and "(U+D800) ở vị trí 2" in error["message"]
    assert client.post("/api/echo", json={"name": "Nguyễn Văn A"}).get_json() == {"got": {"name": "Nguyễn Văn A"}}


@pytest.mark.parametrize("url", ["/tasks/9223372036854775808", "/tasks/99999999999999999999999",
                                 "/tasks/2147483648", "/tasks/%D9%A1%D9%A2", "/tasks/-1"])
def test_an_id_no_column_can_hold_is_a_404(client, url):
    """2**31 already overflows PostgreSQL's INTEGER ids; Arabic-Indic digits are not an id either."""
    login(client, "chuyenvien")
    response = client.get(url)
    assert response.status_code == 404 and "không tồn tại" in _message(response)


def test_every_int_route_matches_up_to_the_largest_id_and_no_further(app):
    adapter = app.url_map.bind("localhost")
    assert adapter.match(f"/tasks/{input_guard.MAX_ID}") == ("tasks.show", {"step_id": input_guard.MAX_ID})
    assert adapter.match("/tasks/007") == ("tasks.show", {"step_id": 7})
    int_rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(int_rules) > 20
    assert all(type(c) is input_guard.BoundedIntConverter
               for r in int_rules for c in r._converters.values() if "Int" in type(c).__name__)


@pytest.mark.parametrize("value", ["9223372036854775808", "abc", "-1", "²", "1e3"])
def test_an_integer_query_parameter_out_of_range_is_a_400_naming_it(client, value):
    login(client, "chutich")
    response = client.get(f"/reports/?agency={value}")
    assert response.status_code == 400
    assert _message(response).startswith("Tham số truy vấn “agency” phải là một số nguyên từ 0 đến 2147483647")


def test_an_empty_integer_query_parameter_means_no_filter(client):
    login(client, "chutich")
    assert client.get("/reports/?agency=&procedure=").status_code == 200


def test_the_inbox_procedure_filter_names_its_field(client):
    login(client, "chuyenvien")
    for value in ("²", "9223372036854775808"):
        response = client.get(f"/inbox?procedure={value}")
        assert response.status_code == 400 and "Hãy chọn thủ tục trong danh sách" in response.get_data(as_text=True)


@pytest.mark.parametrize("url, username", [
    ("/desk?page=99999999999999999999", "motcua"), ("/desk?page=-3", "motcua"),
    ("/notifications?page=%C2%B2", "chuyenvien"), ("/inbox?page=%C2%B2", "chuyenvien"),
    ("/audit/?page=99999999999999999999", "thanhtra"),
])
def test_a_page_number_out_of_range_shows_the_first_page(client, url, username):
    login(client, username)
    assert client.get(url).status_code == 200


def test_a_calendar_year_that_is_not_a_number_is_refused_with_a_message(client):
    login(client, "admin")
    response = client.get("/admin/calendar?year=%C2%B2", follow_redirects=True)
    assert response.status_code == 200 and "Năm phải nằm trong khoảng" in response.get_data(as_text=True)


def test_the_guard_is_registered_before_the_routes():
    app = Flask(__name__)
    app.add_url_rule("/x/<int:n>", "x", lambda n: "")
    with pytest.raises(RuntimeError):
        input_guard.register(app)


def test_whole_number_takes_ascii_digits_within_bounds_only():
    assert input_guard.whole_number(" 42 ") == 42 and input_guard.whole_number("+7") == 7
    for text in ("1_000", "١٢", "²", "1e3", "0x1F", "", None, "9" * 5000, str(input_guard.MAX_ID + 1), "-1"):
        assert input_guard.whole_number(text) is None, text
    assert input_guard.whole_number("-1", low=-5) == -1
