"""Receiving a dossier at a one-stop desk (tiếp nhận hồ sơ).

Everything the desk typed is checked before a dossier code is taken: the receipt time (not in the
future beyond a small clock skew, not before the back-dating limit, a setting), the applicant's
national formats (services.dossiers.applicant), the length of the name and address (the columns'
limits, services.validation: refused, never cut).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.calendar import FIRST_INSTANT, TOO_EARLY, TOO_LATE, to_local
from engine.runtime import EngineError
from services import audit, dates, procedures
from services.dossiers import applicant
from services.dossiers.common import calendar, runtime, settle_status, sync_steps, utcnow
from services.errors import N_, Forbidden, ValidationError
from services.models import Dossier, DossierSequence, OrgUnit, Procedure, User
from services.models.dossiers import RECEIVED
from services.uow import transaction
from services.validation import TextField

MAX_CLOCK_SKEW = timedelta(minutes=5)
#: How far back a receipt time may be recorded (a paper receipt typed in later), in calendar days;
#: 0 leaves only the calendar's own range (from 01/01/1901).
DEFAULT_MAX_BACKDATE_DAYS = 3650
APPLICANT_NAME = TextField(Dossier.applicant_name, "applicant_name",
                           N_("The applicant's name is longer than %(n)d characters."),
                           required=N_("The applicant's name is required."))
APPLICANT_ADDRESS = TextField(Dossier.applicant_address, "applicant_address",
                              N_("The applicant's address is longer than %(n)d characters."))


def check_received_at(received_at: datetime, now: datetime, *,
                      max_backdate_days: int = DEFAULT_MAX_BACKDATE_DAYS) -> datetime:
    """The receipt time, bounded: not after ``now`` (give or take the clock skew), not more than
    ``max_backdate_days`` before it. The desk's form asks this too, to show it with the other errors."""
    earliest = FIRST_INSTANT
    if max_backdate_days:
        earliest = max(earliest, now - timedelta(days=max_backdate_days))
    return dates.given(received_at, "received_at", earliest=earliest, latest=now + MAX_CLOCK_SKEW, messages={
        TOO_EARLY: N_("Received at: the receipt time must not be before %(limit)s."),
        TOO_LATE: N_("Received at: the receipt time cannot be in the future."),
    })


def _desk(session: Session, actor: User, desk_id: int | None) -> OrgUnit:
    """The desk that receives: one where *actor* holds the one-stop role (Forbidden otherwise — a
    refusal of who asks, not of what was typed; choosing none of several is the form's error)."""
    desks = [a.org_unit for a in actor.assignments if a.role_code == "mot_cua"]
    if not desks:
        raise Forbidden(N_("Only one-stop desk officers can receive dossiers."), "desk")
    if desk_id is None:
        if len(desks) > 1:
            raise ValidationError(N_("Choose the one-stop desk that receives the dossier."), "desk")
        return desks[0]
    for desk in desks:
        if desk.id == desk_id:
            return desk
    raise Forbidden(N_("You do not work at the chosen one-stop desk."), "desk")


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
            now: datetime | None = None, max_backdate_days: int = DEFAULT_MAX_BACKDATE_DAYS) -> Dossier:
    """Create the dossier, start its workflow on the published version, compute its due dates."""
    now = now or utcnow()
    received_at = received_at or now
    if received_at.tzinfo is None:
        raise ValidationError(N_("The receipt time must carry a time zone."), "received_at")
    check_received_at(received_at, now, max_backdate_days=max_backdate_days)
    # Before the transaction: a refused value takes no dossier code.
    applicant_name = APPLICANT_NAME.clean(applicant_name)
    address = APPLICANT_ADDRESS.clean(applicant_address)
    id_number = applicant.id_number(applicant_id_number)
    phone = applicant.phone(applicant_phone)
    email = applicant.email(applicant_email)
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
        with dates.computing("received_at", N_("The return date computed from this receipt time falls outside "
                                               "the dates the working calendar supports (%(first)d to %(last)d).")):
            due = cal.add_working_time(received_at, version.target_minutes, receipt=True)
        dossier = Dossier(
            code=code, procedure_id=procedure.id, version_id=version.id, agency_id=procedure.agency_id,
            desk_id=desk.id, applicant_name=applicant_name,
            applicant_id_number=id_number, applicant_phone=phone,
            applicant_email=email, applicant_address=address,
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
