"""What the linter takes in, through the designer's pages (issue 11).

* Finding 0: a BPMN whose start and end events are called ``Start`` and ``End`` — the names
  SpiffWorkflow gives its own tasks — is refused with ID_RESERVED naming the elements, and cannot
  be submitted (it used to pass lint, and every receipt on it answered 500).
* Finding 10: a file declaring ISO-8859-1 (as 6 of the 21 OMG MIWG reference files do) is read,
  names outside Latin-1 included, and goes on to submission like its UTF-8 twin.
"""
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


def test_an_iso_8859_1_upload_is_read_and_can_be_submitted(client, db_session):
    # Java-style ISO-8859-1: Latin-1 letters as bytes, the rest of Vietnamese as character references.
    latin1 = COMPLIANT.decode("utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode(
        "latin-1", errors="xmlcharrefreplace")
    assert b'encoding="ISO-8859-1"' in latin1 and b"&#7871;" in latin1 and b"\xea" in latin1  # ê as one Latin-1 byte
    proc_id, _ = _ids(db_session)
    login(client, "thietke")
    version_id = _new_version_id(_upload(client, proc_id, latin1, filename="iso-8859-1.bpmn"))
    version = _versions(db_session, proc_id)[-1]
    assert (version.id, version.lint_ok) == (version_id, True)
    text = _text(client.get(f"/designer/versions/{version_id}"))
    assert "Đạt" in text and "ISO-8859-1" not in text
    assert "Tiếp nhận hồ sơ" in text  # the names read back as written
    assert _submit(client, version_id).status_code == 302
    assert _versions(db_session, proc_id)[-1].status == "submitted"
