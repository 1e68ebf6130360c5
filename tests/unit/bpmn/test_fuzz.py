"""Fuzzing: whatever the bytes, lint returns a report with exit 0, 1 or 2 and never raises."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bpmn import lint
from bpmn.report import ALL_CODES
from tests.unit.bpmn.builder import FLAVOURS, base

SEEDS = {flavour: base(flavour) for flavour in FLAVOURS}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


UNEXPECTED = "The linter stopped on an unexpected problem (%(kind)s); the file could not be checked."


def _check(data: bytes) -> None:
    report = lint(data)
    assert report.exit_code in (0, 1, 2)
    # The catch-all keeps lint from raising; reaching it while fuzzing would still be a bug.
    assert [i.message.params for i in report.errors if i.message.msgid == UNEXPECTED] == []
    assert {issue.code for issue in report.errors + report.warnings} <= ALL_CODES
    for lang in ("vi", "en"):
        payload = json.loads(json.dumps(report.to_dict(lang), ensure_ascii=False))
        assert payload["ok"] is (report.exit_code == 0)
        assert set(payload["budget"]) >= {"legal_minutes", "target_minutes", "allocated_minutes", "critical_path"}
        for issue in payload["errors"] + payload["warnings"]:
            assert issue["message"] and "Traceback" not in issue["message"]


@FUZZ
@given(st.binary(max_size=2048))
def test_raw_bytes(data):
    _check(data)


@FUZZ
@given(st.sampled_from(FLAVOURS), st.data())
def test_byte_flips_and_truncations(flavour, data):
    seed = bytearray(SEEDS[flavour])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(seed) - 1))
        seed[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        seed = seed[: data.draw(st.integers(0, len(seed)))]
    _check(bytes(seed))


_ATTRIBUTES = ["id", "sourceRef", "targetRef", "default", "attachedToRef", "isExecutable", "name", "value",
               "triggeredByEvent", "cancelActivity"]
_VALUES = ["", "Task_VP", "Flow_1", "Process_1", "StartEvent_1", "false", "true", "x y", "'", "-1d", "0",
           "Gateway_KetQua", "${a.b()}", "=f(x)", "__import__('os')", "P1W", "chairman_approval", "vp_review"]


@FUZZ
@given(st.sampled_from(FLAVOURS), st.data())
def test_element_deletions_and_attribute_changes(flavour, data):
    root = etree.fromstring(SEEDS[flavour])
    elements = list(root.iter(etree.Element))
    for _ in range(data.draw(st.integers(1, 5))):
        element = data.draw(st.sampled_from(elements))
        action = data.draw(st.sampled_from(["delete", "set", "unset", "text", "duplicate"]))
        parent = element.getparent()
        if action == "delete" and parent is not None:
            parent.remove(element)
            elements = list(root.iter(etree.Element))
        elif action == "set":
            element.set(data.draw(st.sampled_from(_ATTRIBUTES)), data.draw(st.sampled_from(_VALUES)))
        elif action == "unset":
            for name in list(element.attrib)[:1]:
                del element.attrib[name]
        elif action == "text":
            element.text = data.draw(st.sampled_from(_VALUES))
        elif action == "duplicate" and parent is not None:
            parent.append(etree.fromstring(etree.tostring(element)))
            elements = list(root.iter(etree.Element))
    _check(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
