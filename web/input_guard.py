"""The request guard (kiểm tra dữ liệu đầu vào): no text the database, the page or a terminal cannot
hold reaches a view, and no number a column cannot hold reaches a query.

Text. Refused with a 400 that names the parameter, field, header or the address:
- NUL (U+0000): PostgreSQL refuses it in every text column and parameter, so a NUL in any field
  or query was a 500 there (and silently stored on SQLite);
- lone surrogates (U+D800–U+DFFF): they cannot be encoded to UTF-8, neither for the database
  driver nor for the page that echoes them back (they only arrive through JSON, as Werkzeug decodes
  URLs and forms with replacement characters);
- the other control characters (Unicode category Cc: C0, DEL, C1) except TAB, LF and CR. No
  Vietnamese administrative text needs them; they are invisible on the page yet kept in the
  hash-chained audit log for ever; XML 1.0 (exports, BPMN) forbids the C0 ones; and ESC (U+001B) or
  CSI (U+009B) in a name would drive the terminal of whoever reads the log with the CLI.
Format characters (RTL override, zero-width joiners) are valid text, stored and shown escaped:
they are not refused here.

Where. The address (every path segment), each query parameter (name and value) and each header
(the HTTP grammar allows no control character but TAB in a header; headers arrive as Latin-1, so
C1 there is UTF-8 obs-text and allowed) are checked in a before_request hook that runs before every
other one (the CSRF check, the auditor rule, the role checks). Form fields (names and values),
multipart file names and JSON bodies are checked where the body is parsed, by the request class:
a view may raise the body's size limit before it reads the body (web/documents.py), which a
hook reading the body first would defeat; and whatever part of the app reads the body first, the
check comes with it. A refused body is emptied so nothing that swallowed the error can use it.

Numbers. ``<int:...>`` URL parts match only 0 ≤ n ≤ MAX_ID in ASCII digits (a 404 "does not
exist" otherwise, as for any unknown id): the app's "int" converter is replaced before any route
is added. Integer query parameters are read with :func:`int_arg` (a 400 naming the parameter) and
page numbers with :func:`page_arg` (a pager link edited by hand shows the first page).
"""
from __future__ import annotations

import re
from typing import Callable

from flask import Flask, Request, request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# The ids are INTEGER columns: 64-bit on SQLite but 32-bit on PostgreSQL, where SQLAlchemy binds
# them as $1::INTEGER, so 2**31 already fails there ("integer out of range"). The smaller bound.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000      # no list here has that many pages: beyond it a page number is a typo
SHOWN_NAME = 60         # how much of a (hostile) field name the message repeats

# Text values: NUL, C0 but TAB/LF/CR, DEL and C1, and the surrogate range (lone surrogates).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Header values: what RFC 9110 forbids in a field value (CR and LF included), TAB allowed.
_FORBIDDEN_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class InvalidInput(BadRequest):
    """400: a value cannot be accepted; `field` names where it was, the description says why."""

    def __init__(self, description: str, field: str):
        super().__init__(description)
        self.field = field


# --- text -----------------------------------------------------------------------------------------

def shown(text: str) -> str:
    """`text` safe to repeat in a message: refused characters written as U+XXXX, cut to a length."""
    safe = _FORBIDDEN.sub(lambda m: f"U+{ord(m.group()):04X}", text)
    return safe if len(safe) <= SHOWN_NAME else safe[:SHOWN_NAME] + "…"


def refused_character(text: str) -> str | None:
    """The first refused character of `text` as U+XXXX, or None: for entry points other than a
    request (the CLI's options), which cannot raise InvalidInput."""
    match = _FORBIDDEN.search(text)
    return None if match is None else f"U+{ord(match.group()):04X}"


def _refuse(where: str, field: str, match: re.Match) -> InvalidInput:
    return InvalidInput(_(
        "%(where)s contains a character that is not allowed (%(char)s) at position %(position)d. "
        "Remove it and try again.", where=where, char=f"U+{ord(match.group()):04X}", position=match.start() + 1),
        field)


def check_text(text: str, where: Callable[[], str], field: str, pattern: re.Pattern = _FORBIDDEN) -> None:
    """Raise InvalidInput naming `where()` when `text` holds a refused character."""
    match = pattern.search(text)
    if match is not None:
        raise _refuse(where(), field, match)


