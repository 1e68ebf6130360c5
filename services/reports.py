"""Reports (báo cáo tiến độ, kết quả giải quyết TTHC): per agency, procedure and period.

What is counted (the one-stop statistics of QĐ 766/QĐ-TTg, group "Tiến độ, kết quả giải quyết"):
- received: dossiers received in the period;
- finished early / on time / late: results in the period, by the class the services stored when
  the result was ready (engine.sla.classify_result — the only place that rule lives);
- in progress within time / nearly due / overdue: dossiers still open now that were received
  before the period's end, classified now by engine.sla.progress with the deadline job's warning
  threshold; dossiers whose clock is stopped (supplement or payment awaited) are counted apart;
- on-time rate = (early + on time) / finished.

Counts are SQL aggregates; only the open dossiers (a small set) are classified one by one.

Who sees what: auditors and administrators, and the province's leaders (chu_tich, pho_chu_tich,
vp_lanh_dao held at the province or the Văn phòng) see everything; a lanh_dao_so — or a leader
holding a role in a commune — sees the agencies where they hold it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import sla
from engine.calendar import TIMEZONE, to_local
from services import dates
from services.audit_query import parse_moment
from services.calendar import current_calendar
from services.dossiers.common import aware
from services.errors import N_, Forbidden, ValidationError
from services.jobs import warning_minutes as configured_warning
from services.models import Dossier, OrgUnit, Procedure, User
from services.models.dossiers import CLOCK_STOPPED, OPEN_STATUSES

REPORT_ROLES = frozenset({"auditor", "admin", "chu_tich", "pho_chu_tich", "vp_lanh_dao", "lanh_dao_so"})
ALL_AGENCY_ROLES = frozenset({"auditor", "admin"})
PROVINCE_KINDS = frozenset({"province", "office"})
RESULT_CLASSES = (sla.EARLY, sla.ON_TIME, sla.LATE)


def scope(reader: User | None) -> frozenset[int] | None:
    """The agencies `reader` may report on: None = all of them; Forbidden without a report role."""
    if reader is None:
        raise Forbidden(N_("Your roles do not allow the reports."), "user")
    agencies: set[int] = set()
    allowed = False
    for assignment in reader.assignments:
        if assignment.role_code not in REPORT_ROLES:
            continue
        allowed = True
        if assignment.role_code in ALL_AGENCY_ROLES or assignment.org_unit.kind in PROVINCE_KINDS:
            return None
        agencies.add(assignment.org_unit_id)
    if not allowed:
        raise Forbidden(N_("Your roles do not allow the reports."), "user")
    return frozenset(agencies)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; months are Asia/Ho_Chi_Minh months."""

    start: datetime
    end: datetime

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = datetime(year, month, 1, tzinfo=TIMEZONE)
        following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=TIMEZONE)
        return cls(first.astimezone(timezone.utc), following.astimezone(timezone.utc))

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        local = to_local(moment)
        return cls.month(local.year, local.month)

    @classmethod
    def parse(cls, *, month: str | None = None, start: str | None = None, end: str | None = None,
              now: datetime | None = None) -> Period:
        """From user input: a month "mm/yyyy" (or "yyyy-mm"), or a from–to range of dates; the
        current month when nothing is given."""
        if (start or "").strip() or (end or "").strip():
            begin = parse_moment(start, "from")
            finish = parse_moment(end, "to", end=True)
            if begin is None or finish is None:
                raise ValidationError(N_("Give both ends of the period."), "from" if begin is None else "to")
            if finish <= begin:
                raise ValidationError(N_("The end of the period must be after its start."), "to")
            return cls(begin, finish)
        text = (month or "").strip()
        if not text:
            return cls.containing(now or datetime.now(timezone.utc))
        try:
            if "/" in text:
                m, y = text.split("/")
            else:
                y, m = text.split("-")
            first = datetime(int(y), int(m), 1, tzinfo=TIMEZONE)
        except ValueError:
            raise ValidationError(N_("\"%(value)s\" is not a month (mm/yyyy)."), "month", value=text[:20]) from None
        dates.given(first, "month")
        return cls.month(first.year, first.month)

    @property
    def last_day(self) -> date:
        return to_local(self.end - timedelta(microseconds=1)).date()

    @property
    def first_day(self) -> date:
        return to_local(self.start).date()

    def is_month(self) -> bool:
        local = to_local(self.start)
        return (local.day, local.time()) == (1, time(0)) and Period.month(local.year, local.month) == self


@dataclass
class Figures:
    """`Figures` — số liệu: one row of the report."""

    received: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    within: int = 0
    nearly_due: int = 0
    overdue: int = 0
    stopped: int = 0
    unknown: int = 0  # open, with a stored due date the working calendar cannot compute with

    @property
    def finished(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        return (self.early + self.on_time) / self.finished if self.finished else None

    def add(self, other: Figures) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ReportRow:
    key: int
    code: str
    name: str
    figures: Figures


@dataclass
class Summary:
    period: Period
    group: str
    now: datetime
    rows: list[ReportRow] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)
    unknown_codes: list[str] = field(default_factory=list)  # the dossiers counted in `unknown`


def dossier_filters(reader: User, *, agency_id: int | None = None, procedure_id: int | None = None) -> list:
    """The reader's scope and the chosen agency / procedure, as WHERE conditions on Dossier."""
    allowed = scope(reader)
    conditions = []
    if allowed is not None:
        if agency_id is not None and agency_id not in allowed:
            raise Forbidden(N_("You may only see the reports of your own agency."), "agency")
        conditions.append(Dossier.agency_id.in_(sorted(allowed)) if allowed else Dossier.id.is_(None))
    if agency_id is not None:
        conditions.append(Dossier.agency_id == agency_id)
    if procedure_id is not None:
        conditions.append(Dossier.procedure_id == procedure_id)
    return conditions


