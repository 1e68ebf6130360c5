"""The uploaded file of a procedure version (tệp BPMN của phiên bản): what is kept, what may be served.

One rule, used at upload and on every route that serves a version's file:

- An upload the linter cannot read (exit code 2: XML_UNSAFE, BPMN_INVALID, BPMN_UNSUPPORTED — an
  XHTML page, an entity bomb, a file that is not BPMN) is not kept. Its lint report, written at
  upload, is all the version page needs; the bytes would only be something to serve by mistake.
  The version keeps its SHA-256 and the audit event its size, so what was refused stays on record.
- Nothing of such a version is ever served, even if an older row still holds its bytes.
- An upload that is readable but fails the policy check (exit code 1) is kept because its report
  is drawn on its diagram; it is served only as that diagram, never as the file itself.
- A diagram is never the upload itself but bpmn.diagram.drawable(): the hardened tree, foreign
  content removed, as UTF-8. Only a lint-clean file can be downloaded as uploaded (web/serving.py
  sends it as an attachment that no browser renders).
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict

from bpmn.diagram import drawable
from bpmn.loader import IntakeError
from bpmn.report import EXIT_INPUT, Report
from services.errors import N_, NotFound
from services.models import ProcedureVersion


def kept_bytes(report: Report, data: bytes) -> bytes:
    """The bytes to store for an upload with this lint report (empty when it was unreadable)."""
    return b"" if report.exit_code == EXIT_INPUT else bytes(data)


def is_kept(version: ProcedureVersion) -> bool:
    """Whether the version's file may be served: stored, and readable when it was linted."""
    return bool(version.bpmn) and _stored_exit_code(version) != EXIT_INPUT


def is_downloadable(version: ProcedureVersion) -> bool:
    """Whether the file itself may be downloaded: kept and lint-clean."""
    return version.lint_ok and is_kept(version)


def original(version: ProcedureVersion) -> bytes:
    """The uploaded bytes of a lint-clean version (the designer's download); NotFound otherwise."""
    if not is_kept(version):
        raise _not_kept(version)
    if not version.lint_ok:
        raise NotFound(N_("The file of version %(n)s failed the policy check: only its diagram is shown."),
                       "version", n=version.number)
    return bytes(version.bpmn)


def diagram(version: ProcedureVersion) -> bytes:
    """The version's BPMN for a diagram (bpmn.diagram.drawable); NotFound when there is none."""
    if not is_kept(version):
        raise _not_kept(version)
    key = (version.id, version.bpmn_sha256)
    cached = _DIAGRAMS.get(key)
    if cached is not None:
        return cached
    try:
        drawn = drawable(bytes(version.bpmn))
    except IntakeError:
        # Kept but not readable under today's intake rules (a limit lowered since): no diagram.
        raise _not_kept(version) from None
    _DIAGRAMS.put(key, drawn)
    return drawn


class _DiagramCache:
    """Re-serialized diagrams by (version id, SHA-256), within a byte budget, least recently used
    out first. A version's file never changes, so an entry never goes stale. Drawing takes 1–2 ms
    for a real procedure but ~0.6 s for a 5 MB upload, and the dossier page fetches it on every view."""

    def __init__(self, budget: int) -> None:
        self.budget, self.size = budget, 0
        self.entries: OrderedDict[tuple[int, str], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> bytes | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: tuple[int, str], value: bytes) -> None:
        if len(value) > self.budget:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = value
            self.size += len(value)
            while self.size > self.budget:
                _, old = self.entries.popitem(last=False)
                self.size -= len(old)


_DIAGRAMS = _DiagramCache(budget=32 * 1024 * 1024)


def _not_kept(version: ProcedureVersion) -> NotFound:
    return NotFound(N_("The file of version %(n)s was not kept: it could not be read as BPMN "
                       "(its lint report says why)."), "version", n=version.number)


def _stored_exit_code(version: ProcedureVersion) -> int | None:
    try:
        stored = json.loads(version.lint_report or "{}")
    except ValueError:
        return None
    for report in stored.values() if isinstance(stored, dict) else ():
        if isinstance(report, dict) and "exit_code" in report:
            return report["exit_code"]
    return None
