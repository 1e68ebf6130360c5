"""Procedures and their versions: upload, lint, submit, Văn phòng opinion, approval, publish.

`ProcedureVersion` lifecycle (vòng đời phiên bản): draft → submitted → vp_reviewed → approved →
published → retired. The Văn phòng UBND tỉnh's opinion is mandatory before the Chairman approves a
version of a procedure decided by the UBND tỉnh or its Chairman; a version that fails lint cannot
be submitted; the people of one approval round are separate (services/approval_duties.py);
publishing retires the previous published version without touching dossiers already running on it.

A procedure's TTHC code (mã thủ tục hành chính) is unique in the province and follows the national
database's format (see :func:`normalise_code`); an upload is linted against the province's minimum
time cut for the year of the upload (services/policy.py).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
import json
import re
from pathlib import Path
from datetime import datetime, timezone
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bpmn import lint as lint_bpmn
from bpmn.profile import parse_authority
from bpmn import InvalidOption
from engine.runtime import EngineError, Instance, InvalidTaskData, ProcedureRuntime, ReviewNotFresh, runtime_for
from services import audit, policy, version_files
from services.approval_duties import duty_conflict, separate_duties  # noqa: F401 — duty_conflict for the pages
from services.errors import N_, Conflict, Forbidden, ValidationError, found
from services.db import TEXT_LIMIT
from services.models import OrgUnit, Procedure, ProcedureVersion, User
from services.models.procedures import (
    APPROVED, DRAFT, PUBLISHED, REJECTED, RETIRED, SUBMITTED, VP_REVIEWED,
)
from services.procedure_runtime import runtime
from services.roles import ROLE_CODES
from services.uow import transaction
from services.validation import TextField

VP_AUTHORITIES = frozenset({"ubnd_tinh", "chu_tich_ubnd_tinh"})
CHAIRMAN_ROLES = ("chu_tich", "pho_chu_tich")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _require(condition: bool, template: str, **params) -> None:
    if not condition:
        raise Forbidden(template, **params)


def _holds_in_kind(session: Session, user: User, roles: tuple[str, ...], kind: str) -> bool:
    return any(a.role_code in roles and a.org_unit.kind == kind for a in user.assignments)


#: A TTHC code of the national database (Cơ sở dữ liệu quốc gia về TTHC): one digit, a dot and
#: six digits (1.004227, 2.002154), optionally followed by a locality's suffix, a letter and two
#: digits (1.000948.H38, 1.012753.H19). The portal's service code, which appends an agency's
#: e-identifier (1.001612.000.00.00.H48), is not a TTHC code. Upper-case, as published.
TTHC_CODE = re.compile(r"[1-9]\.[0-9]{6}(?:\.[A-Z][0-9]{2})?")

#: What a designer, the Văn phòng or the Chairman types, each checked against where it is kept.
PROCEDURE_NAME = TextField(Procedure.name, "name", N_("The procedure name is longer than %(n)d characters."),
                           required=N_("The procedure name is required."))
VERSION_FILENAME = TextField(ProcedureVersion.filename, "bpmn", N_("The file name is longer than %(n)d characters."))
#: Kept only in the approval workflow's data and the audit event: the limit of the other notes.
SUBMISSION_NOTE = TextField(TEXT_LIMIT, "note", N_("The submission note is longer than %(n)d characters."))
OPINION = TextField(ProcedureVersion.vp_opinion, "opinion", N_("The opinion is longer than %(n)d characters."),
                    required=N_("The opinion text is required."))  # the specialist's findings too
DECISION_NOTE = TextField(ProcedureVersion.approval_note, "note", N_("The note is longer than %(n)d characters."))


def normalise_code(code: object) -> str:
    """The TTHC code as stored (trimmed, suffix upper-cased); ValidationError naming ``code``."""
    text = str(code or "").strip()
    if not text:
        raise ValidationError(N_("The TTHC code is required."), "code")
    canonical = text.upper()
    if len(canonical) > 40 or not TTHC_CODE.fullmatch(canonical):
        raise ValidationError(N_("'%(value)s' is not a TTHC code: use the national database's format, "
                                 "for example 1.004227, or a local code such as 1.000948.H38."), "code",
                              value=text[:40])
    return canonical


def create_procedure(session: Session, actor: User, *, code: str, name: str, authority: str,
                     agency_id: int) -> Procedure:
    """A new procedure. Its code is unique in the province: one installation serves one
    province's TTHC information system (NĐ 367/2025), so in the whole database."""
    code, name = normalise_code(code), PROCEDURE_NAME.clean(name)
    try:
        authority = parse_authority(authority)
    except ValueError:
        raise ValidationError(N_("Unknown deciding authority '%(value)s'."), "authority", value=authority) from None
    _require(actor.has_role("designer", agency_id),
             N_("Only a process designer of the competent agency can create its procedures."))
    with transaction(session):
        if session.get(OrgUnit, agency_id) is None:
            raise ValidationError(N_("Unknown org unit #%(id)s."), "agency", id=agency_id)
        existing = session.scalar(select(Procedure).where(func.upper(Procedure.code) == code))
        if existing is not None:
            raise Conflict(N_("The province already has a procedure with code %(code)s: %(name)s "
                              "(%(agency)s)."), "code", code=code, name=existing.name,
                           agency=existing.agency.code)
        procedure = Procedure(code=code, name=name, authority=authority, agency_id=agency_id, created_at=_now())
        session.add(procedure)
        try:
            session.flush()  # the unique index: two designers creating the same code at once
        except IntegrityError:
            raise Conflict(N_("The province already has a procedure with code %(code)s."), "code",
                           code=code) from None
        audit.record(session, actor.username, "procedure_created", f"procedure:{procedure.id}",
                     {"code": code, "name": name, "authority": authority, "agency_id": agency_id})
    return procedure


