"""The designer pages through the real web stack: who may see and do what, upload and the lint
report, refusals with their messages and status codes, and the whole approval path by its people."""
from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services import accounts
from services.models import OrgUnit, Procedure, ProcedureVersion
from tests.conftest import csrf_token, login
from tests.dossier_helpers import procedure as procedure_by_code, user

FLAVOURS = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "flavours"
BYPASS = (FLAVOURS / "camunda7_modeler5_bypass.bpmn").read_bytes()
COMPLIANT = (FLAVOURS / "camunda7_modeler5_ok.bpmn").read_bytes()
CHAIRMAN_PROCEDURE = "1.003822"  # Sở Nội vụ H01.21, decided by the Chairman (demo)
ENTITY_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
               b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
               b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</definitions>')


def _text(response) -> str:
    visible = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(visible))


def _field_error(response, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.get_data(as_text=True))
    assert match, f"no error next to {field}: {_text(response)[:600]}"
    return html.unescape(match.group(1))


def _ids(db_session, code: str = CHAIRMAN_PROCEDURE) -> tuple[int, int]:
    """(procedure id, its published version id)."""
    proc = procedure_by_code(db_session, code)
    published = next(v for v in proc.versions if v.status == "published")
    return proc.id, published.id


def _versions(db_session, procedure_id: int) -> list[ProcedureVersion]:
    db_session.rollback()
    db_session.expire_all()
    return db_session.scalars(select(ProcedureVersion).where(ProcedureVersion.procedure_id == procedure_id)
                              .order_by(ProcedureVersion.number)).all()


def _upload(client, procedure_id: int, data: bytes, filename: str = "quy-trinh.bpmn", **fields):
    path = f"/designer/procedures/{procedure_id}/upload"
    form = {"csrf_token": csrf_token(client, path), "bpmn": (io.BytesIO(data), filename)}
    form.update(fields)
    return client.post(path, data=form, content_type="multipart/form-data")


def _post(client, path: str, form_page: str, **fields):
    token = csrf_token(client, form_page)
    return client.post(path, data={"csrf_token": token, **fields})


def _submit(client, version_id: int, note: str = ""):
    page = f"/designer/versions/{version_id}"
    return _post(client, f"{page}/submit", page, **{"submit-csrf_token": csrf_token(client, page),
                                                    "submit-note": note})


def _publish(client, version_id: int):
    page = f"/designer/versions/{version_id}"
    return _post(client, f"{page}/publish", page, **{"publish-csrf_token": csrf_token(client, page)})


def _new_version_id(response) -> int:
    assert response.status_code == 302, _text(response)[:600]
    return int(re.search(r"/designer/versions/(\d+)$", response.headers["Location"]).group(1))


@pytest.fixture
def village_designer(db_session):
    """A designer of UBND phường Long Xuyên only: another agency than Sở Nội vụ's procedures."""
    admin = user(db_session, "admin")
    account = accounts.create_user(db_session, admin, username="thietke.xa", full_name="Nguyễn Thiết Kế Xã",
                                   password="quytrinh2026")
    unit = db_session.scalar(select(OrgUnit).where(OrgUnit.code == "H01.60"))
    accounts.grant_role(db_session, admin, account.id, "designer", unit.id)
    return "thietke.xa"


# --- who sees what --------------------------------------------------------------------------------

