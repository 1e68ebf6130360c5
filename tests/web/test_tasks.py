"""The task page through the web stack: the BPMN form, completion, validation next to the field,
the stale page's Conflict, what comes next, permissions and CSRF."""
from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from services import dossiers
from services.models import AuditEvent, DossierStep
from tests.conftest import csrf_token, login
from tests.dossier_helpers import open_steps, user
from tests.web.test_inbox import at_step, field_error, text


def _completions(db_session) -> int:
    db_session.rollback()
    return db_session.scalar(select(func.count(AuditEvent.seq)).where(
        AuditEvent.action.in_(("step_completed", "step_returned"))))


def _step(db_session, step_id) -> DossierStep:
    db_session.rollback()  # a fresh snapshot: see what the requests committed
    return db_session.get(DossierStep, step_id)


def test_task_page_shows_summary_and_the_bpmn_form_in_vietnamese_and_english(client, db_session):
    dossier, step = at_step(db_session, "Task_VP_LanhDao")
    login(client, "vp.lanhdao")
    response = client.get(f"/tasks/{step.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    page = text(response)
    assert dossier.code in page and "Hội Cựu giáo chức tỉnh An Giang" in page
    assert "1.003822" in page and "Đã tiếp nhận 23/11/2026 08:00" in page
    assert f'href="/dossiers/{dossier.code}"' in body
    assert "Tài liệu" in page and "Hoàn thành bước" in page
    # decision: radios from the form's options, required; opinion: the form's own label.
    assert 'type="radio" name="f_decision" value="approve"' in body and "Đồng ý trình" in page
    assert 'value="return"' in body and "Trả lại để hoàn thiện" in page
    assert "Kết quả thẩm tra *" in page and "Ý kiến Lãnh đạo Văn phòng" in page
    client.get("/lang/en")
    page = text(client.get(f"/tasks/{step.id}"))
    assert "Documents" in page and "Complete the step" in page and "Received 23/11/2026 08:00" in page
    assert "Kết quả thẩm tra *" in page  # labels come from the BPMN


def test_widgets_for_string_long_boolean_date(client, db_session):
    _, receipt = at_step(db_session, "Task_TiepNhan")
    login(client, "motcua")
    body = client.get(f"/tasks/{receipt.id}").get_data(as_text=True)
    assert 'type="checkbox" id="field-documents_complete"' in body
    # The applicant's name typed at the desk prefills the receipt step's field of the same name.
    assert 'name="f_applicant_name" value="Hội Cựu giáo chức tỉnh An Giang"' in body
    _, issue = at_step(db_session, "Task_VanThuUBND")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "vanthu.ubnd")
    body = client.get(f"/tasks/{issue.id}").get_data(as_text=True)
    assert 'id="field-issued_date" name="f_issued_date" value="" placeholder="dd/mm/yyyy"' in body


def test_complete_then_next_step_and_its_holder(client, db_session):
    dossier, step = at_step(db_session, "Task_VP_LanhDao")
    login(client, "vp.lanhdao")
    before = _completions(db_session)
    response = client.post(f"/tasks/{step.id}/complete", data={
        "csrf_token": csrf_token(client, f"/tasks/{step.id}"), "f_decision": "approve",
        "opinion": "Đồng ý trình Chủ tịch ký."})
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{step.id}/done"
    assert _completions(db_session) == before + 1
    done = _step(db_session, step.id)
    assert done.status == "completed" and done.opinion == "Đồng ý trình Chủ tịch ký."
    page = text(client.get(f"/tasks/{step.id}/done"))
    assert "Đã hoàn thành bước" in page and "Bước tiếp theo" in page
    assert "Chủ tịch UBND tỉnh ký quyết định phê duyệt điều lệ" in page
    assert "Chủ tịch UBND tỉnh — UBND tỉnh An Giang H01" in page
    # Once the Chairman claims it, the page names the person.
    chair_step = next(s for s in open_steps(db_session, dossier.id) if s.spec_id == "Task_ChuTichKy")
    dossiers.claim(db_session, user(db_session, "chutich"), chair_step.id)
    page = text(client.get(f"/tasks/{step.id}/done"))
    assert f"{user(db_session, 'chutich').full_name} (Chủ tịch UBND tỉnh, UBND tỉnh An Giang)" in page
    client.get("/lang/en")
    page = text(client.get(f"/tasks/{step.id}/done"))
    assert "Next step" in page and "(Chairman of the Provincial People's Committee, UBND tỉnh An Giang)" in page
    # The completed step's page is read-only now.
    page = text(client.get(f"/tasks/{step.id}"))
    assert "This step was completed by Hồ Văn Chánh" in page and "Complete the step" not in page


