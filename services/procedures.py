"""Procedures and their versions: upload, lint, submit, Văn phòng opinion, approval, publish.

`ProcedureVersion` lifecycle (vòng đời phiên bản): draft → submitted → vp_reviewed → approved →
published → retired. The Văn phòng UBND tỉnh's opinion is mandatory before the Chairman approves a
version of a procedure decided by the UBND tỉnh or its Chairman; a version that fails lint cannot
be submitted; nobody approves or reviews their own version; publishing retires the previous
published version without touching dossiers already running on it.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bpmn import lint as lint_bpmn
from bpmn.profile import parse_authority
from bpmn import InvalidOption
from services import audit
from services.errors import N_, Conflict, Forbidden, NotFound, ValidationError
from services.models import OrgUnit, Procedure, ProcedureVersion, User
from services.models.procedures import (
    APPROVED, DRAFT, PUBLISHED, REJECTED, RETIRED, SUBMITTED, VP_REVIEWED,
)
from services.roles import ROLE_CODES
from services.uow import transaction

VP_AUTHORITIES = frozenset({"ubnd_tinh", "chu_tich_ubnd_tinh"})
CHAIRMAN_ROLES = ("chu_tich", "pho_chu_tich")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _require(condition: bool, template: str, **params) -> None:
    if not condition:
        raise Forbidden(template, **params)


def _holds_in_kind(session: Session, user: User, roles: tuple[str, ...], kind: str) -> bool:
    return any(a.role_code in roles and a.org_unit.kind == kind for a in user.assignments)


def create_procedure(session: Session, actor: User, *, code: str, name: str, authority: str,
                     agency_id: int) -> Procedure:
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise ValidationError(N_("The TTHC code is required."), "code")
    if not name:
        raise ValidationError(N_("The procedure name is required."), "name")
    try:
        authority = parse_authority(authority)
    except ValueError:
        raise ValidationError(N_("Unknown deciding authority '%(value)s'."), "authority", value=authority) from None
    _require(actor.has_role("designer", agency_id),
             N_("Only a process designer of the competent agency can create its procedures."))
    with transaction(session):
        if session.get(OrgUnit, agency_id) is None:
            raise ValidationError(N_("Unknown org unit #%(id)s."), "agency", id=agency_id)
        if session.scalar(select(Procedure.id).where(Procedure.code == code, Procedure.agency_id == agency_id)):
            raise Conflict(N_("The agency already has a procedure with code %(code)s."), "code", code=code)
        procedure = Procedure(code=code, name=name, authority=authority, agency_id=agency_id, created_at=_now())
        session.add(procedure)
        session.flush()
        audit.record(session, actor.username, "procedure_created", f"procedure:{procedure.id}",
                     {"code": code, "name": name, "authority": authority, "agency_id": agency_id})
    return procedure


def upload_version(session: Session, actor: User, procedure_id: int, *, filename: str, data: bytes,
                   legal_days=None, reduction=None) -> ProcedureVersion:
    """Store a new draft version with its lint report (upload and lint are two audit events)."""
    procedure = _procedure(session, procedure_id)
    _require(actor.has_role("designer", procedure.agency_id),
             N_("Only a process designer of the competent agency can upload its versions."))
    try:
        report = lint_bpmn(data, legal_days=legal_days or None, authority=procedure.authority,
                             reduction=reduction or None, known_roles=ROLE_CODES)
    except InvalidOption as exc:
        raise ValidationError(N_("Invalid procedure metadata: %(detail)s"), getattr(exc, "option", None),
                              detail=str(exc)) from None
    digest = hashlib.sha256(data).hexdigest()
    budget = report.budget
    with transaction(session):
        number = (session.scalar(select(func.max(ProcedureVersion.number))
                                 .where(ProcedureVersion.procedure_id == procedure.id)) or 0) + 1
        version = ProcedureVersion(
            procedure_id=procedure.id, number=number, status=DRAFT, filename=(filename or "upload.bpmn")[:255],
            bpmn=bytes(data), bpmn_sha256=digest, legal_minutes=budget.legal_minutes,
            reduction=report.reduction or "0.3", target_minutes=budget.target_minutes,
            allocated_minutes=budget.allocated_minutes, lint_ok=report.ok,
            lint_report=json.dumps({"vi": report.to_dict("vi"), "en": report.to_dict("en")}, ensure_ascii=False),
            requires_vp_review=procedure.authority in VP_AUTHORITIES,
            created_by_id=actor.id, created_at=_now(),
        )
        session.add(version)
        session.flush()
        obj = f"procedure_version:{version.id}"
        audit.record(session, actor.username, "version_uploaded", obj,
                     {"procedure": procedure.code, "number": number, "filename": version.filename,
                      "sha256": digest, "bytes": len(data)})
        audit.record(session, actor.username, "version_linted", obj,
                     {"ok": report.ok, "errors": report.codes(), "warnings": report.warning_codes(),
                      "legal_minutes": budget.legal_minutes, "target_minutes": budget.target_minutes,
                      "allocated_minutes": budget.allocated_minutes})
    return version


def submit_version(session: Session, actor: User, version_id: int) -> ProcedureVersion:
    with transaction(session):
        version = _version(session, version_id)
        _require(actor.has_role("designer", version.procedure.agency_id),
                 N_("Only a process designer of the competent agency can submit its versions."))
        _expect(version, DRAFT)
        if not version.lint_ok:
            raise ValidationError(N_("Version %(n)s fails the policy checks and cannot be submitted; "
                                     "fix the errors in its lint report first."), "version", n=version.number)
        version.status, version.submitted_at = SUBMITTED, _now()
        audit.record(session, actor.username, "version_submitted", f"procedure_version:{version.id}",
                     {"procedure": version.procedure.code, "number": version.number})
    return version


def give_vp_opinion(session: Session, actor: User, version_id: int, *, agree: bool, opinion: str) -> ProcedureVersion:
    """The Văn phòng UBND tỉnh's opinion (ý kiến thẩm tra): agree moves on, disagree returns to draft."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError(N_("The opinion text is required."), "opinion")
    with transaction(session):
        version = _version(session, version_id)
        _require(_holds_in_kind(session, actor, ("vp_lanh_dao",), "office"),
                 N_("Only a leader of the Văn phòng UBND tỉnh can give the office's opinion."))
        _require(version.created_by_id != actor.id, N_("Nobody can review their own version."))
        _expect(version, SUBMITTED)
        version.vp_opinion, version.vp_by_id, version.vp_at = opinion, actor.id, _now()
        version.status = VP_REVIEWED if agree else DRAFT
        audit.record(session, actor.username, "version_vp_opinion", f"procedure_version:{version.id}",
                     {"agree": agree, "opinion": opinion})
    return version


