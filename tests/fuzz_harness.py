"""Hostile input over every route (dữ liệu đầu vào độc hại): the hostile values, the request builder,
the checks (no 5xx, no traceback, nothing saved half-way) and the sweep of every value over every
field. The world they run in is tests/fuzz_world.py (re-exported here).

Used by tests/web/test_input_fuzz.py (SQLite, hypothesis) and tests/postgres/test_input_fuzz_pg.py
(PostgreSQL, where a NUL or an over-long value used to fail in the driver or the column).
"""
from __future__ import annotations

import io
import logging
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select

from tests.fuzz_world import (  # noqa: F401 - the harness is used as one module
    BPMN, PDF, ROUTES, TARGETS, Target, World, build_url, build_world, catalogue, close_world, web_query_names,
)

# --- hostile values ---------------------------------------------------------------------------------

NUL_VALUES = ["\x00", "ab\x00cd", "%00", "\x00" * 3]
CONTROL_VALUES = ["\x1b[31mđỏ\x1b[0m", "a\x07b", "\x7f", "x\x85y", "\x0b\x0c", "\r\n", "\t"]
SURROGATES = ["\ud800", "a\udfffb", "\udc80\udc81"]
INVISIBLE = ["\u202e", "Nguyễn\u202eVăn A", "\u202egpj.exe", "\u200b", "a\u200db", "\ufeff", "\u2066x\u2069"]
NUMBERS = ["9223372036854775808", "9223372036854775807", "-9223372036854775809", "99999999999999999999999",
           "-1", "0", "1e308", "-1e308", "1e-300", "NaN", "inf", "-0", "²", "١٢٣", "0x1F", "1_000", "+5",
           "0.30000000000000004", "1" * 400]
FAR_DATES = ["01/01/0001", "31/12/9999", "0000-00-00", "01/01/1900 10:00", "31/12/9999 23:59", "9999-12-31",
             "0001-01-01", "00/00/0000", "32/13/2026", "29/02/2100 08:00", "01/01/2101", "12/9999",
             "01/01/0001 00:00", "31/12/2099 17:00"]
BLANK = ["", " ", "   ", "\t \n", "\u00a0", "\u3000"]
MARKUP = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "'; DROP TABLE users; --",
          "../../../etc/passwd", "{{7*7}}", "%(x)s", "%s%s%s", "\\", "//evil.example", "/\t/evil.example"]
LONG = ["x" * 41, "x" * 81, "ế" * 256, "x" * 501, "x" * 4001, "9" * 5000]
BIG = ["x" * 1_000_000, "ế" * 350_000]
SCALARS = NUL_VALUES + CONTROL_VALUES + SURROGATES + INVISIBLE + NUMBERS + FAR_DATES + BLANK + MARKUP + LONG
FILE_NAMES = ["giay-to.pdf", "a\x00b.pdf", "\u202efdp.exe", "../../x.pdf", "x" * 300 + ".pdf", "", "ảnh.png",
              "\ud800.pdf", "con\x1b.pdf", "quy-trinh.bpmn"]
FILE_BODIES = [b"", PDF, b"\x00" * 64, b"<html><script>alert(1)</script></html>", None]  # None: a library BPMN
HOSTILE_HEADERS = [("Referer", "http://localhost/\x00"), ("HX-Request", "true"), ("HX-Request", "\x00"),
                   ("Accept-Language", "vi\x00"), ("User-Agent", "a\x1b[2Jb"), ("X-Forwarded-For", "1.2.3.4\x00"),
                   ("Accept", "application/json"), ("X-CSRFToken", "\x00"), ("User-Agent", "\x85ok")]
INT_PATH = ["0", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
            "99999999999999999999999", "-1", "1e308", "NaN", "١٢", "00000000000000000000001", "1" * 5000]

def encode_pairs(pairs) -> bytes:
    def q(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="")
    return "&".join(f"{q(k)}={q(v)}" for k, v in pairs).encode("ascii")


def multipart(pairs, files) -> tuple[bytes, str]:
    """A multipart body built by hand: a hostile name or file name must reach the server as bytes."""
    boundary = "qtfuzz" + uuid.uuid4().hex

    def header_text(text: str) -> bytes:  # as browsers do (HTML: multipart/form-data encoding)
        raw = text.encode("utf-8", "surrogatepass")
        return raw.replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")

    out = io.BytesIO()
    for name, value in pairs:
        out.write(b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="' + header_text(name)
                  + b'"\r\n\r\n' + value.encode("utf-8", "surrogatepass") + b"\r\n")
    for name, filename, content in files:
        out.write(b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="' + header_text(name)
                  + b'"; filename="' + header_text(filename) + b'"\r\nContent-Type: application/octet-stream'
                  + b"\r\n\r\n" + content + b"\r\n")
    out.write(b"--" + boundary.encode() + b"--\r\n")
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# --- one request ------------------------------------------------------------------------------------

@dataclass
class Attempt:
    """What to send: path values, query pairs, form pairs, files, headers."""

    path: dict[str, str]
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    files: list[tuple[str, str, bytes]]
    headers: dict[str, str]

    def describe(self) -> str:
        def short(v):
            return repr(v if len(v) <= 80 else v[:40] + f"…({len(v)} chars)")
        parts = [f"path {k}={short(v)}" for k, v in self.path.items()]
        parts += [f"query {short(k)}={short(v)}" for k, v in self.query]
        parts += [f"form {short(k)}={short(v)}" for k, v in self.form if k != "csrf_token"]
        parts += [f"file {short(k)} name={short(n)} ({len(c)} bytes)" for k, n, c in self.files]
        parts += [f"header {k}={v!r}" for k, v in self.headers.items()]
        return "; ".join(parts)


