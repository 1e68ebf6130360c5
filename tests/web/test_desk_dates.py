"""Dates and national formats the desk is given (issue #11, findings 2 and 2b), through HTTP.

An apology letter's new return date is bounded (after the current one, within a horizon of working
days), falls in working time, and its messages show local time; a receipt time is bounded; the
applicant's ID number, phone and e-mail follow the national formats, refused by the use case with
nothing saved and no dossier code consumed.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from services import dossiers
from services.models import ApologyLetter, AuditEvent, Dossier, DossierSequence
from tests.conftest import csrf_token, login
from tests.dossier_helpers import procedure, user, vn
from tests.web.test_desk import _field_errors, _receive_data

T0 = vn(2026, 3, 2, 9, 0)  # Monday; 7 working days later: Wednesday 11/03/2026 09:00


@pytest.fixture
def dossier(db_session):
    return dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, "1.003822").id,
                            applicant_name="Hội Nhà báo tỉnh", received_at=T0, now=T0)


@pytest.fixture
def desk(client):
    login(client, "motcua")
    return client


def _reload(db_session, code: str) -> Dossier:
    db_session.rollback()
    return db_session.scalar(select(Dossier).where(Dossier.code == code))


def _letters(db_session) -> int:
    db_session.rollback()
    return db_session.scalar(select(func.count(ApologyLetter.id)))


def _apology(desk, code: str, new_due_at: str):
    path = f"/desk/dossiers/{code}/apology"
    return desk.post(path, data={"csrf_token": csrf_token(desk, path), "reason": "Chờ ý kiến Sở Tư pháp.",
                                 "new_due_at": new_due_at})


# -- finding 2: the new return date is bounded -----------------------------------------------------

@pytest.mark.parametrize("text", ["31/12/9999 17:00", "31/12/2099 17:00", "01/01/2101"])
def test_a_far_new_return_date_is_refused_naming_the_field(desk, db_session, dossier, text):
    due = _reload(db_session, dossier.code).due_at
    response = _apology(desk, dossier.code, text)
    assert response.status_code == 400
    errors = _field_errors(response.get_data(as_text=True), "new_due_at")
    # The horizon: 60 working days after the current return date 11/03/2026 09:00.
    assert errors == ["Ngày hẹn trả mới không được quá 60 ngày làm việc sau ngày hẹn hiện tại: "
                      "chậm nhất là 08/06/2026 09:00."], errors
    assert _letters(db_session) == 0 and _reload(db_session, dossier.code).due_at == due


def test_an_extension_inside_the_horizon_is_issued(desk, db_session, dossier):
    response = _apology(desk, dossier.code, "08/06/2026 09:00")  # the last instant allowed (3 holidays)
    assert response.status_code == 302, _field_errors(response.get_data(as_text=True), "new_due_at")
    assert _reload(db_session, dossier.code).due_at == vn(2026, 6, 8, 9, 0)
    assert _letters(db_session) == 1


def test_the_horizon_is_a_setting(app, desk, db_session, dossier):
    app.config["QUYTRINH_MAX_EXTENSION_WORKING_DAYS"] = 5
    response = _apology(desk, dossier.code, "19/03/2026 09:00")  # 6 working days after 11/03 09:00
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "new_due_at") == [
        "Ngày hẹn trả mới không được quá 5 ngày làm việc sau ngày hẹn hiện tại: chậm nhất là 18/03/2026 09:00."]
    assert _apology(desk, dossier.code, "18/03/2026 09:00").status_code == 302


def test_not_after_the_current_date_says_it_in_local_time(desk, db_session, dossier):
    response = _apology(desk, dossier.code, "10/03/2026 10:00")
    assert response.status_code == 400
    errors = _field_errors(response.get_data(as_text=True), "new_due_at")
    assert errors == ["Ngày hẹn trả mới phải sau ngày hẹn hiện tại (11/03/2026 09:00)."], errors
    assert "Z" not in errors[0] and "T02:00" not in errors[0]
    assert _letters(db_session) == 0


# -- finding 2b: a date given to a citizen falls in working time -----------------------------------

@pytest.mark.parametrize("text, shown, proposed", [
    ("15/03/2026", "15/03/2026 17:00", "16/03/2026 07:00"),        # a Sunday (17:00: the end of the day)
    ("14/03/2026 09:00", "14/03/2026 09:00", "16/03/2026 07:00"),  # a Saturday
    ("13/03/2026 12:15", "13/03/2026 12:15", "13/03/2026 13:30"),  # the lunch break
    ("13/03/2026 19:00", "13/03/2026 19:00", "16/03/2026 07:00"),  # the evening
    ("30/04/2026 10:00", "30/04/2026 10:00", "04/05/2026 07:00"),  # a public holiday (30/4 and 1/5)
])
def test_a_new_return_date_outside_working_time_is_refused_with_the_next_working_time(
        desk, db_session, dossier, text, shown, proposed):
    response = _apology(desk, dossier.code, text)
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "new_due_at") == [
        f"Ngày hẹn trả mới {shown} không phải giờ làm việc (ngày nghỉ hoặc ngoài giờ làm việc); "
        f"thời điểm làm việc gần nhất là {proposed}."]
    assert _letters(db_session) == 0
    # The proposal is accepted as it is.
    assert _apology(desk, dossier.code, proposed).status_code == 302
    assert _reload(db_session, dossier.code).due_at.astimezone(vn(2026, 1, 1).tzinfo).strftime(
        "%d/%m/%Y %H:%M") == proposed


def test_the_end_of_a_working_period_is_a_valid_return_time(desk, db_session, dossier):
    assert _apology(desk, dossier.code, "13/03/2026 11:30").status_code == 302
    assert _reload(db_session, dossier.code).due_at == vn(2026, 3, 13, 11, 30)


def test_sunday_13_12_2026_from_the_issue(desk, db_session):
    received = dossiers.receive(db_session, user(db_session, "motcua"),
                                procedure_id=procedure(db_session, "1.003822").id, applicant_name="Hội Luật gia",
                                received_at=vn(2026, 12, 1, 8, 0), now=vn(2026, 12, 1, 8, 0))
    response = _apology(desk, received.code, "13/12/2026 17:00")
    assert response.status_code == 400
    assert "thời điểm làm việc gần nhất là 14/12/2026 07:00" in _field_errors(
        response.get_data(as_text=True), "new_due_at")[0]


# -- the receipt time --------------------------------------------------------------------------------

def _sequence(db_session) -> list[tuple]:
    db_session.rollback()
    return sorted(db_session.execute(select(DossierSequence.agency_code, DossierSequence.day,
                                            DossierSequence.last)).all())


def _dossiers(db_session) -> int:
    db_session.rollback()
    return db_session.scalar(select(func.count(Dossier.id)))


@pytest.mark.parametrize("text", ["01/01/1900 10:00", "01/01/0001 10:00", "31/12/1850 23:59"])
def test_a_receipt_time_before_the_supported_past_is_refused_naming_the_field(desk, db_session, text):
    before, sequence = _dossiers(db_session), _sequence(db_session)
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, received_at=text))
    assert response.status_code == 400
    errors = _field_errors(response.get_data(as_text=True), "received_at")
    assert len(errors) == 1 and errors[0].startswith("Thời gian nhận hồ sơ: không được trước "), errors
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", errors[0])
    assert _dossiers(db_session) == before and _sequence(db_session) == sequence


def test_the_back_dating_limit_is_a_setting(app, desk, db_session):
    app.config["QUYTRINH_MAX_BACKDATE_DAYS"] = 0  # no limit but the calendar's own range
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, received_at="02/01/1901 09:00"))
    assert response.status_code == 302


# -- the applicant's national formats ---------------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("applicant_id_number", "abc",
     "Số giấy tờ tùy thân 'abc' không hợp lệ: cần số CCCD/căn cước 12 chữ số, số CMND 9 chữ số, "
     "mã số doanh nghiệp 10 chữ số (hoặc 10-3) hoặc số hộ chiếu."),
    ("applicant_id_number", "08912345678", None),   # 11 digits: a CCCD with a digit missing
    ("applicant_id_number", "12345", None),
    ("applicant_phone", "hello",
     "Số điện thoại 'hello' không hợp lệ: cần số di động 10 chữ số (03, 05, 07, 08, 09…), số cố định 11 chữ số "
     "(02…), dạng +84, hoặc số quốc tế bắt đầu bằng +."),
    ("applicant_phone", "0123 456 789", None),      # the old 11-digit mobile prefixes are gone
    ("applicant_phone", "0909 000 11", None),       # a digit missing
    ("applicant_email", "not-an-email", None),
    ("applicant_email", "a@b", None),
])
def test_malformed_national_formats_are_refused_naming_the_field_and_consume_no_code(
        desk, db_session, field, value, message):
    before, sequence = _dossiers(db_session), _sequence(db_session)
    events = db_session.scalar(select(func.count(AuditEvent.seq)))
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, received_at="", **{field: value}))
    assert response.status_code == 400
    errors = _field_errors(response.get_data(as_text=True), field)
    assert len(errors) == 1, errors
    if message:
        assert errors == [message]
    assert _dossiers(db_session) == before and _sequence(db_session) == sequence
    assert db_session.scalar(select(func.count(AuditEvent.seq))) == events
    # The next dossier gets the next number of the day: nothing was consumed.
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, received_at=""))
    assert response.status_code == 302
    code = re.search(r"/desk/dossiers/([^/]+)/receipt", response.headers["Location"]).group(1)
    day_sequence = dict(((a, d), n) for a, d, n in sequence)
    day = _reload(db_session, code).received_at
    from engine.calendar import to_local
    assert int(code[-4:]) == day_sequence.get(("H01.21", to_local(day).date()), 0) + 1


@pytest.mark.parametrize("fields, stored", [
    ({"applicant_id_number": "089 123 456 789"}, {"applicant_id_number": "089123456789"}),
    ({"applicant_id_number": "089.123.456.789"}, {"applicant_id_number": "089123456789"}),
    ({"applicant_id_number": "023456789"}, {"applicant_id_number": "023456789"}),            # old CMND
    ({"applicant_id_number": "c1234567"}, {"applicant_id_number": "C1234567"}),              # VN passport
    ({"applicant_id_number": "0101234567-001"}, {"applicant_id_number": "0101234567-001"}),  # branch tax code
    ({"applicant_phone": "0909.000.111"}, {"applicant_phone": "0909000111"}),
    ({"applicant_phone": "+84 909 000 111"}, {"applicant_phone": "0909000111"}),
    ({"applicant_phone": "(0296) 3852 111"}, {"applicant_phone": "02963852111"}),
    ({"applicant_phone": "+33 1 42 68 53 00"}, {"applicant_phone": "+33142685300"}),        # a foreigner's
    ({"applicant_email": "Hoi.NhaBao@Example.VN"}, {"applicant_email": "Hoi.NhaBao@example.vn"}),
    ({"applicant_id_number": "", "applicant_phone": "", "applicant_email": ""},
     {"applicant_id_number": None, "applicant_phone": None, "applicant_email": None}),
])
def test_real_data_is_accepted_and_stored_normalized(desk, db_session, fields, stored):
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, received_at="", **fields))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    code = re.search(r"/desk/dossiers/([^/]+)/receipt", response.headers["Location"]).group(1)
    dossier = _reload(db_session, code)
    assert {name: getattr(dossier, name) for name in stored} == stored


@pytest.mark.parametrize("name, raw", [("QUYTRINH_MAX_EXTENSION_WORKING_DAYS", "0"),
                                       ("QUYTRINH_MAX_EXTENSION_WORKING_DAYS", "sixty"),
                                       ("QUYTRINH_MAX_BACKDATE_DAYS", "-1")])
def test_a_malformed_date_setting_is_a_config_error_naming_it(tmp_path, monkeypatch, name, raw):
    from web.config import ConfigError, from_environment

    monkeypatch.setenv("QUYTRINH_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match=name):
        from_environment({"SECRET_KEY": "x", name: raw})
    settings = from_environment({"SECRET_KEY": "x", name: "30"})
    assert settings[name] == 30
    defaults = from_environment({"SECRET_KEY": "x"})
    assert (defaults["QUYTRINH_MAX_EXTENSION_WORKING_DAYS"], defaults["QUYTRINH_MAX_BACKDATE_DAYS"]) == (60, 3650)


@pytest.mark.parametrize("field, value", [("applicant_id_number", "abc"), ("applicant_phone", "hello"),
                                          ("applicant_email", "a@b"), ("applicant_email", "not-an-email")])
def test_the_use_case_itself_refuses_the_formats_not_only_the_form(db_session, field, value):
    from services.errors import ValidationError

    sequence = _sequence(db_session)
    with pytest.raises(ValidationError) as error:
        dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, "1.003822").id,
                         applicant_name="Hội Nhà báo tỉnh", received_at=T0, now=T0, **{field: value})
    assert error.value.field == field
    assert _sequence(db_session) == sequence
