"""Hardened XML intake (nạp tệp BPMN an toàn).

The order matters: the size is checked before anything is decoded, the prolog is scanned for a
DOCTYPE before lxml sees the bytes, and lxml then parses with entities, DTDs and network access
off. SpiffWorkflow only ever receives the tree built here, so its own parser settings never
apply to uploaded bytes.

Encodings (bảng mã): whatever XML allows — UTF-8, UTF-16 and UTF-32 with or without a
byte-order mark, and any character encoding the XML declaration names (ISO-8859-1, as the OMG
MIWG reference files declare, windows-125x, Shift_JIS …). The file is decoded once, here, as
XML 1.0 Appendix F says (byte-order mark or first bytes, then the declaration), and both the
DOCTYPE scan and lxml read that same text: lxml is given the original bytes when they are UTF-8
and the text re-encoded as UTF-8 otherwise, so a DOCTYPE hidden in UTF-16 or an exotic encoding
is seen by the scan exactly where the parser would see it. An encoding name nobody knows, or a
declaration the bytes contradict, is BPMN_INVALID; encodings whose point is to disguise markup
characters (UTF-7, Python's escape codecs) are XML_UNSAFE.
"""
from __future__ import annotations

import codecs
import os
import re
from typing import BinaryIO

from lxml import etree

from bpmn.i18n import N_, Message, message
from bpmn.report import BPMN_INVALID, XML_UNSAFE

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
LIBXML_MAX_DEPTH = 256  # libxml2's nesting limit when huge_tree is off

