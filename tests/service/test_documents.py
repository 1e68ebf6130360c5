"""services.documents: type detection by content, file names, content-addressed storage, the
upload use case (rights, limits, dedup, audit in the same transaction) and reading back."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import func, select

from services import documents
from services.errors import Forbidden, NotFound, ValidationError
from services.models import AuditEvent
from services.models.documents import Document
from tests.dossier_helpers import open_steps, user
from tests.web.test_documents import PDF, PNG, docx_bytes
from tests.web.test_inbox import at_step


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("content, kind", [
    (PDF, "pdf"), (PNG, "png"), (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"), (docx_bytes(), "docx"),
    (_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}), "xlsx"),
    (_zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}), "odt"),
    (_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}), None),
    (_zip({"readme.txt": b"hello"}), None), (b"PK\x03\x04broken", None), (b"MZ\x90\x00", None),
    (b"<html><script>", None), (b"", None),
])
def test_detect_kind_reads_the_content(tmp_path, content, kind):
    path = tmp_path / "f"
    path.write_bytes(content)
    assert documents.detect_kind(path) == kind


def test_clean_filename_keeps_vietnamese_and_drops_paths_and_controls():
    assert documents.clean_filename("C:\\Users\\a\\Giấy đề nghị.pdf") == "Giấy đề nghị.pdf"
    assert documents.clean_filename("../../etc/passwd") == "passwd"
    assert documents.clean_filename("a\x00b\r\n.pdf") == "ab.pdf"
    assert documents.clean_filename("Gia\u0301y.pdf") == "Giáy.pdf"  # NFC
    long = documents.clean_filename("x" * 400 + ".docx")
    assert len(long) == 255 and long.endswith(".docx")
    assert documents.clean_filename("  ") == ""


def test_store_is_content_addressed_and_refuses_past_the_limit(tmp_path):
    store = documents.DocumentStore(tmp_path)
    tmp, sha, size = store.receive(io.BytesIO(PDF), max_bytes=1000)
    assert sha == hashlib.sha256(PDF).hexdigest() and size == len(PDF)
    target = store.keep(tmp, sha)
    assert target == tmp_path / sha[:2] / sha[2:4] / sha and target.read_bytes() == PDF
    again, _, _ = store.receive(io.BytesIO(PDF), max_bytes=1000)
    assert store.keep(again, sha) == target and not again.exists()
    with pytest.raises(documents.TooLarge) as refused:
        store.receive(io.BytesIO(b"0" * 1001), max_bytes=1000)
    assert refused.value.field == "file" and refused.value.status == 413
    assert list((tmp_path / ".incoming").iterdir()) == []
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def _count(db_session, model, *where):
    db_session.rollback()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_upload_records_the_row_and_its_audit_event_and_dedups(db_session, tmp_path):
    store = documents.DocumentStore(tmp_path)
    dossier, step = at_step(db_session, "Task_ThamDinh")
    official = user(db_session, "chuyenvien.noivu")
    result = documents.upload(db_session, official, dossier.id, io.BytesIO(PDF), "Tờ trình.pdf",
                              store=store, step_id=step.id)
    assert result.created and result.document.filename == "Tờ trình.pdf"
    assert result.document.step_id == step.id and result.document.uploaded_by_id == official.id
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "document_uploaded")).all()
    assert len(events) == 1 and '"document":"Tờ trình.pdf"' in events[0].payload
    again = documents.upload(db_session, official, dossier.id, io.BytesIO(PDF), "khac.pdf", store=store,
                             step_id=step.id)
    assert not again.created and again.document.id == result.document.id
    assert _count(db_session, AuditEvent, AuditEvent.action == "document_uploaded") == 1
    # The desk that received the dossier may attach to it too (no step named).
    desk = documents.upload(db_session, user(db_session, "motcua"), dossier.id, io.BytesIO(PNG), "a.png",
                            store=store)
    assert desk.created and desk.document.content_type == "image/png"
    listed = documents.documents_of(db_session, dossier.id)
    assert [d.filename for d in listed] == ["Tờ trình.pdf", "a.png"]
    document, path = documents.open_document(db_session, official, result.document.id, store)
    assert path.read_bytes() == PDF


def test_refusals_write_nothing(db_session, tmp_path):
    store = documents.DocumentStore(tmp_path / "documents")
    dossier, step = at_step(db_session, "Task_ThamDinh")
    official = user(db_session, "chuyenvien.noivu")
    with pytest.raises(Forbidden):
        documents.upload(db_session, user(db_session, "chuyenvien"), dossier.id, io.BytesIO(PDF), "a.pdf",
                         store=store, step_id=step.id)
    with pytest.raises(documents.TooLarge):
        documents.upload(db_session, official, dossier.id, io.BytesIO(PDF), "a.pdf", store=store,
                         max_bytes=10, step_id=step.id)
    with pytest.raises(ValidationError) as wrong:
        documents.upload(db_session, official, dossier.id, io.BytesIO(PNG), "a.pdf", store=store, step_id=step.id)
    assert wrong.value.field == "file"
    with pytest.raises(ValidationError):
        documents.upload(db_session, official, dossier.id, io.BytesIO(PDF), "", store=store, step_id=step.id)
    other_dossier, other_step = at_step(db_session, "Task_ThamDinh", name="Hội khác")
    with pytest.raises(NotFound):  # a step of another dossier
        documents.upload(db_session, official, dossier.id, io.BytesIO(PDF), "a.pdf", store=store,
                         step_id=other_step.id)
    assert _count(db_session, Document) == 0
    assert _count(db_session, AuditEvent, AuditEvent.action == "document_uploaded") == 0
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_reading_needs_the_right_to_see_the_dossier(db_session, tmp_path):
    store = documents.DocumentStore(tmp_path)
    dossier, step = at_step(db_session, "Task_ThamDinh")
    result = documents.upload(db_session, user(db_session, "chuyenvien.noivu"), dossier.id, io.BytesIO(PDF),
                              "a.pdf", store=store, step_id=step.id)
    with pytest.raises(Forbidden):
        documents.open_document(db_session, user(db_session, "chuyenvien"), result.document.id, store)
    # Those who handled an earlier step still see it.
    assert documents.open_document(db_session, user(db_session, "vanthu.noivu"), result.document.id, store)
    store.path(result.document.sha256).unlink()
    with pytest.raises(NotFound):
        documents.open_document(db_session, user(db_session, "thanhtra"), result.document.id, store)
    assert open_steps(db_session, dossier.id)[0].spec_id == "Task_ThamDinh"
