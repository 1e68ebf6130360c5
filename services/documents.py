"""Documents of a dossier (tài liệu, thành phần hồ sơ): upload, content-addressed storage, access.

Storage: the bytes go to ``<root>/<sha256[:2]>/<sha256[2:4]>/<sha256>`` (root is the web app's
``instance/documents``), written to a temporary file first and renamed into place, so a reader
never sees half a file and the same content is stored once however many dossiers hold it. The
``documents`` table links a dossier to a sha256 under the name it was uploaded with.

Limits: a size limit (20 MB by default) counted while the upload streams in, and an allow-list of
types — PDF, JPEG, PNG, DOCX, XLSX, ODT — recognised from the content (magic bytes; the ZIP-based
office formats by their parts), which must agree with the file name's extension. The content type
stored and served is the detected one, never what the browser claimed.

An upload is one transaction with its audit event. The file is put in place before the commit; if
the transaction fails, an unreferenced file may remain (content-addressed, so harmless; a later
upload of the same bytes reuses it).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit, dossier_view
from services.assignment import may_perform
from services.dossiers.common import get_dossier, require_open, require_running, utcnow
from services.errors import N_, Forbidden, NotFound, ValidationError, found
from services.models import Dossier, DossierStep, User
from services.models.documents import Document
from services.models.dossiers import STEP_OPEN
from services.uow import transaction

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_FILENAME = 255
_CHUNK = 64 * 1024

# kind → (content type served, extensions accepted for it)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", ("pdf",)),
    "jpeg": ("image/jpeg", ("jpg", "jpeg")),
    "png": ("image/png", ("png",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    "odt": ("application/vnd.oasis.opendocument.text", ("odt",)),
}
EXTENSIONS = {ext: kind for kind, (_, exts) in KINDS.items() for ext in exts}
ALLOWED_LABEL = "PDF, JPG, PNG, DOCX, XLSX, ODT"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class TooLarge(ValidationError):
    status = 413


@dataclass(frozen=True)
class Upload:
    document: Document
    created: bool  # False: the same content was already attached to this dossier


def clean_filename(raw: str | None) -> str:
    """The name as the official sees it (Vietnamese kept), without any path or control characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 10 else name[:MAX_FILENAME]
    return name


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def detect_kind(path: Path) -> str | None:
    """What the content is, from its first bytes (and, for ZIP containers, their parts)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    return None


def _zip_kind(path: Path) -> str | None:
    # Only the directory and the tiny "mimetype" entry are read: nothing is decompressed at size.
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size <= 100:
                if archive.read("mimetype").strip() == KINDS["odt"][0].encode():
                    return "odt"
                return None
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return "docx"
                if any(n.startswith("xl/") for n in names):
                    return "xlsx"
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    return None


class DocumentStore:
    """Content-addressed files under `root`."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256 or ""):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def receive(self, stream: BinaryIO, max_bytes: int) -> tuple[Path, str, int]:
        """Stream into a temporary file, hashing and counting; refuse past `max_bytes`."""
        tmp_dir = self.root / ".incoming"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(dir=tmp_dir)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(N_("The file is larger than the limit of %(limit)s."), "file",
                                       limit=human_size(max_bytes))
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, digest.hexdigest(), size

    def keep(self, tmp: Path, sha256: str) -> Path:
        """Move a received file into place; the same content already stored is kept as is."""
        target = self.path(sha256)
        if target.exists():
            tmp.unlink(missing_ok=True)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)  # atomic: readers see the whole file or none
        return target


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MB" if n % (1024 * 1024) == 0 else f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n // 1024} KB"
    return f"{n} B"


def _may_upload(session: Session, user: User, dossier: Dossier, step: DossierStep | None) -> bool:
    if step is not None:
        return step.status in STEP_OPEN and may_perform(user, step.role, step.org_unit_id)
    if user.active and user.has_role("mot_cua", dossier.desk_id):
        return True
    return any(may_perform(user, s.role, s.org_unit_id) for s in dossier.steps if s.status in STEP_OPEN)


