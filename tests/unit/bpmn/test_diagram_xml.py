"""bpmn.diagram.drawable: the BPMN a browser is given to draw keeps every BPMN and diagram element and
drops all foreign content (an XHTML or SVG script, extension elements, foreign attributes)."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bpmn.diagram import DRAWN_NAMESPACES, drawable
from bpmn.loader import IntakeError
from tests import hostile_uploads as hostile

LIBRARY = sorted((Path(__file__).resolve().parents[3] / "bpmn" / "library").glob("*.bpmn"))
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def _drawn(root) -> list[tuple[str, str | None]]:
    """(tag, id) of every element in the drawn namespaces, in document order."""
    return [(el.tag, el.get("id")) for el in root.iter()
            if isinstance(el.tag, str) and etree.QName(el).namespace in DRAWN_NAMESPACES]


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_every_bpmn_and_diagram_element_is_kept(path):
    data = path.read_bytes()
    before, after = etree.fromstring(data), etree.fromstring(drawable(data))
    assert _drawn(after) == _drawn(before)
    assert [el.get(XSI_TYPE) for el in after.iter() if el.get(XSI_TYPE)] == \
        [el.get(XSI_TYPE) for el in before.iter() if el.get(XSI_TYPE)]
    assert all(etree.QName(el).namespace in DRAWN_NAMESPACES for el in after.iter())
    assert b"camunda" not in drawable(data)


def test_scripts_in_foreign_namespaces_are_gone():
    data = hostile.lint_clean_with_script(hostile.attack_script("unit", 1, 1))
    out = drawable(data)
    assert b"<html:script" in data and b"<svg:script" in data
    assert b"script" not in out.lower() and b"XSS" not in out and hostile.XHTML_NS.encode() not in out
    assert out.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_a_prefix_bound_to_another_namespace_does_not_pass_for_bpmn():
    """`bpmn:` is only a prefix: an element named bpmn:script in the XHTML namespace is foreign."""
    data = (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" '
            b'xmlns:x="http://www.w3.org/1999/xhtml" x:onload="alert(1)">'
            b'<bpmn:process id="P"><bpmn:documentation>keep me</bpmn:documentation>'
            b'<bpmn:script xmlns:bpmn="http://www.w3.org/1999/xhtml">alert(1)</bpmn:script> tail'
            b'<bpmn:startEvent id="S"/></bpmn:process></bpmn:definitions>')
    out = drawable(data)
    assert b"alert" not in out and b"onload" not in out and b"xhtml" not in out
    root = etree.fromstring(out)
    assert [el.get("id") for el in root.iter() if el.get("id")] == ["D", "P", "S"]
    assert b"keep me" in out and b" tail" in out  # text around a dropped element stays in place


@pytest.mark.parametrize("data", [hostile.xhtml_page("alert(1)"), hostile.entity_bomb(), b"", b"not xml"])
def test_an_unreadable_file_has_no_diagram(data):
    with pytest.raises(IntakeError):
        drawable(data)