def _check_pairs(pairs, where_name: Callable[[str], str], where_value: Callable[[str], str]) -> None:
    for key, value in pairs:
        check_text(key, lambda: where_name(key), key)
        if isinstance(value, str):
            check_text(value, lambda: where_value(key), key)


def check_form(form, files) -> None:
    """Form fields (name and value) and multipart files (field name and file name)."""
    _check_pairs(form.items(multi=True), lambda k: _("A form field's name “%(name)s”", name=shown(k)),
                 lambda k: _("The form field “%(name)s”", name=shown(k)))
    for key, upload in files.items(multi=True):
        check_text(key, lambda: _("A form field's name “%(name)s”", name=shown(key)), key)
        check_text(upload.filename or "", lambda: _("The name of the file in the field “%(name)s”",
                                                    name=shown(key)), key)


def check_json(value, path: str = "$") -> None:
    """Every key and string of a decoded JSON body; `path` names the value ($.items[0].name)."""
    if isinstance(value, str):
        check_text(value, lambda: _("The JSON value “%(name)s”", name=shown(path)), path)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(str(key), lambda: _("A JSON key in “%(name)s”", name=shown(path)), path)
            check_json(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{path}[{index}]")


def check_request_line_and_headers(req: Request) -> None:
    """The address, the query parameters and the headers of `req`."""
    check_text(req.path, lambda: _("The address (URL)"), "path")
    _check_pairs(req.args.items(multi=True), lambda k: _("A query parameter's name “%(name)s”", name=shown(k)),
                 lambda k: _("The query parameter “%(name)s”", name=shown(k)))
    for name, value in req.headers.items():
        check_text(name, lambda: _("A header's name"), "header", _FORBIDDEN_IN_HEADER)
        check_text(value, lambda: _("The header “%(name)s”", name=shown(name)), name, _FORBIDDEN_IN_HEADER)


class GuardedRequest(Request):
    """Flask's request, whose body is checked as it is parsed (form, files, JSON)."""

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        super()._load_form_data()
        try:
            check_form(self.form, self.files)
        except InvalidInput:
            self.__dict__["form"] = ImmutableMultiDict()
            self.__dict__["files"] = ImmutableMultiDict()
            raise

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        data = super().get_json(force=force, silent=silent, cache=cache)
        if data is not None:
            check_json(data)
        return data


# --- numbers --------------------------------------------------------------------------------------

class BoundedIntConverter(IntegerConverter):
    """``<int:...>``: ASCII digits (``\\d`` also matches other scripts' digits) whose value an id
    column can hold; anything else does not match the route, a 404 like any unknown id."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        if min is None:
            min = -MAX_ID - 1 if signed else 0
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def whole_number(text: str | None, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """`text` as an integer from `low` to `high` (ASCII digits, an optional sign, spaces around),
    or None. Not int(): it takes '1_000', Arabic-Indic digits and 5,000-digit strings."""
    text = (text or "").strip()
    if not text or len(text) > 20 or _WHOLE_NUMBER.fullmatch(text) is None:
        return None
    value = int(text)
    return value if low <= value <= high else None


def int_arg(name: str, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """The integer query parameter `name`: None when absent or empty, a 400 naming it when it is
    not a whole number from `low` to `high`."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return None
    value = whole_number(raw, low=low, high=high)
    if value is None:
        raise InvalidInput(_("The query parameter “%(name)s” must be a whole number from %(low)d to %(high)d, "
                             "not “%(value)s”.", name=shown(name), low=low, high=high, value=shown(raw)), name)
    return value


def page_arg(name: str = "page") -> int:
    """The page number of a list: 1 unless it is a whole number from 1 to MAX_PAGE."""
    return whole_number(request.args.get(name), low=1, high=MAX_PAGE) or 1


# --- registration ---------------------------------------------------------------------------------

def _guard() -> None:
    check_request_line_and_headers(request)


def register(app: Flask) -> None:
    """Before any blueprint is registered: the converter is bound when a route is added."""
    if any(rule.endpoint != "static" for rule in app.url_map.iter_rules()):
        raise RuntimeError("input_guard.register must run before the blueprints are registered")
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = GuardedRequest
    app.before_request_funcs.setdefault(None, []).insert(0, _guard)