_XML_DECL = re.compile(r"""<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
# Byte-order marks, then the first bytes of a document without one (XML 1.0, Appendix F).
# UTF-32 before UTF-16: FF FE 00 00 is UTF-32LE's mark (a NUL after a UTF-16 mark is not XML).
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xef\xbb\xbf", "utf-8"),
         (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
_SIGNATURES = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"), (b"\x00<", "utf-16-be"),
               (b"<\x00", "utf-16-le"), (b"\x4c\x6f\xa7\x94", "cp037"))  # the last: "<?xm" in EBCDIC
_WIDE = {"utf-16-le": "utf-16", "utf-16-be": "utf-16", "utf-32-le": "utf-32", "utf-32-be": "utf-32"}
# Names XML uses that Python spells otherwise.
_ALIASES = {"iso-10646-ucs-2": "utf-16", "ucs-2": "utf-16", "csunicode": "utf-16",
            "iso-10646-ucs-4": "utf-32", "ucs-4": "utf-32"}
# Text codecs whose output means something else to a reader that does not decode them: markup
# written as "+ADw-" (UTF-7) or "\u003c" (escape codecs), or no characters at all.
_DISGUISING = frozenset({"utf-7", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})
_UTF8 = frozenset({"utf-8", "utf-8-sig"})
_UNSAFE_LIBXML_ERRORS = {
    etree.ErrorTypes.ERR_RESOURCE_LIMIT,
    etree.ErrorTypes.ERR_ENTITY_LOOP,
}


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
    try:
        text, encoding = decode_document(data)
    except IntakeError as exc:
        if exc.code == BPMN_INVALID:  # a DOCTYPE is the finding that matters, whatever the encoding says
            skip, family = _family(data)  # (refused either way: the head is enough to say which)
            _check_prolog(codecs.getincrementaldecoder(family)(errors="replace").decode(data[skip:skip + 16384]))
        raise
    if not text.strip():
        raise IntakeError(BPMN_INVALID, message(N_("The file is empty.")))
    _check_prolog(text)
    try:
        root = etree.fromstring(data if encoding in _UTF8 else _as_utf8(text), _new_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, text) from None
    if root is None:
        raise IntakeError(BPMN_INVALID, message(N_("The file is empty.")))
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise IntakeError(XML_UNSAFE, _doctype_message())
    _check_root(root)
    return root


def decode_document(data: bytes) -> tuple[str, str]:
    """(the document's text without its byte-order mark, the Python codec that decoded it).

    IntakeError when the encoding is unknown, disguises markup, contradicts the bytes, or the
    bytes are not valid in it.
    """
    skip, family = _family(data)
    declared = _declared_encoding(data[skip:skip + 1024], family)
    codec = family if declared is None else _resolve(declared, data, skip, family)
    try:
        return data[skip:].decode(codec), codec
    except UnicodeDecodeError as exc:
        if codec in _UTF8:
            raise IntakeError(BPMN_INVALID, message(
                N_("The file is not UTF-8 text (byte %(offset)s); it looks like binary data, not BPMN."),
                offset=exc.start + skip)) from None
        raise IntakeError(BPMN_INVALID, message(
            N_("The file is not valid %(encoding)s text (byte %(offset)s)."),
            encoding=(declared or codec)[:40], offset=exc.start + skip)) from None


def utf8_document(data: bytes) -> bytes:
    """*data* as UTF-8 bytes, declaration included (for a browser-side viewer, which reads UTF-8).

    Only for files :func:`load_xml` accepted; UTF-8 files come back unchanged.
    """
    text, encoding = decode_document(data)
    return data if encoding in _UTF8 else _as_utf8(text)


def _family(data: bytes) -> tuple[int, str]:
    """(length of the byte-order mark, the codec its first bytes show); UTF-8 by default."""
    for mark, name in _BOMS:
        if data.startswith(mark):
            return len(mark), name
    return 0, next((name for signature, name in _SIGNATURES if data.startswith(signature)), "utf-8")


def _declared_encoding(head: bytes, family: str) -> str | None:
    text = codecs.getincrementaldecoder(family)(errors="replace").decode(head)
    declared = _XML_DECL.match(text)
    return declared.group(1).strip() if declared else None


def _resolve(declared: str, data: bytes, skip: int, family: str) -> str:
    """The codec for the *declared* name, checked against what the first bytes showed."""
    shown = declared[:40]
    name = _ALIASES.get(declared.lower(), declared)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        info = None
    if info is None or not info._is_text_encoding:
        raise IntakeError(BPMN_INVALID, message(
            N_("The file declares the encoding '%(encoding)s', which is not a known character "
               "encoding; save it as UTF-8."), encoding=shown))
    if info.name in _DISGUISING:
        raise IntakeError(XML_UNSAFE, message(
            N_("The file declares the encoding '%(encoding)s', which can disguise markup; save it "
               "as UTF-8."), encoding=shown))
    if family in _WIDE:  # the bytes decide the width and the byte order
        if info.name not in (_WIDE[family], family):
            raise _contradiction(shown, family)
        return family
    if family == "utf-8" and skip:  # a UTF-8 byte-order mark
        if info.name not in _UTF8:
            raise _contradiction(shown, "UTF-8")
        return "utf-8"
    try:
        consistent = data.startswith("<?xml".encode(info.name))
    except UnicodeError:
        consistent = False
    if not consistent:
        raise _contradiction(shown, "UTF-16/UTF-32" if data[:2] in (b"\x00<", b"<\x00") else family)
    return info.name


def _contradiction(declared: str, actual: str) -> IntakeError:
    return IntakeError(BPMN_INVALID, message(
        N_("The file declares the encoding '%(encoding)s' but is written in %(actual)s; fix the "
           "declaration or save the file as UTF-8."), encoding=declared, actual=_WIDE.get(actual, actual).upper()))


def _as_utf8(text: str) -> bytes:
    # The declaration keeps its place (line numbers stay right) but names the new encoding.
    declared = _XML_DECL.match(text)
    if declared:
        text = text[:declared.start(1)] + "UTF-8" + text[declared.end(1):]
    return text.encode("utf-8")


def _doctype_message() -> Message:
    return message(N_("The file declares a document type, DTD or entities (<!DOCTYPE …>); "
                      "BPMN files must not contain them."))


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
