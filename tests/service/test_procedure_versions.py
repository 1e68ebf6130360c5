"""Procedure versions: lint gate, Văn phòng before the Chairman, no self-approval, publish/retire."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from services import actors, procedures
from services.errors import Conflict, Forbidden, ValidationError
from services.models import AuditEvent, OrgUnit, Procedure, ProcedureVersion, User
from services.models.procedures import APPROVED, DRAFT, PUBLISHED, RETIRED, SUBMITTED, VP_REVIEWED
from services.demo import LIBRARY_DIR


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def _proc(s, code):
    return s.scalar(select(Procedure).where(Procedure.code == code))


@pytest.fixture
def people(db_session):
    return {n: _user(db_session, n) for n in
            ("thietke", "vp.lanhdao", "vp.chuyenvien", "chutich", "phochutich", "chuyenvien", "admin")}


CHAIRMAN_BPMN = (LIBRARY_DIR / "chairman_decision.bpmn").read_bytes()


def test_demo_published_the_library(db_session):
    for code in ("1.003822", "1.009974", "1.004873"):
        proc = _proc(db_session, code)
        version = procedures.published_version(db_session, proc.id)
        assert version is not None and version.lint_ok and version.number == 1
    chairman = procedures.published_version(db_session, _proc(db_session, "1.003822").id)
    assert chairman.requires_vp_review and chairman.vp_by.username == "vp.lanhdao"
    assert (chairman.legal_minutes, chairman.target_minutes, chairman.allocated_minutes) == (4800, 3360, 3330)


def test_full_cycle_with_vp_review_then_publish_retires_the_old_version(db_session, people):
    proc = _proc(db_session, "1.003822")
    old = procedures.published_version(db_session, proc.id)
    v = procedures.upload_version(db_session, people["thietke"], proc.id, filename="v2.bpmn", data=CHAIRMAN_BPMN)
    assert (v.status, v.number, v.lint_ok) == (DRAFT, 2, True)
    assert json.loads(v.lint_report)["vi"]["ok"] is True
    procedures.submit_version(db_session, people["thietke"], v.id)
    with pytest.raises(Conflict, match="Văn phòng UBND tỉnh must give its opinion"):
        procedures.decide_version(db_session, people["chutich"], v.id, decision="approve")
    assert db_session.get(ProcedureVersion, v.id).status == SUBMITTED
    with pytest.raises(Forbidden):  # the office's specialist reviews first
        procedures.give_vp_opinion(db_session, people["vp.lanhdao"], v.id, agree=True, opinion="Thống nhất.")
    procedures.give_vp_opinion(db_session, people["vp.chuyenvien"], v.id, agree=True, opinion="Đủ điều kiện.")
    assert db_session.get(ProcedureVersion, v.id).status == SUBMITTED
    procedures.give_vp_opinion(db_session, people["vp.lanhdao"], v.id, agree=True, opinion="Thống nhất.")
    assert db_session.get(ProcedureVersion, v.id).status == VP_REVIEWED
    procedures.decide_version(db_session, people["phochutich"], v.id, decision="approve")
    assert db_session.get(ProcedureVersion, v.id).status == APPROVED
    procedures.publish_version(db_session, people["thietke"], v.id)
    db_session.expire_all()
    assert db_session.get(ProcedureVersion, v.id).status == PUBLISHED
    assert db_session.get(ProcedureVersion, old.id).status == RETIRED
    actions = list(db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object == f"procedure_version:{v.id}").order_by(AuditEvent.seq)))
    assert actions == ["version_uploaded", "version_linted", "version_submitted", "version_vp_review",
                       "version_vp_opinion", "version_approved", "version_published"]
    from services.procedures import approval_runtime
    history = [h.spec_id for h in approval_runtime().load(db_session.get(ProcedureVersion, v.id).approval_state).history()]
    assert history == ["Task_TrinhPheDuyet", "Task_VP_ThamTra", "Task_VP_YKien", "Task_ChuTichPheDuyet"]


def test_a_failing_version_cannot_be_submitted(db_session, people):
    proc = _proc(db_session, "1.003822")
    broken = CHAIRMAN_BPMN.replace(b'value="vp_review"', b'value="none_of_that"')
    v = procedures.upload_version(db_session, people["thietke"], proc.id, filename="bad.bpmn", data=broken)
    assert not v.lint_ok
    assert "VP_REVIEW_MISSING" in {e["code"] for e in json.loads(v.lint_report)["en"]["errors"]}
    with pytest.raises(ValidationError, match="fails the policy checks"):
        procedures.submit_version(db_session, people["thietke"], v.id)
    assert db_session.get(ProcedureVersion, v.id).status == DRAFT


def test_hostile_upload_is_stored_as_a_failed_draft_not_an_exception(db_session, people):
    proc = _proc(db_session, "1.003822")
    xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    v = procedures.upload_version(db_session, people["thietke"], proc.id, filename="x.bpmn", data=xxe)
    assert not v.lint_ok
    assert [e["code"] for e in json.loads(v.lint_report)["en"]["errors"]] == ["XML_UNSAFE"]


def test_roles_and_self_approval(db_session, people):
    proc = _proc(db_session, "1.003822")
    with pytest.raises(Forbidden):
        procedures.upload_version(db_session, people["chuyenvien"], proc.id, filename="a.bpmn", data=CHAIRMAN_BPMN)
    v = procedures.upload_version(db_session, people["thietke"], proc.id, filename="a.bpmn", data=CHAIRMAN_BPMN)
    procedures.submit_version(db_session, people["thietke"], v.id)
    procedures.give_vp_opinion(db_session, people["vp.chuyenvien"], v.id, agree=True, opinion="ok")
    with pytest.raises(Forbidden):  # the specialist reviews, the leader signs the office's opinion
        procedures.give_vp_opinion(db_session, people["vp.chuyenvien"], v.id, agree=True, opinion="ok")
    procedures.give_vp_opinion(db_session, people["vp.lanhdao"], v.id, agree=True, opinion="ok")
    with pytest.raises(Forbidden):
        procedures.decide_version(db_session, people["vp.lanhdao"], v.id, decision="approve")
    # The Chairman who designed a version cannot approve it.
    from services import accounts
    province = db_session.scalar(select(OrgUnit).where(OrgUnit.code == "H01"))
    accounts.grant_role(db_session, actors.CLI, people["thietke"].id, "chu_tich", province.id)
    with pytest.raises(Forbidden, match="own version"):
        procedures.decide_version(db_session, people["thietke"], v.id, decision="approve")


def test_vp_can_return_and_chairman_can_reject(db_session, people):
    proc = _proc(db_session, "1.003822")
    v = procedures.upload_version(db_session, people["thietke"], proc.id, filename="a.bpmn", data=CHAIRMAN_BPMN)
    procedures.submit_version(db_session, people["thietke"], v.id)
    procedures.give_vp_opinion(db_session, people["vp.chuyenvien"], v.id, agree=True, opinion="Xem xét.")
    procedures.give_vp_opinion(db_session, people["vp.lanhdao"], v.id, agree=False, opinion="Bổ sung căn cứ pháp lý.")
    assert db_session.get(ProcedureVersion, v.id).status == DRAFT
    procedures.submit_version(db_session, people["thietke"], v.id)
    assert db_session.get(ProcedureVersion, v.id).status == SUBMITTED  # the Văn phòng reviews again
    procedures.give_vp_opinion(db_session, people["vp.chuyenvien"], v.id, agree=True, opinion="Đã bổ sung.")
    procedures.give_vp_opinion(db_session, people["vp.lanhdao"], v.id, agree=True, opinion="Đồng ý.")
    procedures.decide_version(db_session, people["chutich"], v.id, decision="reject", note="Không phù hợp.")
    assert db_session.get(ProcedureVersion, v.id).status == "rejected"
    with pytest.raises(Conflict):
        procedures.publish_version(db_session, people["thietke"], v.id)


def test_department_procedure_needs_no_vp_opinion(db_session, people):
    proc = _proc(db_session, "1.009974")
    data = (LIBRARY_DIR / "department_parallel.bpmn").read_bytes()
    v = procedures.upload_version(db_session, people["thietke"], proc.id, filename="d.bpmn", data=data)
    assert not v.requires_vp_review
    procedures.submit_version(db_session, people["thietke"], v.id)
    procedures.decide_version(db_session, people["chutich"], v.id, decision="approve")
    assert db_session.get(ProcedureVersion, v.id).status == APPROVED


def test_chairman_return_sends_the_version_back_through_the_office(db_session, people):
    proc = _proc(db_session, "1.003822")
    v = procedures.upload_version(db_session, people["thietke"], proc.id, filename="a.bpmn", data=CHAIRMAN_BPMN)
    procedures.submit_version(db_session, people["thietke"], v.id)
    procedures.give_vp_opinion(db_session, people["vp.chuyenvien"], v.id, agree=True, opinion="ok")
    procedures.give_vp_opinion(db_session, people["vp.lanhdao"], v.id, agree=True, opinion="ok")
    procedures.decide_version(db_session, people["chutich"], v.id, decision="return", note="Làm rõ bước 3.")
    assert db_session.get(ProcedureVersion, v.id).status == DRAFT
    procedures.submit_version(db_session, people["thietke"], v.id, note="Đã làm rõ.")
    with pytest.raises(Conflict, match="Văn phòng UBND tỉnh must give its opinion"):
        procedures.decide_version(db_session, people["chutich"], v.id, decision="approve")
    assert db_session.get(ProcedureVersion, v.id).status == SUBMITTED


def test_running_dossiers_finish_on_their_retired_version(db_session, people):
    """Publishing a new version retires the old one; a dossier received on the old one goes on
    with it to the end (its state belongs to that BPMN), a new dossier starts on the new one.
    A retired version's own approval steps are over: an opinion or decision on it is refused,
    saying so, and changes nothing."""
    from services import dossiers
    from services.models import Dossier
    from tests.dossier_helpers import drive, open_steps, vn

    proc = _proc(db_session, "1.003822")
    old = procedures.published_version(db_session, proc.id)
    desk = _user(db_session, "motcua")
    running = dossiers.receive(db_session, desk, procedure_id=proc.id, applicant_name="Hội Khuyến học tỉnh",
                               received_at=vn(2026, 11, 23, 8), now=vn(2026, 11, 23, 8))
    running_id, old_id = running.id, old.id
    drive(db_session, running_id, start=vn(2026, 11, 23, 8), until="Task_VP_ThamTra")

    renamed = CHAIRMAN_BPMN.replace("thẩm định hồ sơ, dự thảo".encode(), "thẩm định hồ sơ (bản 2), dự thảo".encode(), 1)
    assert renamed != CHAIRMAN_BPMN
    v = procedures.upload_version(db_session, people["thietke"], proc.id, filename="v2.bpmn", data=renamed)
    procedures.submit_version(db_session, people["thietke"], v.id)
    procedures.give_vp_opinion(db_session, people["vp.chuyenvien"], v.id, agree=True, opinion="Đủ điều kiện.")
    procedures.give_vp_opinion(db_session, people["vp.lanhdao"], v.id, agree=True, opinion="Thống nhất.")
    procedures.decide_version(db_session, people["chutich"], v.id, decision="approve")
    procedures.publish_version(db_session, people["thietke"], v.id)
    new_id = v.id
    assert db_session.get(ProcedureVersion, old_id).status == RETIRED

    drive(db_session, running_id, start=vn(2026, 11, 26, 8))
    db_session.expire_all()
    finished = db_session.get(Dossier, running_id)
    assert (finished.version_id, finished.status) == (old_id, "returned")
    fresh = dossiers.receive(db_session, desk, procedure_id=proc.id, applicant_name="Hội Nông dân tỉnh",
                             received_at=vn(2026, 11, 30, 8), now=vn(2026, 11, 30, 8))
    assert fresh.version_id == new_id
    assert [s.spec_id for s in open_steps(db_session, fresh.id)] == ["Task_TiepNhan"]

    events = db_session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Conflict) as err:
        procedures.give_vp_opinion(db_session, people["vp.chuyenvien"], old_id, agree=True, opinion="Muộn.")
    assert err.value.field
    with pytest.raises(Conflict):
        procedures.decide_version(db_session, people["chutich"], old_id, decision="approve")
    assert db_session.get(ProcedureVersion, old_id).status == RETIRED
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == events
