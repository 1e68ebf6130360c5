"""The one-stop desk pages: receive, the receipt, procedure search, permissions, validation, CSRF."""
from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import func, select

from services import dossiers
from services.models import Dossier
from tests.conftest import csrf_token, login
from tests.dossier_helpers import procedure, user, vn


def _count(db_session) -> int:
    db_session.rollback()  # a new read transaction: see what the requests committed
    return db_session.scalar(select(func.count(Dossier.id)))


def _dossier(db_session, code: str) -> Dossier:
    db_session.rollback()  # a new read transaction: see what the requests committed
    return db_session.scalar(select(Dossier).where(Dossier.code == code))


def _field_errors(html: str, field: str) -> list[str]:
    """The error messages rendered inside the <div class="field"> of `field`."""
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', html, re.S)
    found = re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', block.group(0)) if block else []
    return [html_lib.unescape(message) for message in found]


@pytest.fixture
def desk(client):
    assert login(client, "motcua").status_code == 302
    return client


def _receive_data(client, db_session, **fields):
    data = {"csrf_token": csrf_token(client, "/desk/receive"),
            "procedure_id": procedure(db_session, "1.003822").id, "applicant_name": "Hội Cựu giáo chức tỉnh",
            "applicant_id_number": "089123456789", "applicant_phone": "0296 3852 111",
            "applicant_email": "hoi@example.vn", "applicant_address": "12 Tôn Đức Thắng, Long Xuyên",
            "received_at": "02/03/2026 09:15"}
    data.update(fields)
    return data


def test_anonymous_is_sent_to_login_and_other_roles_get_403(client):
    assert client.get("/desk").status_code == 302
    assert "/login" in client.get("/desk/receive").headers["Location"]
    login(client, "chuyenvien.noivu")
    for path in ("/desk", "/desk/receive", "/desk/procedures?q=1", "/desk/dossiers/X/receipt"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Không có quyền truy cập" in response.get_data(as_text=True)


def test_receive_page_lists_published_procedures_and_searches_by_code_or_name(desk):
    html = desk.get("/desk/receive").get_data(as_text=True)
    assert "Tiếp nhận hồ sơ" in html
    assert "1.003822 — Phê duyệt điều lệ hội" in html and "1.009974" in html
    # Without diacritics, by words of the name.
    html = desk.get("/desk/receive?q=dieu le hoi").get_data(as_text=True)
    assert "1.003822" in html and "1.009974" not in html
    # The htmx search returns the options only.
    fragment = desk.get("/desk/procedures?q=1.009974").get_data(as_text=True)
    assert "1.009974" in fragment and "1.003822" not in fragment and "<html" not in fragment
    nothing = desk.get("/desk/procedures?q=khongcothutucnay").get_data(as_text=True)
    assert "Không có thủ tục đã ban hành nào khớp" in nothing


def test_receive_creates_the_dossier_and_the_receipt_shows_its_code_and_return_date(desk, db_session):
    before = _count(db_session)
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session))
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(r"/desk/dossiers/(H01\.21-260302-\d{4})/receipt", response.headers["Location"])
    assert match, response.headers["Location"]
    dossier = _dossier(db_session, match.group(1))
    assert _count(db_session) == before + 1
    # The phone as typed, "0296 3852 111", is stored normalized (services.dossiers.applicant).
    assert dossier.applicant_name == "Hội Cựu giáo chức tỉnh" and dossier.applicant_phone == "02963852111"
    assert dossier.received_at == vn(2026, 3, 2, 9, 15)
    html = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in html
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "Độc lập – Tự do – Hạnh phúc" in html
    assert dossier.code in html and "Phê duyệt điều lệ hội" in html
    assert "02/03/2026 09:15" in html
    # 7 working days from Monday 02/03/2026 09:15 → Wednesday 11/03/2026 09:15.
    assert '<strong class="due-at">11/03/2026 09:15</strong>' in html
    assert "Nguyễn Thị Một Cửa" in html  # the receiving officer
    assert "Trung tâm Phục vụ hành chính công tỉnh An Giang".upper() in html and "Sở Nội vụ" in html
    assert "print.css" in html
    # The receiving officer holds the receive step: the receipt links to it.
    assert re.search(r'href="/tasks/\d+"', html)


def test_missing_applicant_name_is_shown_next_to_the_field_and_nothing_is_saved(desk, db_session):
    before = _count(db_session)
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, applicant_name="   "))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _field_errors(html, "applicant_name") == ["Phải nhập tên người nộp hồ sơ."]
    assert _count(db_session) == before
    # What was typed stays in the form.
    assert "12 Tôn Đức Thắng, Long Xuyên" in html


@pytest.mark.parametrize("text", ["31/02/2026 10:00", "2026-03-02 09:15", "02/03/2026", "hôm qua"])
def test_malformed_receipt_time_is_refused_next_to_the_field(desk, db_session, text):
    before = _count(db_session)
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, received_at=text))
    assert response.status_code == 400
    errors = _field_errors(response.get_data(as_text=True), "received_at")
    assert errors and "không phải ngày giờ dạng dd/mm/yyyy HH:MM" in errors[0]
    assert _count(db_session) == before


def test_receipt_time_in_the_future_is_refused(desk, db_session):
    before = _count(db_session)
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, received_at="01/01/2099 08:00"))
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "received_at") == [
        "Thời gian nhận hồ sơ: không được là thời điểm trong tương lai."]
    assert _count(db_session) == before


def test_no_procedure_chosen_is_refused(desk, db_session):
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session, procedure_id="0"))
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "procedure_id") == ["Chọn thủ tục hành chính."]