def upload_version(session: Session, actor: User, procedure_id: int, *, filename: str, data: bytes,
                   legal_days=None, reduction=None, now: datetime | None = None) -> ProcedureVersion:
    """Store a new draft version with its lint report (upload and lint are two audit events).

    *now* (default: the clock) picks the year whose minimum cut the version is checked against.
    """
    procedure = _procedure(session, procedure_id)
    _require(actor.has_role("designer", procedure.agency_id),
             N_("Only a process designer of the competent agency can upload its versions."))
    now = now or _now()
    filename = VERSION_FILENAME.clean(filename) or "upload.bpmn"
    report = lint_upload(session, procedure, data, legal_days=legal_days, reduction=reduction, now=now)
    digest = hashlib.sha256(data).hexdigest()
    budget = report.budget
    with transaction(session):
        number = (session.scalar(select(func.max(ProcedureVersion.number))
                                 .where(ProcedureVersion.procedure_id == procedure.id)) or 0) + 1
        version = ProcedureVersion(
            procedure_id=procedure.id, number=number, status=DRAFT, filename=filename,
            bpmn=version_files.kept_bytes(report, data), bpmn_sha256=digest, legal_minutes=budget.legal_minutes,
            reduction=report.reduction or "0.3", target_minutes=budget.target_minutes,
            allocated_minutes=budget.allocated_minutes, lint_ok=report.ok,
            lint_report=json.dumps({"vi": report.to_dict("vi"), "en": report.to_dict("en")}, ensure_ascii=False),
            requires_vp_review=procedure.authority in VP_AUTHORITIES,
            created_by_id=actor.id, created_at=now,
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
                      "allocated_minutes": budget.allocated_minutes,
                      "min_reduction": report.min_reduction, "policy_year": report.policy_year})
    return version


def _given(value):
    """An override as given; None or an empty text means "not given" (0 is a value, refused or not)."""
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def upload_policy(session: Session) -> tuple[int, Fraction]:
    """(year, minimum cut) an upload made now is checked against (shown on the upload page)."""
    return policy.minimum_reduction(session, _now())


def lint_upload(session: Session, procedure: Procedure, data: bytes, *, legal_days, reduction,
                now: datetime):
    """The upload's lint report: the procedure's authority, the form's overrides and the
    province's minimum cut for the year of *now* (REDUCTION_BELOW_POLICY below it)."""
    year, minimum = policy.minimum_reduction(session, now)
    try:
        report = lint_bpmn(data, legal_days=_given(legal_days), authority=procedure.authority,
                           reduction=_given(reduction),
                           known_roles=ROLE_CODES, min_reduction=minimum)
    except InvalidOption as exc:
        raise ValidationError(N_("Invalid procedure metadata: %(detail)s"), getattr(exc, "option", None),
                              detail=str(exc)) from None
    report.policy_year = year
    return report


APPROVAL_BPMN = Path(__file__).resolve().parent.parent / "bpmn" / "library" / "procedure_approval.bpmn"
SUBMIT, VP_CHECK, VP_OPINION, CHAIRMAN = (
    "Task_TrinhPheDuyet", "Task_VP_ThamTra", "Task_VP_YKien", "Task_ChuTichPheDuyet")
