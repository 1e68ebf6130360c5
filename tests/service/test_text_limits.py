"""Typed text is checked by the use case against the column that keeps it: refused, never cut
(services/validation.py).

Before, the limits lived only in the WTForms forms: the services kept the first 255 characters of
an applicant's name or the first 4000 of a reason, and stored a full name, an e-mail or a note of
any length — whatever else called them (the coming API, a script) lost text without a word.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services import accounts, dossiers, procedures
from services.errors import ValidationError
from services.models import AuditEvent, Dossier, ProcedureVersion, SupplementRequest
from services.validation import TextField, max_length
from tests.dossier_helpers import procedure, user, vn

T0 = vn(2026, 3, 2, 9, 0)


@pytest.fixture
def dossier_id(db_session):
    received = dossiers.receive(db_session, user(db_session, "motcua"),
                                procedure_id=procedure(db_session, "1.003822").id, applicant_name="Hội Nhà báo tỉnh",
                                received_at=T0, now=T0)
    return received.id


def _receive(session, **fields):
    values = {"applicant_name": "Nguyễn Văn An", **fields}
    return dossiers.receive(session, user(session, "motcua"), procedure_id=procedure(session, "1.003822").id,
                            received_at=T0, now=T0, **values)


def _version_id(session) -> int:
    return session.scalar(select(ProcedureVersion.id).order_by(ProcedureVersion.id).limit(1))


#: (use case, field, where it is kept, call with the text); the dossier's id given when it needs one.
CASES = {
    "receive name": ("applicant_name", Dossier.applicant_name, lambda s, d, text: _receive(s, applicant_name=text)),
    "receive address": ("applicant_address", Dossier.applicant_address,
                        lambda s, d, text: _receive(s, applicant_address=text)),
    "supplement reason": ("reason", SupplementRequest.reason, lambda s, d, text: dossiers.stop_clock(
        s, user(s, "motcua"), d, kind="supplement", reason=text, items="Biên bản", now=T0)),
    "supplement items": ("items", SupplementRequest.items, lambda s, d, text: dossiers.stop_clock(
        s, user(s, "motcua"), d, kind="supplement", reason="Thiếu", items=text, now=T0)),
    "pause reason": ("reason", SupplementRequest.reason, lambda s, d, text: dossiers.stop_clock(
        s, user(s, "motcua"), d, kind="pause", reason=text, now=T0)),
    "apology reason": ("reason", "apology_letters.reason", lambda s, d, text: dossiers.issue_apology(
        s, user(s, "motcua"), d, reason=text, new_due_at=vn(2026, 3, 20, 9, 0), now=T0)),
    "withdraw reason": ("reason", Dossier.closed_reason, lambda s, d, text: dossiers.close(
        s, user(s, "motcua"), d, outcome="withdrawn", reason=text, now=T0)),
    "procedure name": ("name", "procedures.name", lambda s, d, text: procedures.create_procedure(
        s, user(s, "thietke"), code="1.999001", name=text, authority="so",
        agency_id=procedure(s, "1.003822").agency_id)),
    "version file name": ("bpmn", ProcedureVersion.filename, lambda s, d, text: procedures.upload_version(
        s, user(s, "thietke"), procedure(s, "1.003822").id, filename=text, data=b"<not-read/>")),
    "submission note": ("note", procedures.SUBMISSION_NOTE.limit, lambda s, d, text: procedures.submit_version(
        s, user(s, "thietke"), _version_id(s), note=text)),
    "Văn phòng opinion": ("opinion", ProcedureVersion.vp_opinion, lambda s, d, text: procedures.give_vp_opinion(
        s, user(s, "vp.chuyenvien"), _version_id(s), agree=True, opinion=text)),
    "Chairman's note": ("note", ProcedureVersion.approval_note, lambda s, d, text: procedures.decide_version(
        s, user(s, "chutich"), _version_id(s), decision="approve", note=text)),
    "user full name": ("full_name", "users.full_name", lambda s, d, text: accounts.create_user(
        s, user(s, "admin"), username="nguoi.moi", full_name=text, password="quytrinh2026")),
    "user email": ("email", "users.email", lambda s, d, text: accounts.create_user(
        s, user(s, "admin"), username="nguoi.moi", full_name="Người Mới", password="quytrinh2026",
        email="a" * (len(text) - 11) + "@example.vn")),
}


def _limit(stored_in) -> int:
    if isinstance(stored_in, int):
        return stored_in
    if isinstance(stored_in, str):
        from services.db import Base

        table, column = stored_in.split(".")
        return max_length(Base.metadata.tables[table].c[column])
    return max_length(stored_in)


def _rows(session) -> tuple:
    session.rollback()
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (
        AuditEvent.__table__, Dossier.__table__, SupplementRequest.__table__))


@pytest.mark.parametrize("case", list(CASES))
def test_one_character_over_the_column_is_refused_naming_the_field(db_session, dossier_id, case):
    field, stored_in, call = CASES[case]
    over = "x" * (_limit(stored_in) + 1)
    before = _rows(db_session)
    with pytest.raises(ValidationError) as refused:
        call(db_session, dossier_id, over)
    assert refused.value.field == field
    assert refused.value.params == {"n": _limit(stored_in)}
    assert _rows(db_session) == before  # nothing saved, no dossier code taken


def test_a_value_at_the_limit_is_kept_whole_and_stripped(db_session):
    name = "Nguyễn " + "A" * (max_length(Dossier.applicant_name) - 7)
    received = _receive(db_session, applicant_name=f"  {name}  ", applicant_address="   ")
    db_session.expire_all()
    stored = db_session.get(Dossier, received.id)
    assert stored.applicant_name == name and len(name) == 255
    assert stored.applicant_address is None


def test_a_limit_changed_in_the_model_changes_the_check(db_session, dossier_id, monkeypatch):
    monkeypatch.setattr(Dossier.__table__.c.applicant_name.type, "length", 20)
    with pytest.raises(ValidationError, match="longer than 20"):
        _receive(db_session, applicant_name="x" * 21)
    assert _receive(db_session, applicant_name="x" * 20).applicant_name == "x" * 20
    monkeypatch.setitem(SupplementRequest.__table__.c.reason.info, "max_length", 10)
    with pytest.raises(ValidationError, match="longer than 10") as refused:
        dossiers.stop_clock(db_session, user(db_session, "motcua"), dossier_id, kind="pause", reason="x" * 11, now=T0)
    assert refused.value.field == "reason"


def test_required_text_is_refused_when_blank(db_session):
    with pytest.raises(ValidationError) as refused:
        _receive(db_session, applicant_name="   ")
    assert (refused.value.field, refused.value.template) == ("applicant_name", "The applicant's name is required.")


def test_a_column_without_a_length_is_a_programming_error():
    with pytest.raises(TypeError, match="no length"):
        TextField(Dossier.state, "state", "too long").limit


def test_a_completion_refuses_a_form_text_or_an_opinion_over_the_limit(db_session, dossier_id):
    from services.dossiers.completion import FORM_TEXT_LIMIT
    from services.models import DossierStep
    from tests.dossier_helpers import drive, form_data, open_steps, performer

    drive(db_session, dossier_id, start=T0, until="Task_ThamDinh")
    step = open_steps(db_session, dossier_id)[0]
    data = form_data(db_session, step)
    texts = [key for key, value in data.items() if isinstance(value, str) and key != "decision"]
    assert texts, "the specialist's step has a text field"
    official, before = performer(db_session, step), _rows(db_session)
    with pytest.raises(ValidationError) as refused:
        dossiers.complete(db_session, official, step.id, {**data, texts[0]: "x" * (FORM_TEXT_LIMIT + 1)}, now=T0)
    assert (refused.value.field, refused.value.params["n"]) == (texts[0], FORM_TEXT_LIMIT)
    with pytest.raises(ValidationError) as refused:
        dossiers.complete(db_session, official, step.id, data, opinion="x" * (max_length(DossierStep.opinion) + 1),
                          now=T0)
    assert refused.value.field == "opinion"
    assert _rows(db_session) == before
    assert db_session.get(DossierStep, step.id).status in ("ready", "claimed")