def send(world: World, target: Target, attempt: Attempt):
    client = world.client(target.account)
    url = build_url(target.rule, attempt.path)
    if attempt.query:
        url += "?" + encode_pairs(attempt.query).decode()
    if target.method == "GET":
        return client.get(url, headers=attempt.headers)
    form = [(k, world.tokens[target.account] if k == "csrf_token" and v == "" else v) for k, v in attempt.form]
    if target.multipart or attempt.files:
        body, content_type = multipart(form, attempt.files)
    else:
        body, content_type = encode_pairs(form), "application/x-www-form-urlencoded"
    return client.open(url, method=target.method, data=body, content_type=content_type, headers=attempt.headers)


LEAKS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.", "psycopg", "OverflowError",
         "UnicodeEncodeError", "UnicodeDecodeError", "IntegrityError", "DataError", "OperationalError",
         "ProgrammingError", "werkzeug.", "ValueError", "TypeError", "KeyError", "AttributeError",
         "Something went wrong on our side", "Đã xảy ra lỗi")


@dataclass
class Outcome:
    status: int
    leak: str | None
    errors: list[logging.LogRecord]


def run_one(world: World, target: Target, attempt: Attempt) -> Outcome:
    world.log.records.clear()
    try:
        response = send(world, target, attempt)
    except Exception as exc:  # noqa: BLE001 - escaped every handler (a streamed answer failing mid-way)
        record = logging.LogRecord("escaped", logging.ERROR, __file__, 0, "escaped", None, (type(exc), exc, None))
        return Outcome(599, None, [record])
    body = response.get_data()[:2_000_000].decode("utf-8", "replace")  # read: a stream holds its context
    response.close()
    leak = next((marker for marker in LEAKS if marker in body), None) if response.content_type.startswith(
        ("text/html", "application/json", "text/plain")) else None
    return Outcome(response.status_code, leak, list(world.log.records))


def explain(target: Target, attempt: Attempt, outcome: Outcome) -> str:
    detail = ""
    if outcome.errors and outcome.errors[0].exc_info:
        exc = outcome.errors[0].exc_info[1]
        detail = f" — {type(exc).__name__}: {str(exc)[:200]}"
    return (f"{target.name} answered {outcome.status}{detail}" + (f", body shows {outcome.leak!r}" if outcome.leak
                                                                 else "") + f"\n  sent: {attempt.describe()}")


# --- the sweep: every kind of hostile value in every field, not left to a draw -------------------------

def _sweep_attempts(target: Target, values: list[str]):
    fields = [n for n, _v in target.fields if not n.endswith("csrf_token")]
    files = [(f, "giay-to.pdf", PDF) for f in target.files]
    for name in fields:
        for value in values:
            form = [(k, value if k == name else v) for k, v in target.fields]
            yield Attempt(dict(target.path), [], form, files, {})
    for name in target.own_query or ([] if fields else ["q"]):
        for value in values:
            yield Attempt(dict(target.path), [(name, value)], list(target.fields), files, {})
    for var in target.path:
        for value in (INT_PATH[1:5] if var in target.int_vars
                      else ["ab\x00cd", "\u202e", "x" * 5000]):
            yield Attempt(dict(target.path, **{var: value}), [], list(target.fields), [], {})
    for f in target.files:
        for filename in ("a\x00b.pdf", "\ud800.pdf", "x" * 300 + ".pdf"):
            yield Attempt(dict(target.path), [], list(target.fields), [(f, filename, PDF)], {})


def sweep(world: World, names, values: list[str]) -> tuple[list[str], int]:
    """Each of `values` in each field (or query parameter) of each route, each hostile path value in
    each path variable, hostile file names: (failures, requests sent)."""
    failures, sent = [], 0
    for name in names:
        target = world.targets[name]
        for attempt in _sweep_attempts(target, values):
            outcome = run_one(world, target, attempt)
            sent += 1
            if outcome.status >= 500 or outcome.leak or outcome.errors:
                failures.append(explain(target, attempt, outcome))
    return failures, sent


# --- nothing saved half-way ---------------------------------------------------------------------------

def half_saved(app) -> list[str]:
    """Problems: a broken audit chain, a daily sequence number without its dossier (or the reverse),
    a dossier without its receipt event."""
    from services import audit
    from services.models import AuditEvent, Dossier, DossierSequence
    from web.extensions import db

    problems = []
    with app.app_context():
        s = db.session
        count, broken = audit.verify(s)
        if broken is not None:
            problems.append(f"audit chain broken at #{broken.seq}: {broken.reason}")
        codes = set(s.scalars(select(Dossier.code)))
        numbered = set()
        for row in s.scalars(select(DossierSequence)):
            prefix = f"{row.agency_code}-{row.day:%y%m%d}-"
            expected = {f"{prefix}{n:04d}" for n in range(1, row.last + 1)}
            have = {c for c in codes if c.startswith(prefix)}
            if have != expected:
                problems.append(f"{prefix}: sequence at {row.last}, dossiers {sorted(have)}")
            numbered |= have
        if codes - numbered:
            problems.append(f"dossiers without a sequence number: {sorted(codes - numbered)}")
        received = set(s.scalars(select(AuditEvent.object).where(AuditEvent.action == "dossier_received")))
        missing = {f"dossier:{c}" for c in codes} - received
        if missing:
            problems.append(f"dossiers without their receipt event: {sorted(missing)}")
        s.remove()
    return problems
