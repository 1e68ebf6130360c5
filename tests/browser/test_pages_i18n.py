"""Every main page renders in Vietnamese (with its diacritics) and in English, in a real browser."""
from __future__ import annotations

from tests.browser.conftest import login_as, screenshot


def test_login_page_vietnamese_then_english(browser_page):
    page = browser_page
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    screenshot(page, "login")
    page.click("a[hreflang=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Log in"