def decide_version(session: Session, actor: User, version_id: int, *, decision: str, note: str = "") -> ProcedureVersion:
    """The Chairman's decision: approve, return (to draft) or reject."""
    if decision not in ("approve", "return", "reject"):
        raise ValidationError(N_("Unknown decision '%(value)s'."), "decision", value=decision)
    with transaction(session):
        version = _version(session, version_id)
        _require(_holds_in_kind(session, actor, CHAIRMAN_ROLES, "province"),
                 N_("Only the Chairman or a Vice-chairman of the UBND tỉnh can approve a version."))
        _require(version.created_by_id != actor.id, N_("Nobody can approve their own version."))
        if version.requires_vp_review:
            if version.status == SUBMITTED:
                raise Conflict(N_("This procedure is decided by the UBND tỉnh or its Chairman: the Văn phòng "
                                  "UBND tỉnh must give its opinion before the Chairman decides."), "version")
            _expect(version, VP_REVIEWED)
        else:
            _expect(version, SUBMITTED, VP_REVIEWED)
        version.approval_note = (note or "").strip() or None
        if decision == "approve":
            version.status, version.approved_by_id, version.approved_at = APPROVED, actor.id, _now()
        else:
            version.status = DRAFT if decision == "return" else REJECTED
        audit.record(session, actor.username, f"version_{decision}d" if decision != "reject" else "version_rejected",
                     f"procedure_version:{version.id}", {"decision": decision, "note": version.approval_note})
    return version


def publish_version(session: Session, actor: User, version_id: int) -> ProcedureVersion:
    """Publish an approved version; the previous published one is retired (its dossiers go on)."""
    with transaction(session):
        version = _version(session, version_id)
        _require(actor.has_role("designer", version.procedure.agency_id) or actor.has_role("admin"),
                 N_("Only a process designer of the competent agency or an administrator can publish."))
        _expect(version, APPROVED)
        now = _now()
        for old in session.scalars(select(ProcedureVersion).where(
                ProcedureVersion.procedure_id == version.procedure_id, ProcedureVersion.status == PUBLISHED)):
            old.status, old.retired_at = RETIRED, now
            audit.record(session, actor.username, "version_retired", f"procedure_version:{old.id}",
                         {"replaced_by": version.number})
        version.status, version.published_at = PUBLISHED, now
        audit.record(session, actor.username, "version_published", f"procedure_version:{version.id}",
                     {"procedure": version.procedure.code, "number": version.number})
    return version


def published_version(session: Session, procedure_id: int) -> ProcedureVersion | None:
    return session.scalar(select(ProcedureVersion).where(
        ProcedureVersion.procedure_id == procedure_id, ProcedureVersion.status == PUBLISHED))


def _procedure(session: Session, procedure_id: int) -> Procedure:
    procedure = session.get(Procedure, procedure_id)
    if procedure is None:
        raise NotFound(N_("Procedure #%(id)s does not exist."), "procedure", id=procedure_id)
    return procedure


def _version(session: Session, version_id: int) -> ProcedureVersion:
    version = session.get(ProcedureVersion, version_id)
    if version is None:
        raise NotFound(N_("Procedure version #%(id)s does not exist."), "version", id=version_id)
    return version


def _expect(version: ProcedureVersion, *statuses: str) -> None:
    if version.status not in statuses:
        raise Conflict(N_("Version %(n)s is %(status)s; this action needs it to be %(expected)s."), "version",
                       n=version.number, status=version.status, expected=" / ".join(statuses))
