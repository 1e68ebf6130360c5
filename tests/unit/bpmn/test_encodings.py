"""Encodings (issue 11, finding 10): every encoding XML allows is read, and read the same way.

Six of the 21 OMG BPMN MIWG reference files declare ISO-8859-1 and were refused for it. A file is
now decoded as XML says (byte-order mark, first bytes, declaration) and the DOCTYPE scan and the
parser read the same text; what is unsafe stays XML_UNSAFE (tests/unit/bpmn/test_hostile.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bpmn import lint
from bpmn.loader import utf8_document
from tests.unit.bpmn.builder import base

MIWG = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn" / "miwg"
_PROLOG = '<?xml version="1.0" encoding="ISO-8859-1" standalone="yes"?>\n'
_NS = ('xmlns:semantic="http://www.omg.org/spec/BPMN/20100524/MODEL" '
       'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"')
# What each reference file exercises, with names outside ASCII (Latin-1 bytes 0xC0–0xFF).
_EQUIVALENTS = {
    "A.2.0": ("Tâche 1", "Décision ?", "Tâche 2a", "Tâche 2b"),
    "A.3.0": ("Événement de début", "Étape à valider", "Fin réussie"),
    "A.4.0": ("Überprüfung", "Bestätigung", "Größe prüfen"),
    "B.1.0": ("Señal recibida", "Año fiscal", "Subproceso contraído"),
    "B.2.0": ("Ærø kontrol", "Þjónusta", "Ça marche"),
}
OLD_REFUSAL = "only UTF-8 is accepted"


def _equivalent(name: str) -> bytes:
    """A Trisotech-style MIWG file (the generator of all six) with the declared ISO-8859-1."""
    first, *others = _EQUIVALENTS[name]
    tasks = "".join(f'<semantic:task name="{n}" id="T{i}"/>' for i, n in enumerate(others))
    flows = "".join(f'<semantic:sequenceFlow sourceRef="{a}" targetRef="{b}" id="F{i}"/>'
                    for i, (a, b) in enumerate(zip(["S", *[f"T{i}" for i in range(len(others))]],
                                                   [*[f"T{i}" for i in range(len(others))], "E"])))
    text = (f'{_PROLOG}<semantic:definitions id="_{name}" name="{name}" targetNamespace="http://www.trisotech.com/'
            f'definitions/_{name}" {_NS}><semantic:process isExecutable="false" id="WFP-{name}">'
            f'<semantic:startEvent name="{first}" id="S"/>{tasks}<semantic:endEvent name="Fin" id="E"/>{flows}'
            f'</semantic:process></semantic:definitions>\n')
    return text.encode("latin-1")


def _files():
    yield "A.1.0", (MIWG / "A.1.0.bpmn").read_bytes(), ("Start Event", "Task 1", "Task 3", "End Event")
    for name, names in _EQUIVALENTS.items():
        yield name, _equivalent(name), names


@pytest.mark.parametrize("name, data, names", list(_files()), ids=[n for n, _, _ in _files()])
def test_the_miwg_iso_8859_1_files_are_no_longer_refused_for_their_encoding(name, data, names):
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"')
    report = lint(data)
    rendered = [issue.message.render("en") for issue in report.errors]
    assert not any("encoding" in text or OLD_REFUSAL in text for text in rendered), rendered
    # They are diagrams (isExecutable="false"); made executable, their names read back exactly.
    executable = lint(data.replace(b'isExecutable="false"', b'isExecutable="true"', 1))
    assert executable.process_id is not None
    assert set(names) <= set(executable.names.values()), executable.names


def _vietnamese(encoding: str, declared: str, *, bom: bool = False) -> bytes:
    text = base("camunda").decode().replace('encoding="UTF-8"', f'encoding="{declared}"')
    data = text.encode(encoding, errors="xmlcharrefreplace")  # what Java's writers do outside the charset
    return ("\ufeff".encode(encoding) if bom else b"") + data


@pytest.mark.parametrize("encoding, declared, bom", [
    ("utf-8", "UTF-8", True), ("utf-16-le", "UTF-16", True), ("utf-16-be", "UTF-16", True),
    ("utf-16-le", "UTF-16", False), ("utf-16-be", "UTF-16BE", False),
    ("utf-32-le", "UTF-32", True), ("utf-32-be", "UTF-32", False), ("latin-1", "ISO-8859-1", False),
    ("iso8859-15", "ISO-8859-15", False), ("cp1252", "windows-1252", False), ("cp1258", "windows-1258", False),
    ("cp1250", "windows-1250", False), ("shift_jis", "Shift_JIS", False), ("cp037", "IBM037", False),
])
def test_every_encoding_xml_allows_reads_the_same_procedure(encoding, declared, bom):
    reference = lint(base("camunda"))
    data = _vietnamese(encoding, declared, bom=bom)
    assert data != base("camunda")
    report = lint(data)
    assert report.ok, [i.message.render("en") for i in report.errors]
    assert report.names == reference.names and report.budget == reference.budget
    assert {t.role for t in report.tasks.values()} == {t.role for t in reference.tasks.values()}
    assert lint(utf8_document(data)).names == reference.names


@pytest.mark.parametrize("data, code, words", [
    (b'<?xml version="1.0" encoding="x-klingon"?><d/>', "BPMN_INVALID", "not a known character encoding"),
    (b'<?xml version="1.0" encoding="base64"?><d/>', "BPMN_INVALID", "not a known character encoding"),
    (b'<?xml version="1.0" encoding="UTF-7"?><d/>', "XML_UNSAFE", "disguise markup"),
    (b'<?xml version="1.0" encoding="unicode_escape"?><d/>', "XML_UNSAFE", "disguise markup"),
    ('<?xml version="1.0" encoding="UTF-8"?><d/>'.encode("utf-16"), "BPMN_INVALID", "written in UTF-16"),
    (b'<?xml version="1.0" encoding="UTF-16"?><d/>', "BPMN_INVALID", "written in UTF-8"),
    (b'\xef\xbb\xbf<?xml version="1.0" encoding="ISO-8859-1"?><d/>', "BPMN_INVALID", "written in UTF-8"),
    (b'<?xml version="1.0" encoding="windows-1252"?><d>\x81</d>', "BPMN_INVALID", "not valid windows-1252 text (byte 48)"),
    ('<?xml version="1.0" encoding="UTF-16"?><d>\ud800</d>'.encode("utf-16-le", "surrogatepass"), "BPMN_INVALID", "UTF-16"),
])
def test_unknown_disguising_or_contradicted_encodings_are_refused_with_a_clear_message(data, code, words):
    report = lint(data)
    assert report.codes() == [code], [i.message.render("en") for i in report.errors]
    assert words in report.errors[0].message.render("en")
    assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]",
                     report.errors[0].message.render("vi"))
