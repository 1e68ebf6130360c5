"""Lint-clean ⇒ a dossier can be received and completed (issue 11, finding 0), through the services.

A generated procedure with hostile ids is uploaded; when its lint report passes it goes through
the Văn phòng and the Chairman, is published, a desk receives a dossier on it and every step is
completed until the result is returned. A version the engine cannot start never gets that far:
refused at upload, at submission and at publication, and a desk meeting one already published
(approved on an older linter) gets a refusal naming the procedure, never a 500.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from sqlalchemy import select, update

from services import dossiers, procedures
from services.errors import ValidationError
from services.models import Dossier, ProcedureVersion
from services.models.procedures import PUBLISHED, RETIRED
from tests.dossier_helpers import open_steps, performer, procedure, user, vn
from tests.unit.bpmn.builder import BASE_PROCESS_PROPS, base_flows, base_nodes, document
from tests.unit.bpmn.hostile_ids import APPROVE, BASE_STEPS, Drawn, procedures as hostile_procedures

CHAIRMAN = "1.003822"  # Sở Nội vụ, decided by the Chairman: the builder's lanes have people there
FLAVOURS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "flavours"
START_END = re.sub(rb"\bStartEvent_1\b", b"Start", (FLAVOURS_DIR / "camunda7_modeler5_ok.bpmn").read_bytes()
                   ).replace(b"Event_1mdqmdm", b"End")


def _publish(session, version_id: int) -> None:
    designer = user(session, "thietke")
    procedures.submit_version(session, designer, version_id)
    procedures.give_vp_opinion(session, user(session, "vp.chuyenvien"), version_id, agree=True, opinion="Đủ.")
    procedures.give_vp_opinion(session, user(session, "vp.lanhdao"), version_id, agree=True, opinion="Thống nhất.")
    procedures.decide_version(session, user(session, "chutich"), version_id, decision="approve")
    procedures.publish_version(session, designer, version_id)


def _receive(session, at):
    return dossiers.receive(session, user(session, "motcua"), procedure_id=procedure(session, CHAIRMAN).id,
                            applicant_name="Hội Cựu giáo chức tỉnh An Giang", received_at=at, now=at)


def _complete_all(session, dossier_id: int, at) -> list[str]:
    done = []
    for _ in range(30):
        steps = open_steps(session, dossier_id)
        if not steps:
            return done
        step = steps[0]
        at += timedelta(minutes=30)
        dossiers.complete(session, performer(session, step), step.id, dict(APPROVE),
                          opinion=f"Ý kiến tại bước {step.name}", now=at)
        done.append(step.spec_id)
    raise AssertionError("the dossier did not finish")


def _legal_but_odd() -> Drawn:
    """Case variants of the engine's names, Unicode and a 200-character id: all usable."""
    mapping = {"StartEvent_1": "start", "EndEvent_1": "END", "Task_TiepNhan": "Tiếp_nhận_hồ_sơ",
               "Task_ThamDinh": "task_thamdinh", "Task_VP": "Task_vp", "Task_ChuTich": "受理审批",
               "Task_TraKetQua": "ệ" * 200}
    nodes, flows = base_nodes(), base_flows()
    for n in nodes:
        n.id = mapping.get(n.id, n.id)
    for f in flows:
        f.source, f.target = mapping.get(f.source, f.source), mapping.get(f.target, f.target)
    data = document("spiff", nodes, flows, dict(BASE_PROCESS_PROPS), process_id="End")
    return Drawn(data, tuple(mapping.get(s, s) for s in BASE_STEPS), "legal but odd")


@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=hostile_procedures())
@example(drawn=_legal_but_odd())
def test_every_lint_clean_hostile_procedure_receives_and_completes_a_dossier(db_session, drawn):
    proc = procedure(db_session, CHAIRMAN)
    version = procedures.upload_version(db_session, user(db_session, "thietke"), proc.id,
                                        filename="sinh-ngau-nhien.bpmn", data=drawn.data)
    event("lint-clean" if version.lint_ok else "refused")
    if not version.lint_ok:
        with pytest.raises(ValidationError):
            procedures.submit_version(db_session, user(db_session, "thietke"), version.id)
        return
    _publish(db_session, version.id)
    at = vn(2026, 11, 23, 8, 0)
    dossier = _receive(db_session, at)
    assert dossier.version_id == version.id
    assert _complete_all(db_session, dossier.id, at) == list(drawn.steps), drawn.description
    db_session.expire_all()
    assert db_session.get(Dossier, dossier.id).status == "returned"


def test_a_start_end_version_is_refused_at_upload_submit_and_publish(db_session):
    proc = procedure(db_session, CHAIRMAN)
    designer = user(db_session, "thietke")
    version = procedures.upload_version(db_session, designer, proc.id, filename="start-end.bpmn", data=START_END)
    assert version.lint_ok is False
    with pytest.raises(ValidationError, match="fails the policy checks"):
        procedures.submit_version(db_session, designer, version.id)
    # A version approved on an older linter's report (lint_ok stored true, its bytes kept, as the old
    # linter kept them) is stopped at publication.
    db_session.execute(update(ProcedureVersion).where(ProcedureVersion.id == version.id)
                       .values(lint_ok=True, bpmn=START_END))
    db_session.commit()
    with pytest.raises(ValidationError, match="cannot be published") as refused:
        _publish(db_session, version.id)
    assert "ID_RESERVED" in refused.value.params["detail"] and "Start" in refused.value.params["detail"]
    db_session.expire_all()
    assert db_session.get(ProcedureVersion, version.id).status == "approved"


def test_a_desk_meeting_an_already_published_start_end_version_gets_a_refusal_not_a_500(db_session):
    proc = procedure(db_session, CHAIRMAN)
    version = procedures.upload_version(db_session, user(db_session, "thietke"), proc.id,
                                        filename="start-end.bpmn", data=START_END)
    # Published before the linter knew the engine's names: force it in, as the old data has it.
    db_session.execute(update(ProcedureVersion).where(ProcedureVersion.procedure_id == proc.id,
                                                      ProcedureVersion.status == PUBLISHED).values(status=RETIRED))
    db_session.execute(update(ProcedureVersion).where(ProcedureVersion.id == version.id)
                       .values(status=PUBLISHED, bpmn=START_END))
    db_session.commit()
    before = db_session.scalar(select(Dossier.id).order_by(Dossier.id.desc()).limit(1))
    with pytest.raises(ValidationError, match="cannot be started") as refused:
        _receive(db_session, vn(2026, 11, 23, 8, 0))
    assert refused.value.field == "procedure" and "ID_RESERVED" in refused.value.params["detail"]
    db_session.rollback()
    assert db_session.scalar(select(Dossier.id).order_by(Dossier.id.desc()).limit(1)) == before
