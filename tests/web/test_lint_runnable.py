"""A lint-clean file runs (issue 11, finding 0): through the designer's pages, a BPMN whose start
and end events are called ``Start`` and ``End`` — the names SpiffWorkflow gives its own tasks — is
refused with ID_RESERVED naming the elements, and cannot be submitted, let alone published."""
from __future__ import annotations

import re

from tests.conftest import login
from tests.web.test_designer import COMPLIANT, _ids, _new_version_id, _submit, _text, _upload, _versions

START_END = re.sub(rb"\bStartEvent_1\b", b"Start", COMPLIANT).replace(b"Event_1mdqmdm", b"End")


def test_start_and_end_ids_are_refused_at_upload_and_cannot_be_submitted(client, db_session):
    assert b'<bpmn:startEvent id="Start"' in START_END and b'<bpmn:endEvent id="End"' in START_END
    proc_id, _ = _ids(db_session)
    login(client, "thietke")
    version_id = _new_version_id(_upload(client, proc_id, START_END, filename="start-end.bpmn"))
    version = _versions(db_session, proc_id)[-1]
    assert (version.id, version.lint_ok) == (version_id, False)
    page = client.get(f"/designer/versions/{version_id}")
    assert page.status_code == 200
    text = _text(page)
    assert "ID_RESERVED" in text and "Không đạt" in text
    assert "Id 'Start' của startEvent 'Hồ sơ đến' là tên dành riêng của bộ máy quy trình" in text
    assert "Id 'End' của endEvent 'Đã trả kết quả'" in text
    refused = _submit(client, version_id)
    assert refused.status_code == 400 and "chưa thể trình" in _text(refused)
    assert _versions(db_session, proc_id)[-1].status == "draft"

    client.get("/lang/en", headers={"Referer": "http://localhost/designer/"})
    english = _text(client.get(f"/designer/versions/{version_id}"))
    assert "The id 'Start' of startEvent 'Hồ sơ đến' is reserved by the workflow engine" in english