def test_receive_without_csrf_token_is_refused_and_saves_nothing(desk, db_session):
    before = _count(db_session)
    data = _receive_data(desk, db_session)
    del data["csrf_token"]
    response = desk.post("/desk/receive", data=data)
    assert response.status_code == 400
    assert "Mã bảo mật của biểu mẫu bị thiếu" in response.get_data(as_text=True)
    assert _count(db_session) == before


def test_desk_list_shows_my_desks_dossiers_only(desk, client, db_session):
    mine = dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, "1.003822").id,
                            applicant_name="Nguyễn Văn A", received_at=vn(2026, 3, 2, 9, 0), now=vn(2026, 3, 2, 9, 0))
    fresh = dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure(db_session, "1.003822").id,
                             applicant_name="Trần Thị B")
    html = desk.get("/desk").get_data(as_text=True)
    assert mine.code in html and "Nguyễn Văn A" in html
    rows = dict(re.findall(r'<code>([^<]+)</code></a></td>.*?<span class="badge badge-(\w+)">', html, re.S))
    # Received in March 2026 with 7 working days: overdue ever since; received just now: within time.
    assert rows[mine.code] == "red" and rows[fresh.code] == "green"
    assert html.index(mine.code) < html.index(fresh.code)  # soonest due first
    assert desk.get(f"/desk?code={mine.code[-4:]}&status=all-garbage").status_code == 200
    html = desk.get("/desk?status=returned").get_data(as_text=True)
    assert mine.code not in html
    # Another desk neither lists it nor opens its receipt.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/desk")})
    login(client, "motcua.longxuyen")
    assert mine.code not in client.get("/desk").get_data(as_text=True)
    assert client.get(f"/desk/dossiers/{mine.code}/receipt").status_code == 403
    assert client.get("/desk/dossiers/H01.21-000000-0000/receipt").status_code == 404


def test_desk_pages_in_english(desk, db_session):
    desk.get("/lang/en")
    html = desk.get("/desk/receive").get_data(as_text=True)
    assert "Receive a dossier" in html and "Tiếp nhận hồ sơ</h1>" not in html
    response = desk.post("/desk/receive", data=_receive_data(desk, db_session))
    html = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "RECEIPT OF THE DOSSIER AND APPOINTMENT TO RETURN THE RESULT" in html
    assert "Result to be returned at:" in html


def test_an_officer_at_two_desks_chooses_the_desk(client, db_session):
    from services import accounts
    from services.models import OrgUnit

    commune_desk = db_session.scalar(select(OrgUnit).where(OrgUnit.code == "H01.60.01"))
    accounts.grant_role(db_session, user(db_session, "admin"), user(db_session, "motcua").id, "mot_cua",
                        commune_desk.id)
    login(client, "motcua")
    html = client.get("/desk/receive").get_data(as_text=True)
    assert 'name="desk_id"' in html and "H01.60.01" in html and "H01.02" in html
    before = _count(db_session)
    data = _receive_data(client, db_session)
    for no_choice in ({}, {"desk_id": "0"}):
        response = client.post("/desk/receive", data={**data, **no_choice})
        assert response.status_code == 400
        assert _field_errors(response.get_data(as_text=True), "desk_id") == [
            "Hãy chọn Bộ phận Một cửa tiếp nhận hồ sơ."]
        assert _count(db_session) == before
    response = client.post("/desk/receive", data={**data, "desk_id": str(commune_desk.id)})
    assert response.status_code == 302
    code = re.search(r"/desk/dossiers/([^/]+)/receipt", response.headers["Location"]).group(1)
    assert _dossier(db_session, code).desk_id == commune_desk.id


def test_a_desk_the_officer_does_not_work_at_is_forbidden_not_a_form_error(client, db_session):
    """The service refuses who asks (Forbidden): the page answers 403, with the refusal next to the desk."""
    from services import accounts
    from services.models import OrgUnit

    units = {u.code: u for u in db_session.scalars(select(OrgUnit))}
    accounts.grant_role(db_session, user(db_session, "admin"), user(db_session, "motcua").id, "mot_cua",
                        units["H01.60.01"].id)
    login(client, "motcua")
    before = _count(db_session)
    response = client.post("/desk/receive", data={**_receive_data(client, db_session),
                                                  "desk_id": str(units["H01.61.01"].id)})  # not one of his
    assert response.status_code == 403
    assert _field_errors(response.get_data(as_text=True), "desk_id") == [
        "Bạn không làm việc tại Bộ phận Một cửa đã chọn."]
    assert _count(db_session) == before


def test_the_receipt_lists_the_documents_attached_at_the_receiving_step(desk, db_session, tmp_path):
    import io

    from services import documents

    received = dossiers.receive(db_session, user(db_session, "motcua"),
                                procedure_id=procedure(db_session, "1.003822").id, applicant_name="Hội Nông dân",
                                received_at=vn(2026, 3, 2, 9, 0), now=vn(2026, 3, 2, 9, 0))
    html = desk.get(f"/desk/dossiers/{received.code}/receipt").get_data(as_text=True)
    assert "theo danh mục của thủ tục 1.003822" in html
    step = next(s for s in received.steps if s.step == "receive")
    documents.upload(db_session, user(db_session, "motcua"), received.id, io.BytesIO(b"%PDF-1.4\n%test\n"),
                     "Don de nghi phe duyet dieu le.pdf", store=documents.DocumentStore(tmp_path), step_id=step.id,
                     now=vn(2026, 3, 2, 9, 5))
    html = desk.get(f"/desk/dossiers/{received.code}/receipt").get_data(as_text=True)
    assert "<li>Don de nghi phe duyet dieu le.pdf</li>" in html
    assert "theo danh mục của thủ tục" not in html
