"""The inbox (việc cần xử lý): the open steps of my roles in my org units, soonest due first.

Badges (trong hạn / sắp đến hạn / quá hạn) and the time left are computed at render time with the
working-time calendar (engine.sla), so they are right even between two runs of the deadline job;
the status filter uses the marks that job stores on the steps (services.worklist).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from bpmn.i18n import format_minutes
from engine import sla
from engine.calendar import TIMEZONE, CalendarRangeError
from services import dates, worklist
from services.calendar import current_calendar
from services.dossiers.common import aware, utcnow
from services.errors import ServiceError
from services.jobs import warning_minutes
from services.models import DossierStep, Procedure
from services.models.dossiers import CLOCK_STOPPED
from services.roles import OFFICIAL_ROLES
from web.auth import role_required
from web.extensions import db
from web.input_guard import page_arg, whole_number

bp = Blueprint("inbox", __name__)

PER_PAGE = 25
BADGES = {sla.WITHIN: (_l("Within time"), "green"), sla.NEARLY_DUE: (_l("Nearly due"), "amber"),
          sla.OVERDUE: (_l("Overdue"), "red")}
# Shown, never a filter: a stored due date outside the working calendar's years (an old bad row).
UNKNOWN_BADGE = (_l("Due date out of the calendar's range"), "grey")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(frozen=True)
class Deadline:
    """Where a step stands against its due time, in working time."""

    progress: str | None      # within / nearly_due / overdue; None while the dossier's clock is stopped
    minutes: int | None       # working minutes left (negative: overdue)

    @property
    def badge(self) -> tuple[str, str]:
        if self.progress is None:
            return _("Clock stopped"), "grey"
        label, colour = BADGES.get(self.progress, UNKNOWN_BADGE)
        return str(label), colour

    @property
    def text(self) -> str:
        if self.minutes is None:
            return ""
        lang = str(get_locale() or "vi")
        if self.minutes < 0:
            return _("overdue by %(time)s", time=format_minutes(-self.minutes, lang))
        if self.minutes == 0:
            return _("due now")
        return _("%(time)s left", time=format_minutes(self.minutes, lang))


def deadline(step: DossierStep, now: datetime, cal) -> Deadline:
    if step.dossier.status in CLOCK_STOPPED:
        return Deadline(None, None)
    due = aware(step.due_at)
    try:
        return Deadline(sla.progress(cal, now, due, warning_minutes()), sla.remaining_minutes(cal, now, due))
    except CalendarRangeError:
        return Deadline(sla.UNKNOWN, None)


def parse_day(text: str) -> date:
    """A strict dd/mm/yyyy date; ValueError otherwise."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    day, month, year = (int(g) for g in match.groups())
    return date(year, month, day)


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TIMEZONE)


@dataclass
class Filters:
    """The filter form as typed (GET parameters), the parsed filter, and the errors per field."""

    procedure: str = ""
    status: str = ""
    received_from: str = ""
    received_to: str = ""
    code: str = ""
    mine: bool = False
    errors: dict | None = None

    @classmethod
    def from_args(cls, args) -> "Filters":
        return cls(procedure=args.get("procedure", "").strip(), status=args.get("status", "").strip(),
                   received_from=args.get("received_from", "").strip()[:20],
                   received_to=args.get("received_to", "").strip()[:20],
                   code=args.get("code", "").strip()[:60], mine=args.get("mine") in ("1", "on", "true"),
                   errors={})

    def parsed(self) -> worklist.InboxFilter:
        errors = self.errors
        procedure_id = whole_number(self.procedure)
        if self.procedure and procedure_id is None:
            errors["procedure"] = _("Choose a procedure from the list.")
        warning = self.status if self.status in BADGES else None
        if self.status and warning is None:
            errors["status"] = _("Choose a status from the list.")
        bounds = {}
        for name, label in (("received_from", _("Received from")), ("received_to", _("Received to"))):
            text = getattr(self, name)
            if not text:
                continue
            try:
                day = parse_day(text)
                dates.given(_local_midnight_utc(day), name)  # the one bound on dates people give
            except ValueError:
                errors[name] = _("%(field)s: '%(text)s' is not a date dd/mm/yyyy.", field=label, text=text)
            except ServiceError as exc:
                errors[name] = f"{label}: {_(exc.template, **exc.params)}"
            else:
                bounds[name] = day
        start, end = bounds.get("received_from"), bounds.get("received_to")
        if start and end and end < start:
            errors["received_to"] = _("Received to: the date must not be before 'Received from'.")
        return worklist.InboxFilter(
            procedure_id=procedure_id, warning=warning,
            received_from=_local_midnight_utc(start) if start else None,
            # The "to" day is included: everything before the next local midnight.
            received_to=_local_midnight_utc(end + timedelta(days=1)) if end else None,
            code=self.code or None, mine_only=self.mine)

    def query(self, **changes) -> dict:
        """The GET parameters of this filter (for pagination links)."""
        params = {"procedure": self.procedure, "status": self.status, "received_from": self.received_from,
                  "received_to": self.received_to, "code": self.code, "mine": "1" if self.mine else ""}
        params.update(changes)
        return {k: v for k, v in params.items() if v}


@bp.get("/inbox")
@role_required(*OFFICIAL_ROLES)
def index():
    filters = Filters.from_args(request.args)
    criteria = filters.parsed()
    user = current_user._get_current_object()
    status = 400 if filters.errors else 200
    if filters.errors:
        page = worklist.Page([], 0, 1, PER_PAGE)
    else:
        now = utcnow()  # one clock for the status filter and the rows' badges
        page = worklist.inbox(db.session, user, criteria, page=page_arg(),
                              per_page=PER_PAGE, now=now)
        if not page.items and page.page > page.pages:  # past the end (the list shrank): the last page
            page = worklist.inbox(db.session, user, criteria, page=page.pages, per_page=PER_PAGE, now=now)
    procedures = db.session.scalars(select(Procedure).order_by(Procedure.code)).all()
    return render_template("inbox/index.html", page=page, filters=filters, procedures=procedures,
                           badges=BADGES, **row_context()), status


def row_context(back: str | None = None) -> dict:
    """What the inbox rows need to render (also for a row re-rendered after claim/unclaim);
    `back` is where claim and unclaim buttons return to without JavaScript."""
    now, cal = utcnow(), current_calendar(db.session)
    return {"deadline": lambda step: deadline(step, now, cal), 
            "back": back or request.full_path.rstrip("?")}
