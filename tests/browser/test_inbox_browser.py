"""The inbox in a real browser: claim and release swap the row in place through htmx (no page
load), the header's notification badge, and the task page's refusal next to the field."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.browser.conftest import screenshot


@pytest.fixture(scope="module")
def waiting_at_records_clerk(live_server):
    """A dossier waiting at Sở Nội vụ's records clerk, with the deadline job's notifications."""
    from services import dossiers, jobs
    from services.db import tune_sqlite
    from tests.dossier_helpers import drive, open_steps, procedure, user, vn

    engine = create_engine(live_server.db_url)
    tune_sqlite(engine)
    with Session(engine) as session:
        t0 = vn(2026, 4, 6, 8, 0)
        dossier = dossiers.receive(session, user(session, "motcua"), procedure_id=procedure(session, "1.003822").id,
                                   applicant_name="Hội Sinh vật cảnh tỉnh An Giang", received_at=t0, now=t0)
        drive(session, dossier.id, start=t0, until="Task_VanThuSo")
        step = open_steps(session, dossier.id)[0]
        jobs.mark_deadlines(session, now=vn(2026, 4, 6, 9, 0))
        result = {"code": dossier.code, "step": step.id}
    engine.dispose()
    return result


def test_claim_and_release_swap_the_row_without_reloading(new_page, waiting_at_records_clerk):
    code, step_id = waiting_at_records_clerk["code"], waiting_at_records_clerk["step"]
    page = new_page("vanthu.noivu")
    page.goto(f"/inbox?code={code}")
    assert int(page.locator(".notif-count").inner_text()) >= 1
    row = page.locator(f"#step-{step_id}")
    assert "Chưa nhận xử lý" in row.inner_text()
    # A marker on the window survives only if the page is not reloaded.
    page.evaluate("window.__stay = 1")
    row.locator("button", has_text="Nhận xử lý").click()
    page.wait_for_selector(f"#step-{step_id} button:has-text('Hủy nhận xử lý')")
    assert page.evaluate("window.__stay") == 1
    assert "Kiều Thị Văn Thư" in page.locator(f"#step-{step_id}").inner_text()
    screenshot(page, "inbox_claimed")
    page.locator(f"#step-{step_id} button", has_text="Hủy nhận xử lý").click()
    page.wait_for_selector(f"#step-{step_id} button:text-is('Nhận xử lý')")  # exact: not 'Hủy nhận…'
    assert page.evaluate("window.__stay") == 1 and "Chưa nhận xử lý" in page.locator(f"#step-{step_id}").inner_text()


def test_required_field_refused_next_to_it(new_page, waiting_at_records_clerk):
    page = new_page("vanthu.noivu")
    page.goto(f"/tasks/{waiting_at_records_clerk['step']}")
    with page.expect_navigation():
        page.locator("form.task-form button[type=submit]").click()
    error = page.locator("#field-incoming_number-error")
    assert error.inner_text() == "Số văn bản đến là bắt buộc."
    assert page.locator("#field-incoming_number").get_attribute("aria-invalid") == "true"
    screenshot(page, "task_required_field")
