"""Stopping and ending dossiers: supplement, pause, resume, apology, withdraw, reject, hand over.

A supplement request (phiếu yêu cầu bổ sung) or a pause for a financial obligation stops the
clock; resuming moves the due dates by the working time spent waiting. An apology letter (phiếu
xin lỗi) gives a new return date, at most once per dossier: later than the current one, at most
``max_extension_days`` working days after it (a setting, 60 by default), in working time.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import NOT_AFTER, TOO_LATE
from services import audit, dates
from services.assignment import may_perform
from services.dossiers.common import aware, calendar, get_dossier, open_steps, require_open, utcnow
from services.errors import N_, Conflict, Forbidden, ValidationError
from services.models import ApologyLetter, Dossier, SupplementRequest, User
from services.models.dossiers import (
    CLOCK_STOPPED, DONE, PAUSED, PROCESSING, REJECTED, RETURNED, STEP_CANCELLED, WAITING_SUPPLEMENT, WITHDRAWN,
)
from services.uow import transaction
from services.validation import TextField

#: How far an apology letter may move the return date, in working days after the current one.
DEFAULT_MAX_EXTENSION_WORKING_DAYS = 60


def _at_desk(actor: User, dossier: Dossier) -> bool:
    return actor.has_role("mot_cua", dossier.desk_id)


def _handles(actor: User, dossier: Dossier) -> bool:
    """The desk, or an official who holds one of the dossier's open steps."""
    return _at_desk(actor, dossier) or any(may_perform(actor, s.role, s.org_unit_id) for s in open_steps(dossier))


def _agency_leader(actor: User, dossier: Dossier) -> bool:
    return any(actor.has_role(r, dossier.agency_id) for r in ("lanh_dao_so", "lanh_dao_phong", "chu_tich"))


def _reason(stored_in) -> TextField:
    return TextField(stored_in, "reason", N_("The reason is longer than %(n)d characters."),
                     required=N_("The reason is required."))


#: What an official types here, each checked against the column that keeps it (refused, never cut).
SUPPLEMENT_REASON = _reason(SupplementRequest.reason)  # also a pause's reason
SUPPLEMENT_ITEMS = TextField(SupplementRequest.items, "items",
                             N_("The list of what to supplement is longer than %(n)d characters."))
APOLOGY_REASON = _reason(ApologyLetter.reason)
CLOSE_REASON = _reason(Dossier.closed_reason)  # a withdrawal's or a rejection's


def stop_clock(session: Session, actor: User, dossier_id: int, *, kind: str, reason: str,
               items: str | None = None, now: datetime | None = None) -> SupplementRequest:
    """kind 'supplement' (waiting_supplement) or 'pause' (paused: financial obligation)."""
    if kind not in ("supplement", "pause"):
        raise ValidationError(N_("Unknown kind '%(value)s'."), "kind", value=kind)
    now, reason, items = now or utcnow(), SUPPLEMENT_REASON.clean(reason), SUPPLEMENT_ITEMS.clean(items)
    with transaction(session):
        dossier = get_dossier(session, dossier_id)
        require_open(dossier)
        if not _handles(actor, dossier):
            raise Forbidden(N_("Only the one-stop desk or an official handling the dossier can do this."), "dossier")
        if dossier.status in CLOCK_STOPPED:
            raise Conflict(N_("Dossier %(code)s is already waiting (%(status)s)."), "dossier",
                           code=dossier.code, status=dossier.status)
        request = SupplementRequest(dossier_id=dossier.id, kind=kind, reason=reason,
                                    items=items, requested_at=now,
                                    requested_by_id=actor.id)
        session.add(request)
        dossier.status = WAITING_SUPPLEMENT if kind == "supplement" else PAUSED
        dossier.stopped_since = now
        audit.record(session, actor.username, "supplement_requested" if kind == "supplement" else "paused",
                     f"dossier:{dossier.code}", {"reason": reason, "items": request.items}, at=now)
    return request


def resume(session: Session, actor: User, dossier_id: int, *, now: datetime | None = None) -> Dossier:
    """Resubmission (or the obligation fulfilled): the clock restarts, due dates move by the wait."""
    now = now or utcnow()
    with transaction(session):
        dossier = get_dossier(session, dossier_id)
        if dossier.status not in CLOCK_STOPPED:
            raise Conflict(N_("Dossier %(code)s is not waiting."), "dossier", code=dossier.code)
        if not _handles(actor, dossier):
            raise Forbidden(N_("Only the one-stop desk or an official handling the dossier can do this."), "dossier")
        cal = calendar(session)
        with dates.computing("dossier"):  # an old bad row: a clear refusal, not an error page
            waited = cal.working_minutes_between(aware(dossier.stopped_since), now)
            moved = {attr: cal.add_working_time(aware(getattr(dossier, attr)), waited, receipt=False)
                     for attr in ("due_at", "original_due_at")}
            steps = [(step, cal.add_working_time(aware(step.due_at), waited, receipt=False))
                     for step in open_steps(dossier)]
        request = session.scalar(select(SupplementRequest).where(
            SupplementRequest.dossier_id == dossier.id, SupplementRequest.resumed_at.is_(None)))
        request.resumed_at, request.waited_minutes = now, waited
        for attr, value in moved.items():
            setattr(dossier, attr, value)
        for step, due in steps:
            step.due_at = due
        dossier.stopped_minutes += waited
        was = dossier.status
        dossier.status, dossier.stopped_since = PROCESSING, None
        audit.record(session, actor.username, "supplement_resubmitted" if was == WAITING_SUPPLEMENT else "resumed",
                     f"dossier:{dossier.code}", {"waited_minutes": waited,
                                                 "due_at": audit.format_at(dossier.due_at)}, at=now)
    return dossier


