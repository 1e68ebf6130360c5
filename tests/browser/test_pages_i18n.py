"""Every main page renders in Vietnamese (the default, with its diacritics) and in English, in a
real browser: the page's language, its heading, the header's navigation, and no broken text."""
from __future__ import annotations

import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest
from babel.support import Translations
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.browser.conftest import screenshot

TRANSLATIONS = Translations.load(str(Path(__file__).resolve().parents[2] / "web" / "translations"), ["vi"])
# UTF-8 read as Latin-1/cp1252 and similar breakage: none of these appear in Vietnamese text.
# ("XÃ" is Vietnamese; "Ã©", "áº", "á»" are UTF-8 bytes shown one by one.)
MOJIBAKE = ("Ã¡", "Ã¢", "Ã©", "Ãª", "Ã³", "Ã´", "Ãº", "Ã½", "áº", "á»", "Ä‘", "Æ°", "Æ¡", "\ufffd",
            "&amp;#", "\\u00")


def vi(msgid: str) -> str:
    """The shipped Vietnamese translation of an English msgid (another area's heading)."""
    text = TRANSLATIONS.gettext(msgid)
    assert text != msgid, f"no Vietnamese translation for {msgid!r}"
    return text


@pytest.fixture(scope="module")
def dossiers_for_pages(live_server):
    """Through the services, on the live server's database: a dossier with a supplement request
    (resumed) and an apology letter, and one waiting at the Sở Nội vụ specialist."""
    from services import dossiers
    from services.db import tune_sqlite
    from tests.dossier_helpers import drive, open_steps, procedure, user, vn

    engine = create_engine(live_server.db_url)
    tune_sqlite(engine)
    with Session(engine) as session:
        t0 = vn(2026, 3, 2, 9, 0)
        desk = user(session, "motcua")
        proc = procedure(session, "1.003822")
        letters = dossiers.receive(session, desk, procedure_id=proc.id, applicant_name="Hợp tác xã Mỹ Hòa Hưng",
                                   received_at=t0, now=t0)
        request = dossiers.stop_clock(session, desk, letters.id, kind="supplement", reason="Thiếu biên bản họp",
                                      items="Biên bản đại hội thành lập", now=t0 + timedelta(hours=1))
        dossiers.resume(session, desk, letters.id, now=t0 + timedelta(days=1))
        dossiers.issue_apology(session, desk, letters.id, reason="Chờ ý kiến phối hợp",
                               new_due_at=vn(2026, 3, 31, 16, 0), now=t0 + timedelta(days=2))
        waiting = dossiers.receive(session, desk, procedure_id=proc.id, applicant_name="Hội Khuyến học tỉnh",
                                   received_at=t0, now=t0)
        drive(session, waiting.id, start=t0, until="Task_ThamDinh")
        step = open_steps(session, waiting.id)[0]
        result = {"letters": letters.code, "request": request.id, "waiting": waiting.code, "step": step.id}
    engine.dispose()
    return result


def _pages(d):
    """(account, path, Vietnamese heading text, English heading text)."""
    return [
        (None, "/login", "Đăng nhập", "Log in"),
        ("motcua", "/", "Xin chào, Nguyễn Thị Một Cửa", "Hello, Nguyễn Thị Một Cửa"),
        ("motcua", "/desk", "Một cửa", "One-stop desk"),
        ("motcua", "/desk/receive", "Tiếp nhận hồ sơ", "Receive a dossier"),
        ("motcua", f"/desk/dossiers/{d['letters']}/receipt", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
         "RECEIPT OF THE DOSSIER AND APPOINTMENT TO RETURN THE RESULT"),
        ("motcua", f"/desk/dossiers/{d['letters']}/supplement/{d['request']}",
         "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "REQUEST TO SUPPLEMENT AND COMPLETE THE DOSSIER"),
        ("motcua", f"/desk/dossiers/{d['letters']}/apology/print", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
         "APOLOGY LETTER AND NEW DATE TO RETURN THE RESULT"),
        ("motcua", f"/desk/dossiers/{d['waiting']}/supplement", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)",
         "Request to supplement and complete the dossier (Form 02)"),
        ("motcua", f"/dossiers/{d['letters']}", f"Hồ sơ {d['letters']}", f"Dossier {d['letters']}"),
        ("chuyenvien.noivu", "/inbox", "Việc cần xử lý", "Tasks to handle"),
        ("chuyenvien.noivu", f"/tasks/{d['step']}", "Chuyên viên thẩm định hồ sơ", "Chuyên viên thẩm định hồ sơ"),
        ("thietke", "/designer/", vi("Procedures and their internal-procedure versions"),
         "Procedures and their internal-procedure versions"),
        ("admin", "/admin/users", vi("Users"), "Users"),
        ("admin", "/admin/calendar", vi("Working-time calendar"), "Working-time calendar"),
        ("thanhtra", "/audit/", vi("Audit log"), "Audit log"),
        ("thanhtra", "/reports/", vi("Progress and results of dossiers"), "Progress and results of dossiers"),
    ]


def _check_text(page) -> str:
    text = page.inner_text("body")
    assert unicodedata.is_normalized("NFC", text), "decomposed diacritics (not NFC)"
    for broken in MOJIBAKE:
        assert broken not in text, f"broken text {broken!r}"
    return text


def test_every_main_page_in_vietnamese_then_english(new_page, dossiers_for_pages):
    seen = {}
    for account, path, heading_vi, heading_en in _pages(dossiers_for_pages):
        if account not in seen:
            seen[account] = (new_page(account), new_page(account, lang="en"))
        page_vi, page_en = seen[account]

        response = page_vi.goto(path)
        assert response.status == 200, (account, path, response.status)
        assert page_vi.locator("html").get_attribute("lang") == "vi"
        assert heading_vi in page_vi.locator("h1").first.inner_text(), (path, page_vi.locator("h1").first.inner_text())
        text = _check_text(page_vi)
        if account:
            nav = page_vi.locator("header.topbar").inner_text()
            assert "Trang chủ" in nav and "Đăng xuất" in nav and "Home" not in nav and "Log out" not in nav, nav
        assert "Thời gian hiển thị theo giờ Việt Nam" in text

        response = page_en.goto(path)
        assert response.status == 200, (account, path, response.status)
        assert page_en.locator("html").get_attribute("lang") == "en"
        assert heading_en in page_en.locator("h1").first.inner_text(), (path, page_en.locator("h1").first.inner_text())
        _check_text(page_en)
        if account:
            nav = page_en.locator("header.topbar").inner_text()
            assert "Home" in nav and "Log out" in nav and "Trang chủ" not in nav, nav
    screenshot(seen["motcua"][1], "dossier_en")


def test_login_page_switches_language_from_the_header(browser_page):
    page = browser_page
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    page.click("a[hreflang=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Log in"
    page.click("a[hreflang=vi]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Đăng nhập"