def test_anonymous_is_sent_to_login(client, db_session):
    proc_id, version_id = _ids(db_session)
    for path in ("/designer/", f"/designer/procedures/{proc_id}", f"/designer/versions/{version_id}",
                 f"/designer/versions/{version_id}/bpmn"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


@pytest.mark.parametrize("username", ["chuyenvien.noivu", "motcua", "lanhdaoso.noivu", "chutich.longxuyen"])
def test_officials_get_403_everywhere(client, db_session, username):
    """Officials, and a commune's Chairman (not the province's), have no business in this area."""
    proc_id, version_id = _ids(db_session)
    login(client, username)
    for path in ("/designer/", "/designer/procedures/new", f"/designer/procedures/{proc_id}",
                 f"/designer/procedures/{proc_id}/upload", f"/designer/versions/{version_id}",
                 f"/designer/versions/{version_id}/bpmn", f"/designer/versions/{version_id}/vp-opinion",
                 f"/designer/versions/{version_id}/decision"):
        response = client.get(path)
        assert response.status_code == 403, (username, path, response.status_code)
        assert "Không có quyền truy cập" in _text(response) or "403" in _text(response)


def test_designer_of_another_agency_gets_403(client, db_session, village_designer):
    proc_id, version_id = _ids(db_session)
    login(client, village_designer)
    listing = _text(client.get("/designer/"))
    assert "1.003822" not in listing  # only the procedures of the agencies they design for
    for path in (f"/designer/procedures/{proc_id}", f"/designer/procedures/{proc_id}/upload",
                 f"/designer/versions/{version_id}", f"/designer/versions/{version_id}/bpmn"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/designer/")
    response = client.post(f"/designer/versions/{version_id}/publish", data={"publish-csrf_token": token})
    assert response.status_code == 403
    response = client.post(f"/designer/procedures/{proc_id}/upload", data={
        "csrf_token": token, "bpmn": (io.BytesIO(COMPLIANT), "x.bpmn")}, content_type="multipart/form-data")
    assert response.status_code == 403
    assert len(_versions(db_session, proc_id)) == 1


def test_listing_by_role(client, db_session):
    login(client, "thietke")
    page = _text(client.get("/designer/"))
    assert "1.003822" in page and "Đã công bố" in page and "Thủ tục mới" in page
    assert "Phiên bản đang chờ bạn" not in page  # a designer reviews nothing
    client.post("/logout", data={"csrf_token": csrf_token(client, "/designer/")})
    login(client, "vp.chuyenvien")
    page = _text(client.get("/designer/"))
    assert "1.003822" in page and "Phiên bản đang chờ bạn" in page and "Thủ tục mới" not in page
    assert client.get("/designer/procedures/new").status_code == 403


def test_unknown_procedure_and_version_are_404(client):
    login(client, "thietke")
    for path in ("/designer/procedures/99999", "/designer/procedures/99999/upload", "/designer/versions/99999",
                 "/designer/versions/99999/bpmn", "/designer/versions/99999/decision"):
        assert client.get(path).status_code == 404, path


def test_auditor_reads_versions_but_has_no_actions(client, db_session):
    _, version_id = _ids(db_session)
    login(client, "thanhtra")
    page = client.get(f"/designer/versions/{version_id}")
    assert page.status_code == 200 and "chỉ để xem" in _text(page)
    assert client.get(f"/designer/versions/{version_id}/bpmn").status_code == 200
    assert client.get("/designer/procedures/new").status_code == 403
    assert client.get(f"/designer/versions/{version_id}/decision").status_code == 403


# --- procedures -----------------------------------------------------------------------------------

def test_create_procedure_validation_and_success(client, db_session):
    login(client, "thietke")
    form_page = client.get("/designer/procedures/new")
    assert form_page.status_code == 200
    page = form_page.get_data(as_text=True)
    assert "H01.21 — Sở Nội vụ" in page and "H01.01" not in page  # only the designer's own units
    noi_vu = db_session.scalar(select(OrgUnit).where(OrgUnit.code == "H01.21")).id
    office = db_session.scalar(select(OrgUnit).where(OrgUnit.code == "H01.01")).id

    missing = _post(client, "/designer/procedures/new", "/designer/procedures/new",
                    code="1.000001", name="", authority="so", agency=str(noi_vu))
    assert missing.status_code == 400 and _field_error(missing, "name")
    elsewhere = _post(client, "/designer/procedures/new", "/designer/procedures/new",
                      code="1.000001", name="Thủ tục thử", authority="so", agency=str(office))
    assert elsewhere.status_code == 400 and _field_error(elsewhere, "agency")
    duplicate = _post(client, "/designer/procedures/new", "/designer/procedures/new",
                      code=CHAIRMAN_PROCEDURE, name="Trùng mã", authority="chu_tich_ubnd_tinh", agency=str(noi_vu))
    assert duplicate.status_code == 409
    assert "đã có thủ tục mã 1.003822" in _field_error(duplicate, "code")

    created = _post(client, "/designer/procedures/new", "/designer/procedures/new",
                    code="1.000001", name="Thủ tục thử nghiệm", authority="ubnd_tinh", agency=str(noi_vu))
    assert created.status_code == 302 and "/upload" in created.headers["Location"]
    db_session.rollback()
    proc = db_session.scalar(select(Procedure).where(Procedure.code == "1.000001"))
    assert proc.agency_id == noi_vu and proc.authority == "ubnd_tinh"


def test_csrf_refused_on_every_post(client, db_session):
    proc_id, version_id = _ids(db_session)
    login(client, "thietke")
    before = db_session.scalar(select(func.count(Procedure.id)))
    for path, data in (("/designer/procedures/new", {"code": "9.9", "name": "x", "authority": "so", "agency": "1"}),
                       (f"/designer/procedures/{proc_id}/upload", {"bpmn": (io.BytesIO(COMPLIANT), "a.bpmn")}),
                       (f"/designer/versions/{version_id}/submit", {}),
                       (f"/designer/versions/{version_id}/publish", {})):
        response = client.post(path, data=data, content_type="multipart/form-data")
        assert response.status_code == 400, path
        assert "Biểu mẫu đã hết hạn" in _text(response), path
    assert db_session.scalar(select(func.count(Procedure.id))) == before
    assert len(_versions(db_session, proc_id)) == 1
    client.post("/logout", data={"csrf_token": csrf_token(client, "/designer/")})
    login(client, "vp.lanhdao")
    assert client.post(f"/designer/versions/{version_id}/vp-opinion", data={"opinion": "x"}).status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, "/designer/")})
    login(client, "chutich")
    assert client.post(f"/designer/versions/{version_id}/decision", data={"decision": "approve"}).status_code == 400