def test_date_field_is_sent_as_iso_and_the_desk_holds_the_return(client, db_session):
    dossier, step = at_step(db_session, "Task_VanThuUBND")
    login(client, "vanthu.ubnd")
    token = csrf_token(client, f"/tasks/{step.id}")
    client.post(f"/tasks/{step.id}/claim", data={"csrf_token": token})
    response = client.post(f"/tasks/{step.id}/complete", data={
        "csrf_token": token, "f_decision_number": "125/QĐ-UBND", "f_issued_date": "24/11/2026"})
    assert response.status_code == 303
    db_session.rollback()
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "step_completed")
                              .order_by(AuditEvent.seq.desc()).limit(1))
    assert json.loads(event.payload)["data"]["issued_date"] == "2026-11-24"
    page = text(client.get(f"/tasks/{step.id}/done"))
    # The result goes back to the desk that received it: the receipt's officer holds it.
    assert "Trả kết quả cho tổ chức" in page
    assert "Công chức Bộ phận Một cửa — Trung tâm Phục vụ hành chính công tỉnh An Giang H01.02" in page


def test_missing_required_field_is_named_next_to_it_and_nothing_is_saved(client, db_session):
    _, step = at_step(db_session, "Task_ThamDinh")  # opinion (Ý kiến thẩm định) is required
    login(client, "chuyenvien.noivu")
    before = _completions(db_session)
    response = client.post(f"/tasks/{step.id}/complete", data={
        "csrf_token": csrf_token(client, f"/tasks/{step.id}"), "f_draft_reference": "DT-12", "opinion": "  "})
    assert response.status_code == 400
    assert field_error(response, "field-opinion") == "Ý kiến thẩm định là bắt buộc."
    assert "Bước chưa được hoàn thành: hãy sửa các trường được đánh dấu bên dưới." in text(response)
    assert 'name="f_draft_reference" value="DT-12"' in response.get_data(as_text=True)  # kept as typed
    assert _completions(db_session) == before and _step(db_session, step.id).status in ("ready", "claimed")
    client.get("/lang/en")
    response = client.post(f"/tasks/{step.id}/complete", data={"csrf_token": csrf_token(client, f"/tasks/{step.id}")})
    assert field_error(response, "field-opinion") == "Ý kiến thẩm định is required."


def test_bad_decision_value_is_refused_by_the_engine_next_to_the_field(client, db_session):
    _, step = at_step(db_session, "Task_VP_LanhDao")
    login(client, "vp.lanhdao")
    before = _completions(db_session)
    token = csrf_token(client, f"/tasks/{step.id}")
    response = client.post(f"/tasks/{step.id}/complete", data={"csrf_token": token, "f_decision": "maybe"})
    assert response.status_code == 400
    assert field_error(response, "field-decision") == (
        "Kết quả thẩm tra: 'maybe' không phải là một trong các lựa chọn (Đồng ý trình, Trả lại để hoàn thiện).")
    response = client.post(f"/tasks/{step.id}/complete", data={"csrf_token": token})
    assert field_error(response, "field-decision") == "Kết quả thẩm tra là bắt buộc."
    assert _completions(db_session) == before and _step(db_session, step.id).status != "completed"


