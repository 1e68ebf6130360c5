"""The vendored front-end packages (web/static/vendor): the pinned versions are the ones served, the
licences are there, and no page loads a script or stylesheet from another site (no CDN)."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "web" / "static" / "vendor"
SCRIPT = (REPO / "tools" / "vendor.sh").read_text(encoding="utf-8")


def _pinned(name: str) -> str:
    return re.search(rf"^{name}=(\S+)$", SCRIPT, re.M).group(1)


def test_bpmn_js_builds_are_the_pinned_version():
    version = _pinned("BPMN_JS_VERSION")
    for build in ("bpmn-viewer", "bpmn-navigated-viewer", "bpmn-modeler"):
        head = (VENDOR / "bpmn-js" / f"{build}.production.min.js").read_text(encoding="utf-8")[:200]
        assert f"bpmn-js - {build} v{version} " in head
    for css in ("assets/diagram-js.css", "assets/bpmn-js.css", "assets/bpmn-font/css/bpmn.css",
                "assets/bpmn-font/font/bpmn.woff2"):
        assert (VENDOR / "bpmn-js" / css).is_file(), css
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert f"| {version} |" in readme


def test_htmx_is_the_pinned_version():
    version = _pinned("HTMX_VERSION")
    assert version.startswith("2.")
    assert f'version:"{version}"' in (VENDOR / "htmx" / "htmx.min.js").read_text(encoding="utf-8")
    assert f"| {version} |" in (VENDOR / "README.md").read_text(encoding="utf-8")


def test_licences_are_kept_with_the_watermark_clause():
    bpmn_licence = (VENDOR / "bpmn-js" / "LICENSE").read_text(encoding="utf-8")
    assert "watermark" in bpmn_licence and "MUST NOT be" in bpmn_licence
    assert "Zero-Clause BSD" in (VENDOR / "htmx" / "LICENSE").read_text(encoding="utf-8")


def test_no_page_loads_from_another_site():
    remote = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
    offenders = [str(path.relative_to(REPO)) for path in (REPO / "web" / "templates").rglob("*.html")
                 if remote.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
    for js in (REPO / "web" / "static" / "js").glob("*.js"):
        assert not re.search(r"""["']https?://""", js.read_text(encoding="utf-8")), js.name
