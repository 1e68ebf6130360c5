"""Uploaded content is never served so that a browser renders it (issue #11, finding 1).

Through the test client: a designer uploads the hostile files (an XHTML page, an entity bomb, a
lint-clean BPMN with an XHTML <script> in its extension elements, a policy-failing BPMN with the
same script); an administrator then asks every URL that serves a version's file. Each answer is an
attachment with nosniff and a sandboxing CSP, carries no script, and an unreadable upload's bytes
are neither kept nor served. Dossier documents get the same treatment.
"""
from __future__ import annotations

import io
import re

import pytest
from lxml import etree
from sqlalchemy import select

from services import dossiers, procedures
from services.models import OrgUnit, ProcedureVersion
from tests import hostile_uploads as hostile
from tests.conftest import csrf_token, login
from tests.dossier_helpers import procedure as procedure_by_code, user

CHAIRMAN_PROCEDURE = "1.003822"  # decided by the Chairman: the bypass file fails VP_REVIEW_BYPASSED there
SCRIPT = hostile.attack_script("client", victim_id=1, org_unit_id=1)


def _upload(client, procedure_id: int, data: bytes, filename: str = "quy-trinh.bpmn") -> int:
    path = f"/designer/procedures/{procedure_id}/upload"
    form = {"csrf_token": csrf_token(client, path), "bpmn": (io.BytesIO(data), filename)}
    response = client.post(path, data=form, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/designer/versions/(\d+)$", response.headers["Location"]).group(1))


def _switch(client, username: str) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, username).status_code == 302


def _hostile_procedure(db_session) -> int:
    agency = db_session.scalar(select(OrgUnit).where(OrgUnit.code == "H01.15"))
    return procedures.create_procedure(db_session, user(db_session, "thietke"), code=hostile.XSS_CODE,
                                       name="Thủ tục thử tấn công", authority="so", agency_id=agency.id).id


def _version(db_session, version_id: int) -> ProcedureVersion:
    db_session.rollback()
    db_session.expire_all()
    return db_session.get(ProcedureVersion, version_id)


def _assert_served_as_attachment(response) -> None:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert response.headers["Cache-Control"] == "private, no-store"


def _assert_no_script(body: bytes) -> None:
    assert b"script" not in body.lower() and hostile.XHTML_NS.encode() not in body and b"XSS" not in body


def _diagram_urls(version_id: int) -> list[str]:
    return [f"/designer/versions/{version_id}/diagram.bpmn", f"/reports/versions/{version_id}/diagram.bpmn"]


@pytest.mark.parametrize("name, data", [("xhtml", hostile.xhtml_page(SCRIPT)), ("entity bomb", hostile.entity_bomb())])
def test_an_unreadable_upload_is_neither_kept_nor_served(client, db_session, name, data):
    procedure_id = _hostile_procedure(db_session)
    login(client, "thietke")
    version_id = _upload(client, procedure_id, data, filename="quy-trinh.xml")
    version = _version(db_session, version_id)
    assert not version.lint_ok and '"exit_code": 2' in version.lint_report
    assert version.bpmn == b"" and len(version.bpmn_sha256) == 64  # the report and the hash stay, not the bytes

    _switch(client, "admin")
    for url in [f"/designer/versions/{version_id}/bpmn", *_diagram_urls(version_id)]:
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert b"CDATA" not in response.data and b"<!ENTITY" not in response.data
    page = client.get(f"/designer/versions/{version_id}").get_data(as_text=True)
    assert "không lưu giữ" in page and f"/designer/versions/{version_id}/bpmn" not in page
    assert 'id="diagram"' not in page  # nothing for the drawing script to fetch