def summary(session: Session, reader: User, period: Period, *, group: str = "agency", agency_id: int | None = None,
            procedure_id: int | None = None, now: datetime | None = None, warning_minutes: int | None = None,
            calendar=None) -> Summary:
    """The report table: one row per agency (or procedure), and the total."""
    if group not in ("agency", "procedure"):
        raise ValidationError(N_("Group by agency or by procedure."), "group")
    now = now or datetime.now(timezone.utc)
    warn = configured_warning() if warning_minutes is None else warning_minutes
    cal = calendar or current_calendar(session)
    where = dossier_filters(reader, agency_id=agency_id, procedure_id=procedure_id)
    key = Dossier.agency_id if group == "agency" else Dossier.procedure_id
    figures: dict[int, Figures] = {}

    def row(k: int) -> Figures:
        return figures.setdefault(k, Figures())

    for k, count in session.execute(select(key, func.count()).where(
            *where, Dossier.received_at >= period.start, Dossier.received_at < period.end).group_by(key)):
        row(k).received = count
    for k, result_class, count in session.execute(select(key, Dossier.result_class, func.count()).where(
            *where, Dossier.result_class.in_(RESULT_CLASSES), Dossier.result_at >= period.start,
            Dossier.result_at < period.end).group_by(key, Dossier.result_class)):
        setattr(row(k), result_class, count)
    unknown_codes = []
    for k, code, status, due_at in session.execute(select(key, Dossier.code, Dossier.status, Dossier.due_at).where(
            *where, Dossier.status.in_(OPEN_STATUSES), Dossier.received_at < period.end)):
        state = "stopped" if status in CLOCK_STOPPED else sla.progress_or_unknown(cal, now, aware(due_at), warn)
        if state == sla.UNKNOWN:
            unknown_codes.append(code)
        setattr(row(k), state, getattr(row(k), state) + 1)

    result = Summary(period, group, now, unknown_codes=sorted(unknown_codes))
    labels = _labels(session, group, figures)
    for k in sorted(figures, key=lambda k: labels.get(k, ("", ""))):
        code, name = labels.get(k, ("?", "?"))
        result.rows.append(ReportRow(k, code, name, figures[k]))
        result.total.add(figures[k])
    return result


def _labels(session: Session, group: str, keys) -> dict[int, tuple[str, str]]:
    model = OrgUnit if group == "agency" else Procedure
    if not keys:
        return {}
    return {i: (c, n) for i, c, n in session.execute(
        select(model.id, model.code, model.name).where(model.id.in_(list(keys))))}


# -- month by month ------------------------------------------------------------------------------

@dataclass
class MonthFigures:
    year: int
    month: int
    figures: Figures


def _month_key(session: Session, column):
    """'YYYY-MM' of an instant in Asia/Ho_Chi_Minh, in SQL (Vietnam keeps UTC+7 all year)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+7 hours")


def trend(session: Session, reader: User, last: Period, *, months: int = 12, agency_id: int | None = None,
          procedure_id: int | None = None) -> list[MonthFigures]:
    """Received and finished (early / on time / late) per month, the `months` months up to the one
    that contains the end of `last`."""
    months = min(max(months, 1), 60)
    where = dossier_filters(reader, agency_id=agency_id, procedure_id=procedure_id)
    end_local = to_local(last.end - timedelta(microseconds=1))
    y, m = end_local.year, end_local.month
    series: list[MonthFigures] = []
    for _ in range(months):
        series.append(MonthFigures(y, m, Figures()))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    series.reverse()
    start = Period.month(series[0].year, series[0].month).start
    end = Period.month(series[-1].year, series[-1].month).end
    by_key = {f"{s.year:04d}-{s.month:02d}": s.figures for s in series}
    received_month = _month_key(session, Dossier.received_at)
    for key, count in session.execute(select(received_month, func.count()).where(
            *where, Dossier.received_at >= start, Dossier.received_at < end).group_by(received_month)):
        if key in by_key:
            by_key[key].received = count
    result_month = _month_key(session, Dossier.result_at)
    for key, result_class, count in session.execute(select(result_month, Dossier.result_class, func.count()).where(
            *where, Dossier.result_class.in_(RESULT_CLASSES), Dossier.result_at >= start,
            Dossier.result_at < end).group_by(result_month, Dossier.result_class)):
        if key in by_key:
            setattr(by_key[key], result_class, count)
    return series


def agencies(session: Session, reader: User) -> list[OrgUnit]:
    """Agencies that handle procedures, within the reader's scope (for the filter list)."""
    allowed = scope(reader)
    stmt = select(OrgUnit).where(OrgUnit.id.in_(select(Procedure.agency_id))).order_by(OrgUnit.code)
    if allowed is not None:
        stmt = stmt.where(OrgUnit.id.in_(sorted(allowed)))
    return list(session.scalars(stmt))


def procedures(session: Session, reader: User) -> list[Procedure]:
    allowed = scope(reader)
    stmt = select(Procedure).order_by(Procedure.code, Procedure.id)
    if allowed is not None:
        stmt = stmt.where(Procedure.agency_id.in_(sorted(allowed)))
    return list(session.scalars(stmt))
