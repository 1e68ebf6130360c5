"""Reading the audit log (tra cứu nhật ký): filters, pages, streamed export, a dossier's timeline.

Who may read: the auditor (thanh tra, kiểm soát TTHC) and the administrator. The CLI reads without
a user: whoever runs it already holds the database.
"""
from __future__ import annotations

import csv
import io
import json
import re
from json.encoder import encode_basestring
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from sqlalchemy import String, cast, func, literal, literal_column, select
from sqlalchemy.orm import Session

from engine.calendar import TIMEZONE, in_supported_range
from services import audit, dates
from services.errors import N_, Forbidden, NotFound, ValidationError
from services.models import (
    ApologyLetter, AuditEvent, Dossier, DossierStep, Procedure, ProcedureVersion, SupplementRequest, User,
)
from services.paging import Page

READER_ROLES = frozenset({"auditor", "admin"})
COLUMNS = ("seq", "at", "actor", "action", "object", "payload", "prev_hash", "hash")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?$")


def require_reader(user: User | None) -> None:
    if user is None or not (user.role_codes() & READER_ROLES):
        raise Forbidden(N_("Only auditors and administrators may read the audit log."), "user")


def parse_moment(text: str | None, field_name: str, *, end: bool = False) -> datetime | None:
    """dd/mm/yyyy, dd/mm/yyyy HH:MM or ISO 8601 → an aware UTC instant (None when empty).

    Times without a zone are Asia/Ho_Chi_Minh. A date alone as the end of a range means the end of
    that day (the range's end is exclusive), so "to 31/10/2026" includes the whole of the 31st.
    The instant typed must be one the working calendar supports (services.dates.given): a
    ValidationError naming the field otherwise, as for a malformed one.
    """
    text = (text or "").strip()
    if not text:
        return None
    match = _DATE.match(text)
    whole_day = False
    try:
        if match:
            d, m, y, hh, mm = match.groups()
            day = date(int(y), int(m), int(d))
            whole_day = hh is None
            moment = datetime.combine(day, time(0) if whole_day else time(int(hh), int(mm)), TIMEZONE)
        else:
            whole_day = re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=TIMEZONE)
    except ValueError:
        raise ValidationError(N_("\"%(value)s\" is not a date (dd/mm/yyyy or dd/mm/yyyy HH:MM)."),
                              field_name, value=text[:40]) from None
    # The last minute the bound covers must be one the calendar supports: "to 31/12/2100" and the
    # exclusive end 2101-01-01T00:00+07:00 that pagination links carry back are both accepted.
    covered = moment - timedelta(minutes=1) if end and not whole_day else moment
    if not in_supported_range(covered):
        raise dates.out_of_range(field_name, text[:40])
    if whole_day and end:
        moment += timedelta(days=1)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; every part optional. `end` is exclusive."""

    dossier: str | None = None
    procedure: str | None = None
    actor: str | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def parse(cls, *, dossier=None, procedure=None, actor=None, action=None, start=None, end=None) -> AuditFilter:
        """From user input: blanks dropped, dates parsed (ValidationError naming the field)."""
        clean = lambda v: (v or "").strip() or None  # noqa: E731
        flt = cls(dossier=clean(dossier), procedure=clean(procedure), actor=clean(actor), action=clean(action),
                  start=parse_moment(start, "from"), end=parse_moment(end, "to", end=True))
        if flt.start and flt.end and flt.end <= flt.start:
            raise ValidationError(N_("The end of the period must be after its start."), "to")
        return flt


def _where(session: Session, flt: AuditFilter) -> list:
    table = AuditEvent.__table__.c
    conditions = []
    if flt.dossier:
        conditions.append(table.object == f"dossier:{flt.dossier}")
    if flt.procedure:
        procedure_ids = select(Procedure.id).where(Procedure.code == flt.procedure).scalar_subquery()
        objects = select(literal("procedure:") + cast(Procedure.id, String)).where(
            Procedure.code == flt.procedure).union_all(
            select(literal("procedure_version:") + cast(ProcedureVersion.id, String)).where(
                ProcedureVersion.procedure_id.in_(select(Procedure.id).where(Procedure.code == flt.procedure))),
            select(literal("dossier:") + Dossier.code).where(Dossier.procedure_id.in_(procedure_ids)),
        )
        conditions.append(table.object.in_(objects))
    if flt.actor:
        conditions.append(table.actor == flt.actor)
    if flt.action:
        conditions.append(table.action == flt.action)
    if flt.start:
        conditions.append(table.at >= flt.start)
    if flt.end:
        conditions.append(table.at < flt.end)
    return conditions


def search(session: Session, reader: User, flt: AuditFilter, *, page: int = 1, per_page: int = 50) -> Page:
    """One page of matching events, newest first."""
    require_reader(reader)
    per_page = min(max(per_page, 1), 500)
    conditions = _where(session, flt)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions))
    page = min(max(page, 1), max(1, -(-total // per_page)))
    items = list(session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.seq.desc())
                                 .limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def stream(session: Session, flt: AuditFilter, *, batch: int = 2000) -> Iterator[tuple]:
    """Matching events in chain order, as (seq, at text, actor, action, object, payload, prev, hash).

    Constant memory: a server-side cursor on PostgreSQL, SQLite's own cursor, `batch` rows at a
    time. `at` is read as stored (no per-row type processing) and given as audit.format_at's text.
    """
    table = AuditEvent.__table__.c
    raw_at = literal_column("audit_events.at")  # untyped: SQLite's text, PostgreSQL's datetime
    stmt = (select(table.seq, raw_at, table.actor, table.action, table.object, table.payload,
                   table.prev_hash, table.hash).where(*_where(session, flt)).order_by(table.seq)
            .execution_options(stream_results=True, yield_per=batch))
    result = session.connection().execute(stmt)
    at_text = audit.at_text
    try:
        for seq, at, actor, action, obj, payload, prev_hash, hash_ in result:
            yield seq, at_text(at), actor, action, obj, payload, prev_hash, hash_
    finally:
        result.close()


def export(session: Session, reader: User, flt: AuditFilter, fmt: str) -> Iterator[str]:
    """The web's export: checks the reader before the first row."""
    require_reader(reader)
    return lines(stream(session, flt), fmt)


