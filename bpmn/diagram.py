"""The BPMN a browser draws (sơ đồ để hiển thị): an upload re-serialized from its hardened tree,
keeping only what bpmn-js needs to draw it.

The diagram routes never send the uploaded bytes themselves. They send this: the file parsed by
bpmn.loader (size limit, no DOCTYPE/DTD/entities, no comments or processing instructions, root
``bpmn:definitions``), then every element and attribute outside the BPMN 2.0 model and
diagram-interchange namespaces dropped — extension elements (Camunda, Zeebe, SpiffWorkflow, an
``html:script`` hidden there), foreign attributes, colours — and written back as UTF-8. Whatever
a hostile file carries in a foreign namespace cannot reach a browser through a diagram, even if
a response header were lost on the way; and the browser always receives UTF-8, whatever encoding
the upload declared.
"""
from __future__ import annotations

from lxml import etree

from bpmn.loader import BPMN_NS, DEFAULT_MAX_BYTES, load_xml, read_limited

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: Element namespaces bpmn-js reads to draw a diagram; everything else is dropped with its subtree.
DRAWN_NAMESPACES = frozenset({BPMN_NS, BPMNDI_NS, DC_NS, DI_NS})
#: Attribute namespaces kept besides none: xsi:type (bpmn:tFormalExpression on conditions, timers).
_KEPT_ATTRIBUTE_NAMESPACES = DRAWN_NAMESPACES | {XSI_NS}


def drawable(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The BPMN of *data* with foreign content removed, as UTF-8 XML.

    Raises bpmn.loader.IntakeError when *data* is not readable BPMN (the lint's exit-2 cases).
    """
    root = load_xml(read_limited(data, max_bytes))
    _prune(root)
    etree.cleanup_namespaces(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _prune(element: etree._Element) -> None:
    _prune_attributes(element)
    for child in list(element):
        if isinstance(child.tag, str) and etree.QName(child).namespace in DRAWN_NAMESPACES:
            _prune(child)
        else:
            # Comments and PIs are already gone (loader); this is a foreign element or an entity.
            _drop(child)


def _prune_attributes(element: etree._Element) -> None:
    for name in list(element.attrib):
        namespace = etree.QName(name).namespace
        if namespace is not None and namespace not in _KEPT_ATTRIBUTE_NAMESPACES:
            del element.attrib[name]


def _drop(child: etree._Element) -> None:
    """Remove *child* but keep its tail text where it was (lxml's remove() takes the tail along)."""
    parent = child.getparent()
    if child.tail:
        previous = child.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + child.tail
        else:
            parent.text = (parent.text or "") + child.tail
    parent.remove(child)