def test_a_lint_clean_bpmn_with_a_script_is_served_as_attachments_without_it(client, db_session):
    procedure_id = _hostile_procedure(db_session)
    upload = hostile.lint_clean_with_script(SCRIPT)
    login(client, "thietke")
    version_id = _upload(client, procedure_id, upload)
    assert _version(db_session, version_id).lint_ok

    _switch(client, "admin")
    # The download is the file as uploaded (its SHA-256 is on the page), but only as an attachment.
    download = client.get(f"/designer/versions/{version_id}/bpmn")
    _assert_served_as_attachment(download)
    assert download.data == upload
    # What the diagrams fetch is the BPMN re-serialized without foreign content.
    for url in _diagram_urls(version_id):
        response = client.get(url)
        _assert_served_as_attachment(response)
        _assert_no_script(response.data)
        root = etree.fromstring(response.data)
        assert root.find(".//{http://www.omg.org/spec/BPMN/20100524/DI}BPMNDiagram") is not None
        assert b"Task_ThamDinhHoSo" in response.data or b"bpmn:userTask" in response.data

    # Approved, published, a dossier received on it: the dossier's diagram is served the same way.
    designer, chairman = user(db_session, "thietke"), user(db_session, "chutich")
    procedures.submit_version(db_session, designer, version_id)
    procedures.decide_version(db_session, chairman, version_id, decision="approve", note="Đồng ý.")
    procedures.publish_version(db_session, designer, version_id)
    dossier = dossiers.receive(db_session, user(db_session, "motcua"), procedure_id=procedure_id,
                               applicant_name="Công ty Thử nghiệm")
    _switch(client, "thanhtra")  # the auditor may open every dossier (the administrator may not)
    response = client.get(f"/dossiers/{dossier.code}/bpmn")
    _assert_served_as_attachment(response)
    _assert_no_script(response.data)
    assert dossier.code in response.headers["Content-Disposition"]


def test_a_policy_failing_upload_is_served_only_as_its_diagram(client, db_session):
    procedure_id = procedure_by_code(db_session, CHAIRMAN_PROCEDURE).id
    login(client, "thietke")
    version_id = _upload(client, procedure_id, hostile.policy_failing_with_script(SCRIPT))
    version = _version(db_session, version_id)
    assert not version.lint_ok and '"exit_code": 1' in version.lint_report

    _switch(client, "admin")
    assert client.get(f"/designer/versions/{version_id}/bpmn").status_code == 404  # never the file itself
    for url in _diagram_urls(version_id):
        response = client.get(url)
        _assert_served_as_attachment(response)
        _assert_no_script(response.data)
        assert b"Activity_13eq64m" in response.data  # the element the report's overlay is drawn on
    page = client.get(f"/designer/versions/{version_id}").get_data(as_text=True)
    assert f'data-bpmn-url="/designer/versions/{version_id}/diagram.bpmn"' in page
    assert f'href="/designer/versions/{version_id}/bpmn"' not in page


def test_a_dossier_document_is_an_attachment_in_a_sandbox(client, db_session, tmp_path):
    from tests.dossier_helpers import drive, open_steps, vn

    client.application.config["QUYTRINH_DOCUMENTS_DIR"] = str(tmp_path / "docs")
    t0 = vn(2026, 3, 2, 9, 0)
    dossier = dossiers.receive(db_session, user(db_session, "motcua"),
                               procedure_id=procedure_by_code(db_session, CHAIRMAN_PROCEDURE).id,
                               applicant_name="Hội Luật gia tỉnh", received_at=t0, now=t0)
    drive(db_session, dossier.id, start=t0, until="Task_ThamDinh")
    step = open_steps(db_session, dossier.id)[0]
    login(client, "chuyenvien.noivu")
    path = f"/tasks/{step.id}/documents"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(path, data={"csrf_token": csrf_token(client, f"/tasks/{step.id}"),
                                       "file": (io.BytesIO(pdf), "đơn/../<b>.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    document_url = re.search(r'href="(/documents/\d+)"', client.get(f"/tasks/{step.id}").get_data(as_text=True))
    response = client.get(document_url.group(1))
    _assert_served_as_attachment(response)
    assert response.data == pdf
    ascii_name = re.search(r'filename="([^"]*)"', response.headers["Content-Disposition"]).group(1)
    assert ascii_name and "/" not in ascii_name and '"' not in ascii_name  # a name, never a path