def upload(session: Session, actor: User, dossier_id: int, stream: BinaryIO, filename: str | None, *,
           store: DocumentStore, max_bytes: int = DEFAULT_MAX_BYTES, step_id: int | None = None,
           now: datetime | None = None) -> Upload:
    """Attach a file to a dossier: checked, stored by sha256, recorded with one audit event."""
    now = now or utcnow()
    name = clean_filename(filename)
    if not name:
        raise ValidationError(N_("Choose a file to upload."), "file")
    kind = EXTENSIONS.get(extension(name))
    if kind is None:
        raise ValidationError(N_("Files of this type are not accepted; allowed: %(allowed)s."), "file",
                              allowed=ALLOWED_LABEL)
    # Authorize before reading the body into storage: a stranger's upload never touches the disk.
    _check_upload_rights(session, actor, dossier_id, step_id)
    tmp, sha256, size = store.receive(stream, max_bytes)
    try:
        if size == 0:
            raise ValidationError(N_("The file is empty."), "file")
        if detect_kind(tmp) != kind:
            raise ValidationError(N_("The content of '%(name)s' is not a %(ext)s file; allowed: %(allowed)s."),
                                  "file", name=name, ext=extension(name).upper(), allowed=ALLOWED_LABEL)
        with transaction(session):
            dossier, step = _check_upload_rights(session, actor, dossier_id, step_id)
            existing = session.scalar(select(Document).where(Document.dossier_id == dossier.id,
                                                             Document.sha256 == sha256))
            if existing is not None:
                return Upload(existing, False)
            store.keep(tmp, sha256)
            document = Document(dossier_id=dossier.id, step_id=step.id if step else None, sha256=sha256,
                                filename=name, content_type=KINDS[kind][0], size=size,
                                uploaded_by_id=actor.id, uploaded_at=now)
            session.add(document)
            audit.record(session, actor.username, "document_uploaded", f"dossier:{dossier.code}", {
                "document": name, "sha256": sha256, "size": size, "content_type": KINDS[kind][0],
                "step": step.spec_id if step else None}, at=now)
        return Upload(document, True)
    finally:
        tmp.unlink(missing_ok=True)


def _check_upload_rights(session: Session, actor: User, dossier_id: int,
                         step_id: int | None) -> tuple[Dossier, DossierStep | None]:
    dossier = get_dossier(session, dossier_id)
    step = None
    if step_id is not None:
        step = session.get(DossierStep, step_id)
        if step is None or step.dossier_id != dossier.id:
            raise NotFound(N_("Step #%(id)s does not exist."), "step", id=step_id)
    if not _may_upload(session, actor, dossier, step):
        raise Forbidden(N_("You cannot add documents to dossier %(code)s."), "dossier", code=dossier.code)
    if step is not None:
        # As for completing the step: a running dossier, or a ready result at its hand-over step.
        require_running(dossier, handing_over=step.step == "return_result")
    else:
        # The desk may attach while the clock is stopped: that is when supplements arrive.
        require_open(dossier)
    return dossier, step


def documents_of(session: Session, dossier_id: int) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.dossier_id == dossier_id)
                                .order_by(Document.uploaded_at, Document.id)))


def open_document(session: Session, user: User, document_id: int, store: DocumentStore) -> tuple[Document, Path]:
    """The document and its file, for a user who may see its dossier."""
    document = found(session.get(Document, document_id), N_("Document #%(id)s does not exist."), "document",
                     id=document_id)
    # One rule for who may read a dossier, shared with its page (services.dossier_view).
    if not dossier_view.can_view(user, session.get(Dossier, document.dossier_id)):
        raise Forbidden(N_("You cannot see the documents of this dossier."), "document")
    path = store.path(document.sha256)
    if not path.is_file():
        raise NotFound(N_("The file of document '%(name)s' is missing from storage."), "document",
                       name=document.filename)
    return document, path
