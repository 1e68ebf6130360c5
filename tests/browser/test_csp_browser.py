"""The pages work under their Content-Security-Policy (issue #11, finding 5), in Chromium: no CSP
violation is reported (securitypolicyviolation events, console) on the main pages, and what
they do still happens — bpmn-js draws the diagrams, htmx swaps, the print page's button is wired."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.browser.conftest import screenshot

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
}, true);
"""


@pytest.fixture(scope="module")
def dossier_at_clerk(live_server):
    """A dossier of 1.003822 waiting at Sở Nội vụ's records clerk (in the clerk's inbox)."""
    from services import dossiers
    from services.db import tune_sqlite
    from tests.dossier_helpers import drive, open_steps, procedure, user, vn

    engine = create_engine(live_server.db_url)
    tune_sqlite(engine)
    with Session(engine) as session:
        t0 = vn(2026, 4, 7, 8, 0)
        dossier = dossiers.receive(session, user(session, "motcua"), procedure_id=procedure(session, "1.003822").id,
                                   applicant_name="Hội Nông dân tỉnh", received_at=t0, now=t0)
        drive(session, dossier.id, start=t0, until="Task_VanThuSo")
        published = next(v for v in procedure(session, "1.003822").versions if v.status == "published")
        result = {"code": dossier.code, "step": open_steps(session, dossier.id)[0].id, "version": published.id}
    engine.dispose()
    return result


class Watched:
    """A logged-in page that records CSP violations, console messages about them and script errors."""

    def __init__(self, page):
        self.page, self.console, self.errors = page, [], []
        page.context.add_init_script(WATCH_VIOLATIONS)
        page.on("console", lambda msg: self.console.append(msg.text)
                if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, url: str):
        response = self.page.goto(url)
        assert response.status == 200, url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        return response

    def assert_clean(self, where: str) -> None:
        self.page.wait_for_timeout(300)
        violations = self.page.evaluate("window.__cspViolations")
        assert (violations, self.console, self.errors) == ([], [], []), where


def test_designer_version_page_draws_under_the_csp(new_page, dossier_at_clerk):
    page = Watched(new_page("thietke"))
    page.open(f"/designer/versions/{dossier_at_clerk['version']}")
    page.page.wait_for_selector("#diagram[data-qt-rendered=true] .djs-element")
    assert page.page.locator(".bjs-powered-by").is_visible()  # the watermark's styles applied (CSSOM)
    page.assert_clean("designer version page")


def test_dossier_page_draws_under_the_csp(new_page, dossier_at_clerk):
    page = Watched(new_page("motcua"))
    page.open(f"/dossiers/{dossier_at_clerk['code']}")
    page.page.wait_for_selector("#dossier-diagram[data-rendered='1'] .djs-element")
    current = page.page.locator('.djs-element[data-element-id="Task_VanThuSo"]')
    assert "qt-current" in current.get_attribute("class")
    page.assert_clean("dossier page")
    # The receipt (phiếu tiếp nhận): its Print button is wired by print.js, not an inline handler.
    page.open(f"/desk/dossiers/{dossier_at_clerk['code']}/receipt")
    page.page.evaluate("window.print = function () { window.__printed = true; }")
    page.page.get_by_role("button", name="In").click()
    assert page.page.evaluate("window.__printed") is True
    page.assert_clean("receipt")


def test_inbox_htmx_under_the_csp(new_page, dossier_at_clerk):
    page = Watched(new_page("vanthu.noivu"))
    page.open(f"/inbox?code={dossier_at_clerk['code']}")
    row = f"#step-{dossier_at_clerk['step']}"
    page.page.evaluate("window.__stay = 1")
    page.page.locator(row).get_by_role("button", name="Nhận xử lý").click()
    page.page.wait_for_selector(f"{row} button:has-text('Hủy nhận xử lý')")
    assert page.page.evaluate("window.__stay") == 1  # swapped by htmx, no page load
    page.page.locator(row).get_by_role("button", name="Hủy nhận xử lý").click()
    page.page.wait_for_selector(f"{row} button:text-is('Nhận xử lý')")
    page.assert_clean("inbox")


def test_receive_form_search_under_the_csp(new_page):
    page = Watched(new_page("motcua"))
    page.open("/desk/receive")
    with page.page.expect_response(lambda r: "/desk/procedures" in r.url):
        page.page.locator("[hx-get]").first.fill("1.003822")
    page.page.wait_for_timeout(200)
    assert "1.003822" in page.page.locator("#procedure_id").inner_text()
    page.assert_clean("receive form")


def test_reports_pages_under_the_csp(new_page, dossier_at_clerk):
    page = Watched(new_page("thanhtra"))
    page.open("/reports/")
    page.assert_clean("reports")
    page.open(f"/reports/heatmap?version={dossier_at_clerk['version']}")
    page.page.wait_for_selector("#heat-diagram[data-qt-rendered=true] .djs-element")
    screenshot(page.page, "heatmap-under-csp")
    page.assert_clean("heatmap")