APPROVED_END, REJECTED_END = "EndEvent_SanSangCongBo", "EndEvent_KhongPheDuyet"


@lru_cache(maxsize=1)
def _approval_bpmn() -> tuple[str, bytes]:
    data = APPROVAL_BPMN.read_bytes()  # part of the installed code: read once per process
    return f"approval:{hashlib.sha256(data).hexdigest()}", data


def approval_runtime() -> ProcedureRuntime:
    """The approval flow is itself a BPMN of the library, run by the engine (parsed once)."""
    key, data = _approval_bpmn()
    return runtime_for(key, lambda: data)


def approval_stage(version: ProcedureVersion) -> str | None:
    """Which approval step waits: submit, vp_check, vp_opinion, chairman, or None (finished)."""
    if version.approval_state is None:
        return "submit" if version.status == DRAFT else None
    ready = {t.spec_id for t in approval_runtime().load(version.approval_state).ready_tasks()}
    for spec, stage in ((SUBMIT, "submit"), (VP_CHECK, "vp_check"), (VP_OPINION, "vp_opinion"),
                        (CHAIRMAN, "chairman")):
        if spec in ready:
            return stage
    return None


def _status(version: ProcedureVersion, instance: Instance) -> str:
    """The version's status is read off where its approval workflow stands."""
    if instance.completed:
        return APPROVED if APPROVED_END in instance.end_events else REJECTED
    ready = {t.spec_id for t in instance.ready_tasks()}
    if SUBMIT in ready:
        return DRAFT
    if CHAIRMAN in ready:
        return VP_REVIEWED if version.requires_vp_review else SUBMITTED
    return SUBMITTED


def _advance(session: Session, actor: User, version: ProcedureVersion, spec_id: str, data: dict,
             action: str, payload: dict) -> None:
    """Complete the ready approval task `spec_id` with `data`, store the state and the event."""
    rt = approval_runtime()
    if version.approval_state is None:
        # requires_vp_review comes from the procedure's authority, never from the caller.
        instance = rt.start({"requires_vp_review": version.requires_vp_review, "version_id": version.id})
    else:
        instance = rt.load(version.approval_state)
    task = next((t for t in instance.ready_tasks() if t.spec_id == spec_id), None)
    if task is None:
        raise Conflict(N_("Version %(n)s is %(status)s; this action needs it to be %(expected)s."), "version",
                       n=version.number, status=version.status, expected=_EXPECTED[spec_id])
    try:
        instance.complete(task.id, data)
    except ReviewNotFresh:
        raise Conflict(N_("This procedure is decided by the UBND tỉnh or its Chairman: the Văn phòng "
                          "UBND tỉnh must give its opinion before the Chairman decides."), "version") from None
    except InvalidTaskData as exc:
        raise ValidationError(N_("%(detail)s"), exc.field or "data", detail=exc.message) from None
    version.approval_state = instance.dump()
    version.status = _status(version, instance)
    audit.record(session, actor.username, action, f"procedure_version:{version.id}", payload)


_EXPECTED = {SUBMIT: DRAFT, VP_CHECK: SUBMITTED, VP_OPINION: SUBMITTED,
             CHAIRMAN: f"{VP_REVIEWED} / {SUBMITTED}"}


def submit_version(session: Session, actor: User, version_id: int, note: str = "") -> ProcedureVersion:
    note = SUBMISSION_NOTE.clean(note)
    with transaction(session):
        version = _version(session, version_id)
        _require(actor.has_role("designer", version.procedure.agency_id),
                 N_("Only a process designer of the competent agency can submit its versions."))
        _expect(version, DRAFT)
        if not version.lint_ok:
            raise ValidationError(N_("Version %(n)s fails the policy checks and cannot be submitted; "
                                     "fix the errors in its lint report first."), "version", n=version.number)
        note = note or f"Trình phê duyệt phiên bản {version.number}"
        version.submitted_at = _now()
        _advance(session, actor, version, SUBMIT, {"submission_note": note}, "version_submitted",
                 {"procedure": version.procedure.code, "number": version.number, "note": note})
    return version


