"""A Chairman-authority dossier (1.003822, Phê duyệt điều lệ hội) from the one-stop desk through
Sở Nội vụ, the Văn phòng UBND tỉnh and the Chairman, back to the desk — in a real browser, each
step done by that role's own account through its inbox and task page."""
from __future__ import annotations

import re

from tests.browser.conftest import SCREENSHOTS, login_as, screenshot

APPLICANT = "Hội Cựu chiến binh doanh nhân tỉnh An Giang"

# (account, the step it completes, the values it types, its opinion)
CHAIN = [
    ("vanthu.noivu", "Task_VanThuSo", {"incoming_number": "1254/SNV-VT"}, "Chuyển phòng Tổ chức – Biên chế."),
    ("chuyenvien.noivu", "Task_ThamDinh", {"draft_reference": "TTr-45/SNV"},
     "Hồ sơ đủ điều kiện; đề nghị trình phê duyệt điều lệ."),
    ("lanhdaophong.noivu", "Task_LanhDaoPhong", {}, "Thống nhất, trình Lãnh đạo Sở."),
    ("lanhdaoso.noivu", "Task_LanhDaoSo", {"submission_number": "312/TTr-SNV"}, "Ký tờ trình, gửi UBND tỉnh."),
    ("vp.chuyenvien", "Task_VP_ThamTra", {"proposal": "approve"}, "Đã thẩm tra, đủ căn cứ trình Chủ tịch."),
    ("vp.lanhdao", "Task_VP_LanhDao", {"decision": "approve"}, "Đồng ý trình."),
    ("chutich", "Task_ChuTichKy", {}, "Đồng ý phê duyệt điều lệ hội."),
    ("vanthu.ubnd", "Task_VanThuUBND", {"decision_number": "1789/QĐ-UBND"}, "Đã vào số, phát hành."),
]


def _fill_task_form(page, values: dict[str, str], opinion: str) -> None:
    """Fill the BPMN form of the task page: the given values, then anything still required."""
    form = page.locator("form.task-form")
    for name, value in values.items():
        control = form.locator(f"[name='f_{name}']")  # the task page prefixes the BPMN field ids
        kind = control.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind.startswith("select"):
            control.select_option(value)
        elif kind.endswith(":radio"):
            form.locator(f"input[name='f_{name}'][value='{value}']").check()
        else:
            control.fill(value)
    for control in form.locator("input.input[required]").all():
        if not control.input_value():
            control.fill("Theo hồ sơ")
    form.locator("textarea[name=opinion]").fill(opinion)


def _complete(page, opinion: str, values: dict[str, str]) -> None:
    _fill_task_form(page, values, opinion)
    with page.expect_navigation():
        page.locator("form.task-form button[type=submit]").click()
    assert re.search(r"/tasks/\d+/done$", page.url), page.inner_text("main")[:800]


def _open_from_inbox(page, code: str, step_name: str) -> None:
    page.goto(f"/inbox?code={code}")
    row = page.locator("tr.inbox-row", has_text=code)
    assert row.count() == 1, page.inner_text("main")[:800]
    assert step_name in row.inner_text()
    with page.expect_navigation():
        row.locator("a", has_text=step_name).click()
    assert re.search(r"/tasks/\d+$", page.url)
    assert code in page.inner_text("main")


def _receive(page) -> str:
    page.goto("/desk/receive")
    # The htmx search narrows the procedure list while typing (without diacritics).
    page.fill("#q", "dieu le hoi")
    page.wait_for_function(
        "() => { const o = [...document.querySelectorAll('#procedure_id option')].map(x => x.textContent);"
        " return o.some(t => t.includes('1.003822')) && !o.some(t => t.includes('1.009974')); }")
    value = page.locator("#procedure_id option", has_text="1.003822").get_attribute("value")
    page.select_option("#procedure_id", value)
    assert "1.003822" in page.locator("#procedure_id option:checked").inner_text()
    # Bad input first: no applicant name and a receipt time in the future → said next to each field.
    page.fill("#applicant_phone", "0296 3841 234")
    page.fill("#received_at", "01/01/2099 08:00")
    with page.expect_navigation():
        page.click("form[method=post] button.primary")
    assert page.locator("#applicant_name-error").inner_text() == "Phải nhập tên người nộp hồ sơ."
    assert page.locator("#received_at-error").inner_text() == (
        "Thời gian nhận hồ sơ: không được là thời điểm trong tương lai.")
    assert page.locator("#applicant_phone").input_value() == "0296 3841 234"  # what was typed stays
    assert "1.003822" in page.locator("#procedure_id option:checked").inner_text()
    screenshot(page, "desk_receive_errors")
    page.fill("#received_at", "")
    page.fill("#applicant_name", APPLICANT)
    page.fill("#applicant_id_number", "089201000123")
    page.fill("#applicant_phone", "0296 3841 234")
    page.fill("#applicant_email", "ccb.doanhnhan@example.vn")
    page.fill("#applicant_address", "15 Lê Lợi, phường Long Xuyên, tỉnh An Giang")
    screenshot(page, "desk_receive")
    with page.expect_navigation():
        page.click("form[method=post] button.primary")
    assert page.url.endswith("/receipt"), page.inner_text("main")[:800]
    return page.locator(".sheet .dossier-code").inner_text().strip()


