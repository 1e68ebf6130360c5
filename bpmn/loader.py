"""Hardened XML intake (nạp tệp BPMN an toàn).

The order matters: the size is checked before anything is decoded, the prolog is scanned for a
DOCTYPE before lxml sees the bytes, and lxml then parses with entities, DTDs and network access
off. SpiffWorkflow only ever receives the tree built here, so its own parser settings never
apply to uploaded bytes.

Only UTF-8 (optionally with a byte-order mark) is accepted: every modeller saves UTF-8, and a
single encoding lets the DOCTYPE scan work on the text itself.
"""
from __future__ import annotations

import os
import re
from typing import BinaryIO

from lxml import etree

from bpmn.i18n import N_, Message, message
from bpmn.report import BPMN_INVALID, XML_UNSAFE

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
LIBXML_MAX_DEPTH = 256  # libxml2's nesting limit when huge_tree is off

_ACCEPTED_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii"}
_XML_DECL = re.compile(r"""<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_UNSAFE_LIBXML_ERRORS = {
    etree.ErrorTypes.ERR_RESOURCE_LIMIT,
    etree.ErrorTypes.ERR_ENTITY_LOOP,
}
_OTHER_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class IntakeError(Exception):
    """The file cannot be taken in; ``code`` is XML_UNSAFE or BPMN_INVALID."""

    def __init__(self, code: str, msg: Message, element: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = msg
        self.element = element


def read_limited(source: bytes | bytearray | memoryview | BinaryIO, max_bytes: int) -> bytes:
    """The bytes of *source*, refusing (XML_UNSAFE) anything over *max_bytes* before reading it all."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_large(len(data), max_bytes)
        return data
    if isinstance(source, str):
        raise TypeError("lint() takes bytes or a binary file, not str")
    size = _known_size(source)
    if size is not None and size > max_bytes:
        raise _too_large(size, max_bytes)
    data = source.read(max_bytes + 1)
    if not isinstance(data, bytes):
        raise TypeError("lint() takes bytes or a binary file")
    if len(data) > max_bytes:
        raise _too_large(size, max_bytes)
    return data


def _known_size(source: BinaryIO) -> int | None:
    try:
        return os.fstat(source.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        return None


def _too_large(size: int | None, limit: int) -> IntakeError:
    if size is None:
        return IntakeError(XML_UNSAFE, message(
            N_("The file is larger than the %(limit)s-byte limit."), limit=limit))
    return IntakeError(XML_UNSAFE, message(
        N_("The file is %(size)s bytes, over the %(limit)s-byte limit."), size=size, limit=limit))


def _new_parser() -> etree.XMLParser:
    # A parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, attribute_defaults=False,
        collect_ids=False,
    )


def load_xml(data: bytes) -> etree._Element:
    """Parse *data* (already size-checked) into the root ``bpmn:definitions`` element."""
    if not data.strip():
        raise IntakeError(BPMN_INVALID, message(N_("The file is empty.")))
    if data.startswith(_OTHER_BOMS):
        raise IntakeError(BPMN_INVALID, message(
            N_("The file is not UTF-8 text (it starts with a UTF-16/32 byte-order mark); save it as UTF-8.")))
    _check_declared_encoding(data[:512].decode("latin-1"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(BPMN_INVALID, message(
            N_("The file is not UTF-8 text (byte %(offset)s); it looks like binary data, not BPMN."),
            offset=exc.start)) from None
    _check_prolog(text)
    try:
        root = etree.fromstring(data, _new_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, text) from None
    if root is None:
        raise IntakeError(BPMN_INVALID, message(N_("The file is empty.")))
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise IntakeError(XML_UNSAFE, _doctype_message())
    _check_root(root)
    return root


def _doctype_message() -> Message:
    return message(N_("The file declares a document type, DTD or entities (<!DOCTYPE …>); "
                      "BPMN files must not contain them."))


def _check_declared_encoding(head: str) -> None:
    declared = _XML_DECL.match(head.lstrip("\ufeff").lstrip("\xef\xbb\xbf"))
    if declared and declared.group(1).strip().lower() not in _ACCEPTED_ENCODINGS:
        raise IntakeError(BPMN_INVALID, message(
            N_("The file declares the encoding '%(encoding)s'; only UTF-8 is accepted."),
            encoding=declared.group(1)[:40]))


def _check_prolog(text: str) -> None:
    """Refuse a DOCTYPE (the only place a DTD or entity declaration can be) before parsing."""
    i, n = (1 if text.startswith("\ufeff") else 0), len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return
            i = end + 3
        elif text[i:i + 9].upper() == "<!DOCTYPE":
            match = re.match(r"<!DOCTYPE\s+([^\s\[>]+)\s*>", text[i:i + 300], re.IGNORECASE)
            if match and match.group(1).lower() == "html":
                raise IntakeError(BPMN_INVALID, _html_message())
            raise IntakeError(XML_UNSAFE, _doctype_message())
        elif text.startswith("<!", i):
            raise IntakeError(XML_UNSAFE, _doctype_message())
        else:
            return


def _html_message() -> Message:
    return message(N_("The file is an HTML page, not a BPMN diagram."))


def _syntax_error(exc: etree.XMLSyntaxError, text: str) -> IntakeError:
    code = exc.code
    line, column = exc.position if exc.position else (0, 0)
    if code in _UNSAFE_LIBXML_ERRORS or "depth" in (exc.msg or "").lower():
        if "depth" in (exc.msg or "").lower():
            return IntakeError(XML_UNSAFE, message(
                N_("The XML is nested too deeply (more than %(limit)s levels)."), limit=LIBXML_MAX_DEPTH))
        return IntakeError(XML_UNSAFE, message(
            N_("The XML parser stopped at a resource limit (line %(line)s); the file is refused."),
            line=line))
    if code == etree.ErrorTypes.ERR_DOCUMENT_EMPTY:
        return IntakeError(BPMN_INVALID, message(N_("The file is empty or is not XML.")))
    if code == etree.ErrorTypes.ERR_UNDECLARED_ENTITY:
        return IntakeError(XML_UNSAFE, message(
            N_("The XML refers to an entity that is not one of XML's own (line %(line)s); "
               "entities are not allowed."), line=line))
    lines = text.splitlines() or [""]
    at_end = line >= len(lines) and column >= len(lines[-1].rstrip())
    if code == etree.ErrorTypes.ERR_TAG_NOT_FINISHED or at_end:
        return IntakeError(BPMN_INVALID, message(
            N_("The file ends before the XML is complete (line %(line)s); it looks truncated."),
            line=line))
    return IntakeError(BPMN_INVALID, message(
        N_("The file is not well-formed XML (line %(line)s, column %(column)s)."),
        line=line, column=column))


def _check_root(root: etree._Element) -> None:
    tag = root.tag if isinstance(root.tag, str) else ""
    qname = etree.QName(tag) if tag else None
    if qname is not None and qname.localname.lower() == "html":
        raise IntakeError(BPMN_INVALID, _html_message())
    if tag != f"{{{BPMN_NS}}}definitions":
        shown = qname.localname if qname is not None else "?"
        raise IntakeError(BPMN_INVALID, message(
            N_("The root element is <%(tag)s>; a BPMN file starts with <definitions> "
               "in the namespace %(ns)s."), tag=shown[:80], ns=BPMN_NS))
