"""Through the pages: a text one character longer than its column is refused with the use case's
own message next to the field (400), nothing saved; the forms follow the model's limit, they hold
none of their own (services/validation.py, web/forms.TextRule)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from services import dossiers
from services.models import ApologyLetter, Dossier, SupplementRequest, User
from tests.conftest import csrf_token, login
from tests.dossier_helpers import procedure, user, vn
from tests.web.test_desk import _field_errors, _receive_data

T0 = vn(2026, 3, 2, 9, 0)


def _count(db_session, model) -> int:
    db_session.rollback()  # a new read transaction: see what the requests committed
    return db_session.scalar(select(func.count(model.id)))


@pytest.fixture
def desk(client):
    login(client, "motcua")
    return client


@pytest.fixture
def dossier(db_session):
    received = dossiers.receive(db_session, user(db_session, "motcua"),
                                procedure_id=procedure(db_session, "1.003822").id, applicant_name="Hội Nhà báo tỉnh",
                                received_at=T0, now=T0)
    return received.code


@pytest.mark.parametrize("field, limit, message", [
    ("applicant_name", 255, "Tên người nộp hồ sơ dài quá 255 ký tự."),
    ("applicant_address", 500, "Địa chỉ của người nộp hồ sơ dài quá 500 ký tự."),
])
def test_receive_refuses_one_character_over_the_column(desk, db_session, field, limit, message):
    before = _count(db_session, Dossier)
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, **{field: "x" * (limit + 1)}))
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), field) == [message]
    assert _count(db_session, Dossier) == before


def test_the_page_follows_a_limit_changed_in_the_model(desk, db_session, monkeypatch):
    monkeypatch.setattr(Dossier.__table__.c.applicant_name.type, "length", 30)
    html = desk.get("/desk/receive").get_data(as_text=True)
    assert re.search(r'id="applicant_name"[^>]*maxlength="30"|maxlength="30"[^>]*id="applicant_name"', html)
    before = _count(db_session, Dossier)
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, applicant_name="x" * 31))
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "applicant_name") == [
        "Tên người nộp hồ sơ dài quá 30 ký tự."]
    assert _count(db_session, Dossier) == before
    assert desk.post("/desk/receive", data=_receive_data(desk, db_session, applicant_name="x" * 30)).status_code == 302


@pytest.mark.parametrize("action, fields, field, model", [
    ("supplement", {"items": "Biên bản", "reason": "x" * 4001}, "reason", SupplementRequest),
    ("supplement", {"items": "x" * 4001, "reason": "Thiếu"}, "items", SupplementRequest),
    ("pause", {"reason": "x" * 4001}, "reason", SupplementRequest),
    ("apology", {"reason": "x" * 4001, "new_due_at": "20/03/2026 09:00"}, "reason", ApologyLetter),
    ("withdraw", {"reason": "x" * 4001}, "reason", Dossier),
])
def test_the_desks_letters_refuse_one_character_over_the_column(desk, db_session, dossier, action, fields, field,
                                                                model):
    path = f"/desk/dossiers/{dossier}/{action}"
    before = _count(db_session, model), db_session.scalar(select(Dossier.status).where(Dossier.code == dossier))
    response = desk.post(path, data={"csrf_token": csrf_token(desk, path), **fields})
    assert response.status_code == 400
    expected = ("Danh mục giấy tờ, nội dung cần bổ sung dài quá 4000 ký tự." if field == "items"
                else "Lý do dài quá 4000 ký tự.")
    assert _field_errors(response.get_data(as_text=True), field) == [expected]
    assert (_count(db_session, model),
            db_session.scalar(select(Dossier.status).where(Dossier.code == dossier))) == before


def test_a_new_account_refuses_a_full_name_over_the_column(client, db_session):
    login(client, "admin")
    before = _count(db_session, User)
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": "nguoi.moi", "full_name": "x" * 256,
        "password": "quytrinh2026"})
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "full_name") == ["Họ và tên dài quá 255 ký tự."]
    assert _count(db_session, User) == before