# --- upload and the lint report -------------------------------------------------------------------

def test_upload_refusals_save_nothing(client, db_session):
    proc_id, _ = _ids(db_session)
    login(client, "thietke")
    assert client.get(f"/designer/procedures/{proc_id}/upload").status_code == 200
    no_file = _post(client, f"/designer/procedures/{proc_id}/upload", f"/designer/procedures/{proc_id}/upload")
    assert no_file.status_code == 400 and "Chọn một tệp BPMN" in _field_error(no_file, "bpmn")
    wrong_type = _upload(client, proc_id, COMPLIANT, filename="quy-trinh.pdf")
    assert wrong_type.status_code == 400 and ".bpmn" in _field_error(wrong_type, "bpmn")
    too_large = _upload(client, proc_id, COMPLIANT + b" " * (5 * 1024 * 1024), filename="lon.bpmn")
    assert too_large.status_code == 400 and "5 MB" in _field_error(too_large, "bpmn")
    bad_days = _upload(client, proc_id, COMPLIANT, legal_days="mười")
    assert bad_days.status_code == 400 and "mười" in _field_error(bad_days, "legal_days")
    bad_cut = _upload(client, proc_id, COMPLIANT, reduction="1.5")
    assert bad_cut.status_code == 400 and "1.5" in _field_error(bad_cut, "reduction")
    assert len(_versions(db_session, proc_id)) == 1


