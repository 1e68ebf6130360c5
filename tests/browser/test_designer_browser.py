"""A designer in a real browser (Chromium): the procedures list, and a non-compliant BPMN uploaded to a
procedure decided by the Chairman, whose VP_REVIEW_BYPASSED error bpmn-js draws on the right element."""
from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import login_as, screenshot

BYPASS = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "flavours" / "camunda7_modeler5_bypass.bpmn"
CHAIRMAN_TASK = "Activity_13eq64m"  # "Ký quyết định", reachable without the Văn phòng's review


def test_procedures_list(browser_page):
    page = login_as(browser_page, "thietke")
    page.goto("/designer/")
    assert page.locator("h1").inner_text() == "Thủ tục hành chính và các phiên bản quy trình nội bộ"
    row = page.locator("table.procedures-table tr", has_text="1.003822")
    assert row.count() == 1 and "Đã công bố" in row.inner_text()
    screenshot(page, "designer-procedures")


def test_bypass_overlay_sits_on_the_chairman_task(browser_page):
    page = login_as(browser_page, "thietke")
    page.goto("/designer/")
    page.locator("table.procedures-table a", has_text="1.003822").click()
    page.get_by_role("link", name="Tải lên phiên bản mới").click()
    page.set_input_files("input[name=bpmn]", str(BYPASS))
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên và kiểm tra").click()
    assert "/designer/versions/" in page.url

    # The report lists the error; the diagram carries it on the element it names.
    assert page.locator("tr.lint-error[data-code=VP_REVIEW_BYPASSED]").count() == 1
    overlay = page.locator(f'.djs-overlays[data-container-id="{CHAIRMAN_TASK}"] .qt-overlay-error')
    overlay.wait_for(state="visible")
    assert overlay.inner_text() == "VP_REVIEW_BYPASSED"
    assert page.locator(".djs-overlays .qt-overlay-error").count() == 1  # on no other element
    shape = page.locator(f'.djs-element[data-element-id="{CHAIRMAN_TASK}"]')
    assert "qt-error" in shape.get_attribute("class")
    assert "qt-critical" in page.locator('.djs-element[data-element-id="StartEvent_1"]').get_attribute("class")

    # The tag is drawn right above the task's box, not elsewhere on the canvas.
    tag, box = overlay.bounding_box(), shape.locator(".djs-hit").first.bounding_box()
    assert box["x"] - 2 <= tag["x"] <= box["x"] + box["width"]
    assert box["y"] - 3 * tag["height"] <= tag["y"] <= box["y"]

    # The licence's watermark stays visible.
    assert page.locator(".bjs-powered-by").is_visible()
    # The version cannot be submitted: no submit button, the reason is on the page.
    assert page.get_by_role("button", name="Trình phê duyệt").count() == 0
    assert "không thể trình" in page.locator("#actions").inner_text()
    page.locator("#diagram").scroll_into_view_if_needed()
    screenshot(page, "designer-lint")


def test_a_file_without_diagram_shows_a_message_not_a_blank(browser_page, tmp_path):
    """A compliant BPMN without its BPMNDiagram section: the page says the diagram cannot be drawn."""
    source = (BYPASS.parent / "camunda7_modeler5_ok.bpmn").read_text(encoding="utf-8")
    start, end = source.index("<bpmndi:BPMNDiagram"), source.index("</bpmndi:BPMNDiagram>")
    no_di = tmp_path / "khong-so-do.bpmn"
    no_di.write_text(source[:start] + source[end + len("</bpmndi:BPMNDiagram>"):], encoding="utf-8")
    page = login_as(browser_page, "thietke")
    page.goto("/designer/")
    page.locator("table.procedures-table a", has_text="1.003822").click()
    page.get_by_role("link", name="Tải lên phiên bản mới").click()
    page.set_input_files("input[name=bpmn]", str(no_di))
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên và kiểm tra").click()
    message = page.locator("#diagram .qt-diagram-error[role=alert]")
    message.wait_for(state="visible")
    assert "Không thể vẽ sơ đồ" in message.inner_text()
    assert page.locator("#diagram").get_attribute("data-qt-rendered") == "error"
    # The report itself is still there, and this version may be submitted.
    assert page.get_by_role("button", name="Trình phê duyệt").count() == 1


def test_approval_pages_by_their_people(browser_page):
    """A new procedure decided by the Chairman: created, uploaded and submitted by the designer, reviewed
    by the Văn phòng's specialist then leader, approved by the Chairman; left unpublished so the other
    browser tests' procedures stay as the demo has them."""
    from tests.browser.conftest import logout

    page = login_as(browser_page, "thietke")
    page.goto("/designer/procedures/new")
    page.fill("input[name=code]", "9.000123")
    page.fill("input[name=name]", "Thủ tục thử nghiệm phê duyệt")
    page.select_option("select[name=authority]", "chu_tich_ubnd_tinh")
    page.select_option("select[name=agency]", label="H01.21 — Sở Nội vụ")
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo").click()
    page.set_input_files("input[name=bpmn]", str(BYPASS.parent / "camunda7_modeler5_ok.bpmn"))
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên và kiểm tra").click()
    version_url = page.url
    page.locator('#diagram[data-qt-rendered="true"]').wait_for()
    page.fill("textarea[name=submit-note]", "Trình phê duyệt quy trình nội bộ mới")
    with page.expect_navigation():
        page.get_by_role("button", name="Trình phê duyệt").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "submitted"
    logout(page)

    login_as(page, "vp.chuyenvien")
    page.goto("/designer/")
    page.locator(".awaiting tr", has_text="9.000123").get_by_role("link", name="Thẩm tra").click()
    page.fill("textarea[name=opinion]", "Đã thẩm tra: có bước thẩm tra của Văn phòng trước khi trình Chủ tịch.")
    with page.expect_navigation():
        page.get_by_role("button", name="Ghi nhận ý kiến").click()
    logout(page)

    login_as(page, "vp.lanhdao")
    page.goto(version_url + "/vp-opinion")
    page.check("input[name=agree][value=yes]")
    page.fill("textarea[name=opinion]", "Văn phòng UBND tỉnh thống nhất trình Chủ tịch phê duyệt.")
    page.locator('#diagram[data-qt-rendered="true"]').wait_for()
    screenshot(page, "designer-vp-opinion")
    with page.expect_navigation():
        page.get_by_role("button", name="Ghi nhận ý kiến").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "vp_reviewed"
    logout(page)

    login_as(page, "chutich")
    page.goto("/designer/")
    page.locator(".awaiting tr", has_text="9.000123").get_by_role("link", name="Quyết định").click()
    assert "Văn phòng UBND tỉnh thống nhất trình Chủ tịch phê duyệt." in page.inner_text("main")
    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=note]", "Đồng ý ban hành quy trình nội bộ.")
    page.locator('#diagram[data-qt-rendered="true"]').wait_for()
    screenshot(page, "designer-decision")
    with page.expect_navigation():
        page.get_by_role("button", name="Ghi nhận quyết định").click()
    assert page.locator("[data-status]").get_attribute("data-status") == "approved"
    logout(page)

    login_as(page, "thietke")
    page.goto(version_url)
    assert page.get_by_role("button", name="Công bố phiên bản này").count() == 1