def test_chairman_dossier_from_the_desk_to_the_chairman_and_back(new_page, browser_page):
    # The login page, before anyone logs in.
    browser_page.goto("/login")
    screenshot(browser_page, "login")

    desk = new_page("motcua")
    code = _receive(desk)
    assert re.fullmatch(r"H01\.21-\d{6}-\d{4}", code)

    # The receipt (Mẫu 01): code, applicant, return date, officer; printed on A4 without the app's chrome.
    sheet = desk.locator(".sheet")
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in sheet.inner_text().upper()
    assert APPLICANT in sheet.inner_text() and "Nguyễn Thị Một Cửa" in sheet.inner_text()
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", sheet.locator(".due-at").inner_text())
    screenshot(desk, "receipt")
    desk.emulate_media(media="print")
    assert desk.locator(".topbar").is_hidden() and desk.locator(".print-toolbar").is_hidden()
    screenshot(desk, "receipt_print")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desk.pdf(path=str(SCREENSHOTS / "receipt.pdf"), format="A4", print_background=True)
    desk.emulate_media(media="screen")

    # The desk completes its receiving step (the receipt links to it; the applicant's name is known).
    with desk.expect_navigation():
        desk.click(".print-toolbar a[href^='/tasks/']")
    assert desk.locator("form.task-form input[name=f_applicant_name]").input_value() == APPLICANT
    desk.locator("form.task-form input[name=f_documents_complete]").check()
    _complete(desk, "Hồ sơ đầy đủ, chuyển Sở Nội vụ.", {})

    for username, spec_id, values, opinion in CHAIN:
        page = new_page(username)
        step_names = {"Task_VanThuSo": "Văn thư Sở nhận hồ sơ", "Task_ThamDinh": "Chuyên viên thẩm định",
                      "Task_LanhDaoPhong": "Lãnh đạo phòng xem xét", "Task_LanhDaoSo": "Lãnh đạo Sở ký tờ trình",
                      "Task_VP_ThamTra": "thẩm tra hồ sơ", "Task_VP_LanhDao": "Lãnh đạo Văn phòng UBND tỉnh thông qua",
                      "Task_ChuTichKy": "Chủ tịch UBND tỉnh ký quyết định", "Task_VanThuUBND": "Văn thư UBND tỉnh vào số"}
        if username == "chuyenvien.noivu":
            page.goto(f"/inbox?code={code}")
            screenshot(page, "inbox")
        _open_from_inbox(page, code, step_names[spec_id])
        if username == "chutich":
            screenshot(page, "task_page")
        _complete(page, opinion, values)
        page.context.close()

    # Back at the desk: the dossier page offers the result handover through the return step.
    desk.goto(f"/dossiers/{code}")
    with desk.expect_navigation():
        desk.click("#desk-actions a[href^='/tasks/']")
    desk.locator("form.task-form input[name=f_received_by]").fill("Ông Trần Văn Bình (Chủ tịch Hội)")
    _complete(desk, "Đã trao quyết định phê duyệt điều lệ.", {})

    # The dossier page: returned, every step completed by its own account, the diagram all green.
    desk.goto(f"/dossiers/{code}")
    assert "Đã trả kết quả" in desk.locator("dd.status").inner_text()
    timeline = desk.locator("table.timeline").inner_text()
    for name in ("Kiều Thị Văn Thư", "Tạ Minh Nội Vụ", "Lâm Văn Phòng", "Quách Thị Giám Đốc", "Bùi Thị Thẩm Tra",
                 "Hồ Văn Chánh", "Nguyễn Văn Chủ Tịch", "Mai Thị Phát Hành", "Nguyễn Thị Một Cửa"):
        assert name in timeline, name
    assert "Đồng ý phê duyệt điều lệ hội." in timeline
    # Done within minutes: no step is late (the return step, allotted no time, never is).
    assert desk.locator("table.timeline tr.late").count() == 0
    desk.wait_for_selector("#dossier-diagram[data-rendered='1']")
    for element in ("Task_TiepNhan", "Task_VP_ThamTra", "Task_ChuTichKy", "Task_TraKetQua"):
        classes = desk.locator(f"#dossier-diagram [data-element-id='{element}']").first.get_attribute("class")
        assert "qt-done" in classes, (element, classes)
    screenshot(desk, "dossier")
