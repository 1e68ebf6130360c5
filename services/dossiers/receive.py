"""Receiving a dossier at a one-stop desk (tiếp nhận hồ sơ)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.calendar import to_local
from engine.runtime import EngineError
from services import audit, procedures
from services.dossiers.common import calendar, runtime, settle_status, sync_steps, utcnow
from services.errors import N_, ValidationError
from services.models import Dossier, DossierSequence, OrgUnit, Procedure, User
from services.models.dossiers import RECEIVED
from services.uow import transaction

MAX_CLOCK_SKEW = timedelta(minutes=5)


def _desk(session: Session, actor: User, desk_id: int | None) -> OrgUnit:
    desks = [a.org_unit for a in actor.assignments if a.role_code == "mot_cua"]
    if not desks:
        raise ValidationError(N_("Only one-stop desk officers can receive dossiers."), "desk")
    if desk_id is None:
        if len(desks) > 1:
            raise ValidationError(N_("Choose the one-stop desk that receives the dossier."), "desk")
        return desks[0]
    for desk in desks:
        if desk.id == desk_id:
            return desk
    raise ValidationError(N_("You do not work at the chosen one-stop desk."), "desk")


def next_code(session: Session, agency_code: str, received_at: datetime) -> str:
    """{agency code}-{YYMMDD}-{4-digit daily sequence}; the day is the local (Vietnam) date."""
    day = to_local(received_at).date()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(DossierSequence).values(agency_code=agency_code, day=day, last=0)
                    .on_conflict_do_nothing())
    # The UPDATE locks the row, so two desks receiving at once get different numbers.
    number = session.execute(
        update(DossierSequence).where(DossierSequence.agency_code == agency_code, DossierSequence.day == day)
        .values(last=DossierSequence.last + 1).returning(DossierSequence.last)).scalar_one()
    if number > 9999:
        raise ValidationError(N_("More than 9999 dossiers in one day for %(code)s."), "code", code=agency_code)
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


def receive(session: Session, actor: User, *, procedure_id: int, applicant_name: str,
            applicant_id_number: str | None = None, applicant_phone: str | None = None,
            applicant_email: str | None = None, applicant_address: str | None = None,
            desk_id: int | None = None, received_at: datetime | None = None,
            now: datetime | None = None) -> Dossier:
    """Create the dossier, start its workflow on the published version, compute its due dates."""
    now = now or utcnow()
    received_at = received_at or now
    if received_at.tzinfo is None:
        raise ValidationError(N_("The receipt time must carry a time zone."), "received_at")
    if received_at > now + MAX_CLOCK_SKEW:
        raise ValidationError(N_("The receipt time cannot be in the future."), "received_at")
    applicant_name = (applicant_name or "").strip()
    if not applicant_name:
        raise ValidationError(N_("The applicant's name is required."), "applicant_name")
    with transaction(session):
        desk = _desk(session, actor, desk_id)
        procedure = session.get(Procedure, procedure_id)
        if procedure is None:
            raise ValidationError(N_("Procedure #%(id)s does not exist."), "procedure", id=procedure_id)
        version = procedures.published_version(session, procedure.id)
        if version is None:
            raise ValidationError(N_("Procedure %(code)s has no published version: it cannot receive dossiers."),
                                  "procedure", code=procedure.code)
        cal = calendar(session)
        code = next_code(session, procedure.agency.code, received_at)
        try:
            instance = runtime(version).start({"dossier_code": code}, now=received_at)
        except EngineError as exc:
            raise ValidationError(N_("The procedure cannot be started: %(detail)s"), "procedure",
                                  detail=exc.message) from None
        due = cal.add_working_time(received_at, version.target_minutes, receipt=True)
        dossier = Dossier(
            code=code, procedure_id=procedure.id, version_id=version.id, agency_id=procedure.agency_id,
            desk_id=desk.id, applicant_name=applicant_name[:255],
            applicant_id_number=_clean(applicant_id_number, 40), applicant_phone=_clean(applicant_phone, 40),
            applicant_email=_clean(applicant_email, 255), applicant_address=_clean(applicant_address, 500),
            received_at=received_at, received_by_id=actor.id, target_minutes=version.target_minutes,
            due_at=due, original_due_at=due, status=RECEIVED, state=instance.dump(), stopped_minutes=0,
        )
        session.add(dossier)
        session.flush()
        rows = sync_steps(session, dossier, version, instance, received_at, receipt=True)
        for row in rows:  # the receiving officer holds the receive step
            if row.role == "mot_cua" and row.org_unit_id == desk.id:
                row.assignee_id, row.status = actor.id, "claimed"
        settle_status(dossier, instance, now)
        audit.record(session, actor.username, "dossier_received", f"dossier:{code}", {
            "procedure": procedure.code, "version": version.number, "desk": desk.code,
            "received_at": audit.format_at(received_at), "due_at": audit.format_at(due),
            "applicant": applicant_name}, at=now)
    return dossier


def _clean(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None