def issue_apology(session: Session, actor: User, dossier_id: int, *, reason: str, new_due_at: datetime,
                  now: datetime | None = None,
                  max_extension_days: int = DEFAULT_MAX_EXTENSION_WORKING_DAYS) -> ApologyLetter:
    now, reason = now or utcnow(), APOLOGY_REASON.clean(reason)
    if not isinstance(new_due_at, datetime) or new_due_at.tzinfo is None:
        raise ValidationError(N_("The new return date must carry a time zone."), "new_due_at")
    with transaction(session):
        dossier = get_dossier(session, dossier_id)
        require_open(dossier)
        if not (_handles(actor, dossier) or _agency_leader(actor, dossier)):
            raise Forbidden(N_("Only the desk, the agency's leaders or an official handling the dossier "
                               "can issue its apology letter."), "dossier")
        if session.scalar(select(ApologyLetter.id).where(ApologyLetter.dossier_id == dossier.id)):
            raise Conflict(N_("Dossier %(code)s already has an apology letter; only one is allowed."),
                           "dossier", code=dossier.code)
        current = aware(dossier.due_at)
        cal = calendar(session)
        with dates.computing("new_due_at"):
            latest = cal.add_working_days(current, max_extension_days, receipt=False)
        dates.given(new_due_at, "new_due_at", after=current, latest=latest, messages={
            NOT_AFTER: N_("The new return date must be after the current one (%(due)s)."),
            TOO_LATE: N_("The new return date must be at most %(days)d working days after the current one: "
                         "%(limit)s at the latest."),
        }, due=dates.shown(current), days=max_extension_days)
        dates.appointment(cal, new_due_at, "new_due_at", N_(
            "The new return date %(value)s is not working time (a day off or outside the working hours); "
            "the next working time is %(next)s."))
        letter = ApologyLetter(dossier_id=dossier.id, reason=reason, previous_due_at=current,
                               new_due_at=new_due_at, issued_at=now, issued_by_id=actor.id)
        session.add(letter)
        dossier.due_at = new_due_at
        audit.record(session, actor.username, "apology_issued", f"dossier:{dossier.code}", {
            "reason": reason, "previous_due_at": audit.format_at(current),
            "new_due_at": audit.format_at(new_due_at)}, at=now)
    return letter


def close(session: Session, actor: User, dossier_id: int, *, outcome: str, reason: str,
          now: datetime | None = None) -> Dossier:
    """outcome 'withdrawn' (the applicant withdraws, at the desk) or 'rejected' (by the agency)."""
    now, reason = now or utcnow(), CLOSE_REASON.clean(reason)
    with transaction(session):
        dossier = get_dossier(session, dossier_id)
        require_open(dossier)
        if outcome == WITHDRAWN:
            if not _at_desk(actor, dossier):
                raise Forbidden(N_("A withdrawal is recorded by the receiving one-stop desk."), "dossier")
        elif outcome == REJECTED:
            if not (_agency_leader(actor, dossier) or _handles(actor, dossier)):
                raise Forbidden(N_("Only the agency or an official handling the dossier can reject it."), "dossier")
        else:
            raise ValidationError(N_("Unknown outcome '%(value)s'."), "outcome", value=outcome)
        for step in open_steps(dossier):
            step.status = STEP_CANCELLED
        dossier.status, dossier.closed_reason, dossier.result_at = outcome, reason, now
        audit.record(session, actor.username, "withdrawn" if outcome == WITHDRAWN else "rejected",
                     f"dossier:{dossier.code}", {"reason": reason}, at=now)
    return dossier


def hand_over(session: Session, actor: User, dossier_id: int, *, now: datetime | None = None) -> Dossier:
    """The result handed back, for procedures whose BPMN has no "return result" step."""
    now = now or utcnow()
    with transaction(session):
        dossier = get_dossier(session, dossier_id)
        if dossier.status != DONE or open_steps(dossier):
            raise Conflict(N_("Dossier %(code)s has no result ready to hand over."), "dossier", code=dossier.code)
        if not _at_desk(actor, dossier):
            raise Forbidden(N_("Results are handed over by the receiving one-stop desk."), "dossier")
        dossier.status, dossier.returned_at = RETURNED, now
        audit.record(session, actor.username, "result_returned", f"dossier:{dossier.code}", {}, at=now)
    return dossier