def lines(rows, fmt: str) -> Iterator[str]:
    """JSON Lines (payload embedded as the exact hashed JSON, so the chain can be recomputed from
    the file) or CSV with a header row."""
    if fmt == "jsonl":
        quote = encode_basestring
        for seq, at, actor, action, obj, payload, prev_hash, hash_ in rows:
            yield (f'{{"seq":{seq},"at":"{at}","actor":{quote(actor)},"action":{quote(action)},'
                   f'"object":{quote(obj)},"payload":{payload},"prev_hash":"{prev_hash}","hash":"{hash_}"}}\n')
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(row)
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    else:
        raise ValidationError(N_("Unknown export format %(format)s (jsonl or csv)."), "format", format=fmt)


# -- a dossier's timeline ------------------------------------------------------------------------

@dataclass
class TimelineStep:
    step: DossierStep
    assignee: str | None
    completed_by: str | None


@dataclass
class Timeline:
    """`Timeline` — diễn biến hồ sơ: every event and every step of one dossier."""

    dossier: Dossier
    events: list[AuditEvent] = field(default_factory=list)
    steps: list[TimelineStep] = field(default_factory=list)
    supplements: list[SupplementRequest] = field(default_factory=list)
    apology: ApologyLetter | None = None


def timeline(session: Session, reader: User, code: str) -> Timeline:
    require_reader(reader)
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        raise NotFound(N_("Dossier %(code)s does not exist."), "dossier", code=code)
    result = Timeline(dossier)
    result.events = list(session.scalars(select(AuditEvent).where(
        AuditEvent.object == f"dossier:{code}").order_by(AuditEvent.seq)))
    steps = list(session.scalars(select(DossierStep).where(DossierStep.dossier_id == dossier.id)
                                 .order_by(DossierStep.started_at, DossierStep.id)))
    ids = {i for s in steps for i in (s.assignee_id, s.completed_by_id) if i is not None}
    names = {i: n for i, n in session.execute(select(User.id, User.username).where(User.id.in_(ids)))} if ids else {}
    result.steps = [TimelineStep(s, names.get(s.assignee_id), names.get(s.completed_by_id)) for s in steps]
    result.supplements = list(session.scalars(select(SupplementRequest).where(
        SupplementRequest.dossier_id == dossier.id).order_by(SupplementRequest.requested_at)))
    result.apology = session.scalar(select(ApologyLetter).where(ApologyLetter.dossier_id == dossier.id))
    return result


def payload_of(event: AuditEvent) -> dict:
    try:
        value = json.loads(event.payload)
    except ValueError:
        return {"_raw": event.payload}
    return value if isinstance(value, dict) else {"_value": value}
