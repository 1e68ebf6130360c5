"""Serving uploaded content (phục vụ tệp do người dùng tải lên): the one way a response carries bytes
that a user put on the server — a procedure version's BPMN, its diagram, a dossier's documents.

An upload comes from our own origin, so a browser that rendered it as a page would run whatever
script it holds with an official's session (an XHTML page, or an ``html:script`` inside a BPMN's
extension elements, opened by an administrator, granted admin to another account). Every such
response is therefore:

- a download (``Content-Disposition: attachment`` with a safe ASCII name and the real UTF-8 name),
  never a page; the diagram script reads it with fetch(), which the header does not affect;
- ``X-Content-Type-Options: nosniff`` and a sandboxing CSP (``default-src 'none'; sandbox``), so
  that even a browser that ignores the disposition gets an opaque origin with no script;
- ``Cache-Control: private, no-store`` and ``Cross-Origin-Resource-Policy: same-origin``.

The app-wide security headers (web/security_headers.py) leave these responses' CSP as set here.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file

from services import version_files
from services.models import ProcedureVersion

UPLOAD_CSP = "default-src 'none'; sandbox"
XML = "application/xml"


def content_disposition(filename: str) -> str:
    """attachment; an ASCII fallback name and the real (Vietnamese) name per RFC 5987/6266."""
    ascii_name = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    ascii_name = "".join(ch for ch in ascii_name if 32 <= ord(ch) < 127 and ch not in '"\\;%/')
    ascii_name = ascii_name.strip(" .") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def uploaded(content: bytes | Path, *, filename: str, content_type: str) -> Response:
    """The response for uploaded *content* (bytes, or a stored file served with range support)."""
    if isinstance(content, Path):
        response = send_file(content, mimetype=content_type, as_attachment=True, download_name=filename,
                             conditional=True, max_age=0)
    else:
        response = Response(content, content_type=content_type)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Content-Type"] = content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = UPLOAD_CSP
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def version_file(version: ProcedureVersion) -> Response:
    """The version's file as uploaded (its SHA-256 is the one the version page shows)."""
    # No charset: the file's own XML declaration says how it is encoded.
    return uploaded(version_files.original(version), filename=f"version-{version.id}.bpmn", content_type=XML)


def version_diagram(version: ProcedureVersion, name: str | None = None) -> Response:
    """The version's BPMN for bpmn-js: re-serialized from the hardened tree, foreign content removed."""
    return uploaded(version_files.diagram(version), filename=name or f"version-{version.id}-diagram.bpmn",
                    content_type=f"{XML}; charset=utf-8")