@pytest.mark.parametrize("data, code", [(ENTITY_BOMB, "XML_UNSAFE"), (b"\x89PNG\r\n\x1a\n\x00\x00", "BPMN_INVALID"),
                                        (COMPLIANT[: len(COMPLIANT) // 2], "BPMN_INVALID")])
def test_hostile_or_broken_file_is_a_failed_report(client, db_session, data, code):
    proc_id, _ = _ids(db_session)
    login(client, "thietke")
    version_id = _new_version_id(_upload(client, proc_id, data, filename="hong.xml"))
    page = client.get(f"/designer/versions/{version_id}")
    assert page.status_code == 200
    text = _text(page)
    assert code in text and "Không đạt" in text and "không thể trình" in text
    assert 'id="diagram"' not in page.get_data(as_text=True)  # nothing unreadable goes to the drawing script
    refused = _submit(client, version_id)
    assert refused.status_code == 400 and "chưa thể trình" in _text(refused)
    assert _versions(db_session, proc_id)[-1].status == "draft"


def test_bypass_upload_shows_the_error_on_its_element(client, db_session):
    proc_id, _ = _ids(db_session)
    login(client, "thietke")
    response = _upload(client, proc_id, BYPASS, filename="camunda7_modeler5_bypass.bpmn")
    version_id = _new_version_id(response)
    page = client.get(f"/designer/versions/{version_id}")
    text = _text(page)
    assert "VP_REVIEW_BYPASSED" in text and "Activity_13eq64m" in text
    assert "không qua bước thẩm tra" in text or "Văn phòng UBND" in text
    assert "Thời hạn theo quy định" in text and "5 ngày" in text and "3 ngày 4 giờ" in text  # 1680 min target
    diagram = re.search(r"data-diagram='([^']*)'", page.get_data(as_text=True)).group(1)
    spec = json.loads(html.unescape(diagram))
    assert {"element": "Activity_13eq64m", "html": "VP_REVIEW_BYPASSED", "className": "qt-overlay qt-overlay-error",
            "position": {"top": -18, "left": 0}} in spec["overlays"]
    assert "qt-error" in spec["markers"]["Activity_13eq64m"] and "qt-critical" in spec["markers"]["StartEvent_1"]
    refused = _submit(client, version_id)
    assert refused.status_code == 400 and _versions(db_session, proc_id)[-1].status == "draft"

    client.get("/lang/en", headers={"Referer": "http://localhost/designer/"})
    english = _text(client.get(f"/designer/versions/{version_id}"))
    assert "can be reached without the Văn phòng UBND review" in english and "Policy check report" in english


def test_bpmn_endpoint_serves_xml_safely(client, db_session):
    _, version_id = _ids(db_session)
    login(client, "vp.chuyenvien")
    response = client.get(f"/designer/versions/{version_id}/bpmn")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.data.lstrip().startswith(b"<?xml") or b"definitions" in response.data[:400]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Disposition"].startswith("attachment")


# --- the approval path ----------------------------------------------------------------------------

def _switch(client, username: str) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/designer/")})
    login(client, username)


def test_full_approval_path_through_the_pages(client, db_session):
    proc_id, old_version_id = _ids(db_session)
    login(client, "thietke")
    version_id = _new_version_id(_upload(client, proc_id, COMPLIANT, filename="ok.bpmn"))
    assert "Đạt" in _text(client.get(f"/designer/versions/{version_id}"))
    assert _submit(client, version_id, note="Trình phê duyệt quy trình mới").status_code == 302
    assert _versions(db_session, proc_id)[-1].status == "submitted"
    assert client.get(f"/designer/versions/{version_id}/vp-opinion").status_code == 403  # not the office

    _switch(client, "chutich")
    page = f"/designer/versions/{version_id}/decision"
    early = _post(client, page, page, decision="approve", note="")
    assert early.status_code == 409 and "Văn phòng UBND tỉnh phải cho ý kiến" in _text(early)

    _switch(client, "vp.lanhdao")
    page = f"/designer/versions/{version_id}/vp-opinion"
    too_soon = _post(client, page, page, agree="yes", opinion="Đồng ý")
    assert too_soon.status_code == 403 and "thẩm tra phiên bản trước" in _text(too_soon)

    _switch(client, "vp.chuyenvien")
    assert "Phiên bản đang chờ bạn" in _text(client.get("/designer/"))
    empty = _post(client, page, page, opinion="  ")
    assert empty.status_code == 400 and _field_error(empty, "opinion")
    assert _post(client, page, page, opinion="Đã thẩm tra: đủ bước thẩm tra trước khi trình.").status_code == 302

    _switch(client, "vp.lanhdao")
    no_choice = _post(client, page, page, opinion="Đồng ý")
    assert no_choice.status_code == 400 and "đồng ý" in _text(no_choice).lower()
    assert _post(client, page, page, agree="yes", opinion="Văn phòng thống nhất trình Chủ tịch.").status_code == 302
    assert _versions(db_session, proc_id)[-1].status == "vp_reviewed"

    _switch(client, "chutich")
    page = f"/designer/versions/{version_id}/decision"
    assert "Văn phòng thống nhất trình Chủ tịch." in _text(client.get(page))
    undecided = _post(client, page, page, note="Chưa chọn")
    assert undecided.status_code == 400 and "Chọn một quyết định." in _text(undecided)
    unexplained = _post(client, page, page, decision="reject", note="")
    assert unexplained.status_code == 400 and _field_error(unexplained, "note")
    assert _post(client, page, page, decision="approve", note="Đồng ý ban hành.").status_code == 302
    assert _versions(db_session, proc_id)[-1].status == "approved"
    assert _publish(client, version_id).status_code == 403  # the Chairman does not publish

    _switch(client, "thietke")
    assert _publish(client, version_id).status_code == 302
    versions = {v.id: v.status for v in _versions(db_session, proc_id)}
    assert versions == {old_version_id: "retired", version_id: "published"}
    history = _text(client.get(f"/designer/versions/{version_id}"))
    for action in ("version_submitted", "version_vp_review", "version_vp_opinion", "version_approved",
                   "version_published"):
        assert action in history
    again = _publish(client, version_id)
    assert again.status_code == 409 and "published" in _text(again)


def test_vp_leader_returns_and_chairman_rejects(client, db_session):
    proc_id, _ = _ids(db_session)
    login(client, "thietke")
    version_id = _new_version_id(_upload(client, proc_id, COMPLIANT))
    assert _submit(client, version_id).status_code == 302
    page = f"/designer/versions/{version_id}/vp-opinion"
    _switch(client, "vp.chuyenvien")
    assert _post(client, page, page, opinion="Thời gian thẩm định quá dài.").status_code == 302
    _switch(client, "vp.lanhdao")
    assert _post(client, page, page, agree="no", opinion="Trả lại để rút ngắn thời gian.").status_code == 302
    assert _versions(db_session, proc_id)[-1].status == "draft"
    stale = _post(client, page, page, agree="yes", opinion="Đồng ý")
    # A stale page: the service refuses (409), the page says the version no longer waits for the office.
    assert stale.status_code == 409 and "không chờ ý kiến của Văn phòng" in _text(stale)

    _switch(client, "thietke")
    assert _submit(client, version_id, note="Đã rút ngắn").status_code == 302
    _switch(client, "vp.chuyenvien")
    assert _post(client, page, page, opinion="Đạt.").status_code == 302
    _switch(client, "vp.lanhdao")
    assert _post(client, page, page, agree="yes", opinion="Đồng ý trình.").status_code == 302
    _switch(client, "phochutich")
    decision = f"/designer/versions/{version_id}/decision"
    assert _post(client, decision, decision, decision="reject", note="Không phù hợp.").status_code == 302
    assert _versions(db_session, proc_id)[-1].status == "rejected"
    assert "Không phù hợp." in _text(client.get(f"/designer/versions/{version_id}"))


def test_pages_render_in_english(client, db_session):
    proc_id, version_id = _ids(db_session)
    login(client, "thietke")
    client.get("/lang/en", headers={"Referer": "http://localhost/designer/"})
    assert "Procedures and their internal-procedure versions" in _text(client.get("/designer/"))
    assert "Upload a BPMN version" in _text(client.get(f"/designer/procedures/{proc_id}/upload"))
    assert "Deciding authority" in _text(client.get("/designer/procedures/new"))
    page = _text(client.get(f"/designer/versions/{version_id}"))
    assert "Time budget" in page and "Critical path" in page and "Published" in page


@pytest.mark.parametrize("username, page, heading", [
    ("vp.chuyenvien", "vp-opinion", ("Văn phòng UBND tỉnh's opinion", "Ý kiến của Văn phòng UBND tỉnh")),
    ("chutich", "decision", ("Approval of the internal procedure", "Phê duyệt quy trình nội bộ")),
])
def test_review_pages_in_both_languages(client, db_session, username, page, heading):
    _, version_id = _ids(db_session)
    login(client, username)
    path = f"/designer/versions/{version_id}/{page}"
    vietnamese = _text(client.get(path))
    assert heading[1] in vietnamese and "Báo cáo kiểm tra quy định" in vietnamese
    assert "không chờ" in vietnamese  # the published version waits for nobody
    client.get("/lang/en", headers={"Referer": "http://localhost/designer/"})
    english = _text(client.get(path))
    assert heading[0] in english and "Policy check report" in english and "is not waiting" in english