def test_bad_date_is_named_next_to_the_field(client, db_session):
    _, step = at_step(db_session, "Task_VanThuUBND")
    login(client, "vanthu.ubnd")
    before = _completions(db_session)
    response = client.post(f"/tasks/{step.id}/complete", data={
        "csrf_token": csrf_token(client, f"/tasks/{step.id}"), "f_decision_number": "125/QĐ-UBND",
        "f_issued_date": "31/02/2026"})
    assert response.status_code == 400
    assert field_error(response, "field-issued_date") == "Ngày ban hành: '31/02/2026' không phải là ngày dd/mm/yyyy."
    assert _completions(db_session) == before


def test_stale_page_completing_again_gets_the_conflict_at_the_top(client, db_session):
    _, step = at_step(db_session, "Task_VP_LanhDao")
    login(client, "vp.lanhdao")
    token = csrf_token(client, f"/tasks/{step.id}")  # the page, opened in two tabs
    data = {"csrf_token": token, "f_decision": "approve", "opinion": "Đồng ý."}
    assert client.post(f"/tasks/{step.id}/complete", data=data).status_code == 303
    before = _completions(db_session)
    response = client.post(f"/tasks/{step.id}/complete", data={**data, "f_decision": "return"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    alert = body[body.index('role="alert"'):body.index("</div>", body.index('role="alert"'))]
    assert "đã được Hồ Văn Chánh hoàn thành" in alert
    assert _completions(db_session) == before
    assert json.loads(_step(db_session, step.id).data)["decision"] == "approve"


def test_another_units_official_gets_403_everywhere(client, db_session):
    _, step = at_step(db_session, "Task_ThamDinh")  # chuyen_vien at Sở Nội vụ H01.21
    for username in ("chuyenvien", "lanhdaophong.noivu"):  # chuyen_vien elsewhere; another role here
        login(client, username)
        token = csrf_token(client, "/")
        assert client.get(f"/tasks/{step.id}").status_code == 403
        assert client.get(f"/tasks/{step.id}/done").status_code == 403
        for action in ("complete", "claim", "unclaim", "documents"):
            response = client.post(f"/tasks/{step.id}/{action}", data={"csrf_token": token, "opinion": "x"})
            assert response.status_code == 403, action
        client.post("/logout", data={"csrf_token": token})
    assert _step(db_session, step.id).status == "ready"
    login(client, "chuyenvien.noivu")
    assert client.get(f"/tasks/{step.id}").status_code == 200
    assert client.get("/tasks/999999").status_code == 404


def test_complete_without_csrf_token_is_refused(client, db_session):
    _, step = at_step(db_session, "Task_VP_LanhDao")
    login(client, "vp.lanhdao")
    before = _completions(db_session)
    response = client.post(f"/tasks/{step.id}/complete", data={"f_decision": "approve"})
    assert response.status_code == 400 and "Biểu mẫu đã hết hạn" in text(response)
    assert _completions(db_session) == before


def test_a_waiting_dossier_cannot_be_worked_on(client, db_session):
    """A supplement request stops the clock: the step leaves the inbox, its page says why and has
    no form, and an upload or completion posted from an older page is refused with the reason."""
    dossier, step = at_step(db_session, "Task_ThamDinh")
    login(client, "chuyenvien.noivu")
    token = csrf_token(client, f"/tasks/{step.id}")
    dossiers.stop_clock(db_session, user(db_session, "chuyenvien.noivu"), dossier.id, kind="supplement",
                        reason="Thiếu biên bản họp đại hội")
    assert dossier.code not in text(client.get("/inbox"))
    response = client.get(f"/tasks/{step.id}")
    page = text(response)
    assert response.status_code == 200 and "Hồ sơ đang tạm dừng" in page and "Tạm dừng tính thời gian" in page
    assert "/complete" not in response.get_data(as_text=True)
    before = _completions(db_session)
    response = client.post(f"/tasks/{step.id}/complete", data={"csrf_token": token, "opinion": "Đạt."})
    assert response.status_code == 409 and "đang tạm dừng (waiting_supplement)" in text(response)
    response = client.post(f"/tasks/{step.id}/documents", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(b"%PDF-1.4 x"), "bien-ban.pdf")})
    assert response.status_code == 409 and "đang tạm dừng (waiting_supplement)" in field_error(response, "field-file")
    assert _completions(db_session) == before
