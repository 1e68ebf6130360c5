"""Documents on the task page: upload limits (size, type by content), dedup by sha256, download
headers, who may download, CSRF, and nothing saved when refused."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from services.models import AuditEvent
from services.models.documents import Document
from tests.conftest import csrf_token, login
from tests.web.test_inbox import at_step, field_error, text

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def docs_dir(app, tmp_path) -> Path:
    app.config["QUYTRINH_DOCUMENTS_DIR"] = str(tmp_path / "documents")
    return tmp_path / "documents"


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".incoming" not in p.parts] if root.exists() else []


def _rows(db_session) -> int:
    db_session.rollback()
    return db_session.scalar(select(func.count(Document.id)))


def _upload(client, step_id, content: bytes, name: str, token: str | None = None):
    data = {"file": (io.BytesIO(content), name)}
    if token is not False:
        data["csrf_token"] = token or csrf_token(client, f"/tasks/{step_id}")
    return client.post(f"/tasks/{step_id}/documents", data=data, content_type="multipart/form-data")


def test_upload_then_download_as_attachment_with_the_vietnamese_name(client, db_session, docs_dir):
    dossier, step = at_step(db_session, "Task_ThamDinh")
    login(client, "chuyenvien.noivu")
    name = "Đơn đề nghị phê duyệt điều lệ.pdf"
    response = _upload(client, step.id, PDF, name)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tasks/{step.id}#documents")
    page = client.get(f"/tasks/{step.id}")
    assert name in text(page) and "Đã đính kèm tài liệu" in text(page)
    db_session.rollback()  # a fresh snapshot: see what the requests committed
    document = db_session.scalar(select(Document))
    assert (document.content_type, document.size, document.filename) == ("application/pdf", len(PDF), name)
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "document_uploaded"))
    assert event.object == f"dossier:{dossier.code}" and document.sha256 in event.payload

    response = client.get(f"/documents/{document.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="Don de nghi phe duyet dieu le.pdf"' in disposition
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_same_content_is_stored_once_and_attached_once_per_dossier(client, db_session, docs_dir):
    first, step_a = at_step(db_session, "Task_ThamDinh", name="Hội A")
    second, step_b = at_step(db_session, "Task_ThamDinh", name="Hội B")
    login(client, "chuyenvien.noivu")
    assert _upload(client, step_a.id, PDF, "CCCD.pdf").status_code == 303
    assert _upload(client, step_b.id, PDF, "can-cuoc.pdf").status_code == 303
    assert len(_stored_files(docs_dir)) == 1 and _rows(db_session) == 2
    again = _upload(client, step_a.id, PDF, "ban sao.pdf")
    assert again.status_code == 303 and _rows(db_session) == 2
    assert "Tệp này đã được đính kèm với tên 'CCCD.pdf'." in text(client.get(f"/tasks/{step_a.id}"))
    stored = _stored_files(docs_dir)[0]
    shas = set(db_session.scalars(select(Document.sha256)))
    assert shas == {stored.name} and stored.parent.name == stored.name[2:4]


@pytest.mark.parametrize("name, content, message", [
    ("setup.exe", b"MZ\x90\x00", "Không nhận tệp loại này; chỉ nhận: PDF, JPG, PNG, DOCX, XLSX, ODT."),
    ("anh-chup.pdf", PNG, "Nội dung của 'anh-chup.pdf' không phải là tệp PDF"),
    ("to-trinh.docx", b"PK\x03\x04not really a zip", "không phải là tệp DOCX"),
    ("rong.pdf", b"", "Tệp rỗng."),
])
def test_refused_types_are_named_next_to_the_file_field(client, db_session, docs_dir, name, content, message):
    _, step = at_step(db_session, "Task_ThamDinh")
    login(client, "chuyenvien.noivu")
    response = _upload(client, step.id, content, name)
    assert response.status_code == 400
    assert message in field_error(response, "field-file")
    assert _rows(db_session) == 0 and _stored_files(docs_dir) == []


def test_accepted_office_and_image_types(client, db_session, docs_dir):
    _, step = at_step(db_session, "Task_ThamDinh")
    login(client, "chuyenvien.noivu")
    assert _upload(client, step.id, docx_bytes(), "Dự thảo tờ trình.docx").status_code == 303
    assert _upload(client, step.id, PNG, "so-do.png").status_code == 303
    db_session.rollback()
    types = set(db_session.scalars(select(Document.content_type)))
    assert types == {"image/png", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def test_too_large_is_refused_next_to_the_field(app, client, db_session, docs_dir):
    app.config["QUYTRINH_DOCUMENT_MAX_BYTES"] = 2048
    _, step = at_step(db_session, "Task_ThamDinh")
    login(client, "chuyenvien.noivu")
    page = text(client.get(f"/tasks/{step.id}"))
    assert "Tối đa 2 KB" in page
    response = _upload(client, step.id, PDF + b"0" * 3000, "lon.pdf")
    assert response.status_code == 413
    assert field_error(response, "field-file") == "Tệp vượt quá dung lượng cho phép 2 KB."
    # Far past the limit: refused before the form is even read, with the same message.
    response = _upload(client, step.id, PDF + b"0" * 200_000, "rat-lon.pdf")
    assert response.status_code == 413
    assert field_error(response, "field-file") == "Tệp vượt quá dung lượng cho phép 2 KB."
    assert _rows(db_session) == 0 and _stored_files(docs_dir) == []


def test_upload_without_csrf_token_is_refused(client, db_session, docs_dir):
    _, step = at_step(db_session, "Task_ThamDinh")
    login(client, "chuyenvien.noivu")
    response = _upload(client, step.id, PDF, "a.pdf", token=False)
    assert response.status_code == 400 and "Biểu mẫu đã hết hạn" in text(response)
    assert _upload(client, step.id, PDF, "a.pdf", token="forged").status_code == 400
    assert _rows(db_session) == 0 and _stored_files(docs_dir) == []


def test_only_people_who_may_see_the_dossier_download(client, db_session, docs_dir):
    _, step = at_step(db_session, "Task_ThamDinh")
    login(client, "chuyenvien.noivu")
    _upload(client, step.id, PDF, "a.pdf")
    db_session.rollback()
    document_id = db_session.scalar(select(Document.id))
    token = csrf_token(client, "/")
    client.post("/logout", data={"csrf_token": token})
    login(client, "chuyenvien")  # Sở Xây dựng: not this dossier's
    assert client.get(f"/documents/{document_id}").status_code == 403
    assert _upload(client, step.id, PNG, "b.png").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "thanhtra")  # the auditor reads everything
    assert client.get(f"/documents/{document_id}").status_code == 200
    assert client.get("/documents/999999").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get(f"/documents/{document_id}").status_code == 302  # anonymous → login
    assert _rows(db_session) == 1