def give_vp_opinion(session: Session, actor: User, version_id: int, *, agree: bool, opinion: str) -> ProcedureVersion:
    """The Văn phòng UBND tỉnh's review (thẩm tra): its specialist's findings, then its leader's opinion.

    The leader's disagreement returns the version to the designer (draft).
    """
    opinion = OPINION.clean(opinion)
    with transaction(session):
        version = _version(session, version_id)
        separate_duties(session, actor, version, "review")
        ready = _ready(version)
        if not ready & {VP_CHECK, VP_OPINION}:  # before asking who may act: nobody may, now
            raise Conflict(N_("Version %(n)s is %(status)s; this action needs it to be %(expected)s."), "version",
                           n=version.number, status=version.status, expected=_EXPECTED[VP_OPINION])
        if VP_CHECK in ready:
            _require(_holds_in_kind(session, actor, ("vp_chuyen_vien",), "office"),
                     N_("The Văn phòng UBND tỉnh's specialist reviews the version first."))
            _advance(session, actor, version, VP_CHECK, {"opinion": opinion}, "version_vp_review",
                     {"opinion": opinion})
        else:
            _require(_holds_in_kind(session, actor, ("vp_lanh_dao",), "office"),
                     N_("Only a leader of the Văn phòng UBND tỉnh can give the office's opinion."))
            separate_duties(session, actor, version, "vp_opinion")
            version.vp_opinion, version.vp_by_id, version.vp_at = opinion, actor.id, _now()
            _advance(session, actor, version, VP_OPINION,
                     {"decision": "approve" if agree else "return", "opinion": opinion},
                     "version_vp_opinion", {"agree": agree, "opinion": opinion})
    return version


def decide_version(session: Session, actor: User, version_id: int, *, decision: str, note: str = "") -> ProcedureVersion:
    """The Chairman's decision: approve, return (to the designer) or reject."""
    if decision not in ("approve", "return", "reject"):
        raise ValidationError(N_("Unknown decision '%(value)s'."), "decision", value=decision)
    note = DECISION_NOTE.clean(note)
    with transaction(session):
        version = _version(session, version_id)
        _require(_holds_in_kind(session, actor, CHAIRMAN_ROLES, "province"),
                 N_("Only the Chairman or a Vice-chairman of the UBND tỉnh can approve a version."))
        separate_duties(session, actor, version, "chairman")
        if version.requires_vp_review and version.status == SUBMITTED:
            raise Conflict(N_("This procedure is decided by the UBND tỉnh or its Chairman: the Văn phòng "
                              "UBND tỉnh must give its opinion before the Chairman decides."), "version")
        version.approval_note = note
        if decision == "approve":
            version.approved_by_id, version.approved_at = actor.id, _now()
        action = {"approve": "version_approved", "return": "version_returned", "reject": "version_rejected"}[decision]
        _advance(session, actor, version, CHAIRMAN, {"decision": decision, "opinion": version.approval_note or ""},
                 action, {"decision": decision, "note": version.approval_note})
    return version


def _ready(version: ProcedureVersion) -> set[str]:
    if version.approval_state is None:
        return {SUBMIT}
    return {t.spec_id for t in approval_runtime().load(version.approval_state).ready_tasks()}


def publish_version(session: Session, actor: User, version_id: int) -> ProcedureVersion:
    """Publish an approved version; the previous published one is retired (its dossiers go on)."""
    with transaction(session):
        version = _version(session, version_id)
        _require(actor.has_role("designer", version.procedure.agency_id) or actor.has_role("admin"),
                 N_("Only a process designer of the competent agency or an administrator can publish."))
        _expect(version, APPROVED)
        _require_runnable(version)
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


def _require_runnable(version: ProcedureVersion) -> None:
    """The desks will run this version: build it as they will (the linter, its trial start
    included), which also stops a version approved on an older linter's report."""
    try:
        runtime(version)
    except EngineError as exc:
        raise ValidationError(N_("Version %(n)s cannot be published: the engine cannot run it (%(detail)s)."),
                              "version", n=version.number, detail=exc.message) from None


def published_version(session: Session, procedure_id: int) -> ProcedureVersion | None:
    return session.scalar(select(ProcedureVersion).where(
        ProcedureVersion.procedure_id == procedure_id, ProcedureVersion.status == PUBLISHED))


def _procedure(session: Session, procedure_id: int) -> Procedure:
    return found(session.get(Procedure, procedure_id), N_("Procedure #%(id)s does not exist."), "procedure",
                 id=procedure_id)


def _version(session: Session, version_id: int) -> ProcedureVersion:
    return found(session.get(ProcedureVersion, version_id), N_("Procedure version #%(id)s does not exist."),
                 "version", id=version_id)


def _expect(version: ProcedureVersion, *statuses: str) -> None:
    if version.status not in statuses:
        raise Conflict(N_("Version %(n)s is %(status)s; this action needs it to be %(expected)s."), "version",
                       n=version.number, status=version.status, expected=" / ".join(statuses))
