"""The report object and its JSON form; the Vietnamese catalogue covers every message."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from bpmn import format_minutes, lint, render_text
from bpmn.i18n import LOCALE_DIR, Message, translation
from bpmn.report import EXIT_INPUT, EXIT_OK, EXIT_POLICY, Issue, Report
from tests.unit.bpmn.builder import base, base_flows, base_nodes, document, node

ROOT = Path(__file__).resolve().parents[3]
PO_FILE = Path(LOCALE_DIR) / "vi" / "LC_MESSAGES" / "lint.po"
SOURCES = [*sorted((ROOT / "bpmn").glob("*.py")), ROOT / "web" / "commands" / "lint.py"]
KEYWORDS = {"N_": None, "gettext": None, "_": None, "ngettext": (1, 2)}


def _catalog():
    with open(PO_FILE, "rb") as handle:
        return read_po(handle, locale="vi", domain="lint")


def test_json_shape():
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").props = {"tthc.allocation": "3d"}
    node(nodes, "Task_VP").lane = "Người dân"
    report = lint(document("camunda", nodes, base_flows(), {"tthc.legal_days": "5"}))
    payload = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert payload["ok"] is False
    assert set(payload["budget"]) == {"legal_minutes", "target_minutes", "allocated_minutes", "critical_path"}
    for issue in payload["errors"] + payload["warnings"]:
        assert set(issue) == {"code", "element", "message"}
    assert [(e["code"], e["element"]) for e in payload["errors"]] == [("TIME_BUDGET_EXCEEDED", "Process_1")]
    assert [(w["code"], w["element"]) for w in payload["warnings"]] == [("ROLE_UNKNOWN", "Task_VP")]
    assert payload["tasks"]["Task_ThamDinh"] == {"name": "Thẩm định hồ sơ", "type": "userTask", "lane": "Chuyên viên",
                                                 "role": "chuyen_vien", "step": None, "allocation_minutes": 1440}
    assert payload["process"] == {"id": "Process_1", "name": "Thủ tục thử", "code": None, "authority": None,
                                  "reduction": "0.3"}
    message = payload["errors"][0]["message"]
    assert message.startswith("Đường dài nhất được phân bổ 4 ngày 2 giờ, vượt thời gian mục tiêu 3 ngày 4 giờ")
    assert "cắt giảm 30%" in message


@pytest.mark.parametrize("codes, exit_code", [
    ([], EXIT_OK), (["ALLOCATION_MISSING"], EXIT_POLICY), (["VP_REVIEW_BYPASSED", "BPMN_INVALID"], EXIT_INPUT),
    (["BPMN_UNSUPPORTED"], EXIT_INPUT), (["XML_UNSAFE"], EXIT_INPUT), (["SCRIPT_FORBIDDEN"], EXIT_POLICY),
])
def test_exit_codes(codes, exit_code):
    report = Report(errors=[Issue(code, "X", Message("m")) for code in codes])
    assert report.exit_code == exit_code and report.ok is (not codes)


def test_warnings_alone_keep_exit_0():
    report = Report(warnings=[Issue("ROLE_UNKNOWN", "T", Message("m"))])
    assert report.ok and report.exit_code == 0


def test_every_error_names_an_element_once_a_process_is_known():
    data = base("spiff").replace(b'<bpmn:userTask id="Task_VP"', b"<bpmn:userTask")
    report = lint(data)
    assert report.process_id == "Process_1"
    assert report.errors and all(issue.element for issue in report.errors)
    assert lint(b"<?xml version='1.0'?><x/>").errors[0].element is None


def test_human_summary_in_both_languages():
    report = lint(base("camunda"))
    vi, en = render_text(report, "vi"), render_text(report, "en")
    assert "Quy trình: Thủ tục thử (Process_1)" in vi and "Kết quả: ĐẠT" in vi
    assert "Procedure: Thủ tục thử (Process_1)" in en and "Result: compliant" in en
    assert "Target after the cut: 3 days 4 hours (1680 min)" in en


@pytest.mark.parametrize("minutes, vi, en", [
    (0, "0 phút", "0 minutes"), (30, "30 phút", "30 minutes"), (60, "1 giờ", "1 hour"),
    (480, "1 ngày", "1 day"), (3360, "7 ngày", "7 days"), (750, "1 ngày 4 giờ 30 phút", "1 day 4 hours 30 minutes"),
])
def test_durations(minutes, vi, en):
    assert format_minutes(minutes, "vi") == vi
    assert format_minutes(minutes, "en") == en


# --- the catalogue ---------------------------------------------------------------------------

def _used_messages() -> set:
    found = set()
    for path in SOURCES:
        for _, msgid, _, _ in extract_from_file("python", path, keywords=KEYWORDS):
            found.add(msgid)
    return found


def test_every_message_used_has_a_vietnamese_translation():
    catalog = _catalog()
    used = _used_messages()
    assert len(used) > 100
    missing = [m for m in used if catalog.get(m if isinstance(m, str) else m[0]) is None]
    assert missing == []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), message.id
        assert not message.fuzzy, message.id
        assert any(ord(ch) > 127 for s in strings for ch in s), f"no Vietnamese text for {message.id!r}"


def test_placeholders_match():
    catalog = _catalog()
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check() if errors]
    assert problems == []


def test_the_compiled_catalogue_is_installed_and_current():
    # Fails loudly when `pybabel compile -d bpmn/locale -D lint` has not been run (make translations).
    compiled = translation("vi")
    for message in _catalog():
        if message.id and isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, f"stale .mo for {message.id!r}"
