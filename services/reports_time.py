"""Processing-time reports (báo cáo thời gian giải quyết): the 30 % compliance report and the
per-step heatmap drawn on the diagram.

- Compliance (cắt giảm thời gian giải quyết): per procedure, the actual processing time of the
  dossiers finished in the period — working minutes from the moment the clock started (the
  receipt rule of engine.calendar: after the 15:00 cut-off it starts the next working day) to the
  result, minus the working minutes the clock was stopped — against the target (the cut time the
  dossier was given) and against the legal time.
- Heatmap: per step of one procedure version, the working minutes the completed steps took
  (DossierStep.used_minutes) against the step's allocation.

Medians and p90 are nearest-rank percentiles: always a value that occurred, easy to recount.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.calendar import CalendarRangeError
from services.calendar import current_calendar
from services.dossiers.common import aware
from services.errors import N_, NotFound
from services.models import Dossier, DossierStep, Procedure, ProcedureVersion, User
from services.models.dossiers import STEP_COMPLETED
from services.reports import RESULT_CLASSES, Period, dossier_filters, scope


def percentile(sorted_values: list[int], q: float) -> int | None:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


@dataclass
class Compliance:
    procedure_id: int
    code: str
    name: str
    finished: int
    legal_minutes: int | None
    target_minutes: int
    median: int
    p90: int
    within_target: int
    within_legal: int

    @property
    def target_share(self) -> float:
        return self.within_target / self.finished

    @property
    def legal_share(self) -> float | None:
        return self.within_legal / self.finished if self.legal_minutes is not None else None


def actual_minutes(cal, received_at, result_at, stopped_minutes: int) -> int | None:
    """Working minutes the dossier was processed: from the clock's start to the result, without
    the time it was stopped; None when a stored date is outside the calendar's years (a bad row,
    left out of the figures rather than failing the report)."""
    try:
        start = cal.effective_start(received_at, receipt=True)
        return max(0, cal.working_minutes_between(start, result_at) - (stopped_minutes or 0))
    except CalendarRangeError:
        return None


def compliance(session: Session, reader: User, period: Period, *, agency_id: int | None = None,
               procedure_id: int | None = None, calendar=None) -> list[Compliance]:
    where = dossier_filters(reader, agency_id=agency_id, procedure_id=procedure_id)
    cal = calendar or current_calendar(session)
    actual: dict[int, list[tuple[int, int, int | None]]] = defaultdict(list)
    for pid, received_at, result_at, stopped, target, legal in session.execute(select(
            Dossier.procedure_id, Dossier.received_at, Dossier.result_at, Dossier.stopped_minutes,
            Dossier.target_minutes, ProcedureVersion.legal_minutes).join(
            ProcedureVersion, ProcedureVersion.id == Dossier.version_id).where(
            *where, Dossier.result_class.in_(RESULT_CLASSES), Dossier.result_at >= period.start,
            Dossier.result_at < period.end)):
        minutes = actual_minutes(cal, aware(received_at), aware(result_at), stopped)
        if minutes is not None:
            actual[pid].append((minutes, target, legal))
    names = {i: (c, n) for i, c, n in session.execute(
        select(Procedure.id, Procedure.code, Procedure.name).where(Procedure.id.in_(list(actual))))} if actual else {}
    rows = []
    for pid, values in actual.items():
        minutes = sorted(v[0] for v in values)
        legals = [v[2] for v in values if v[2] is not None]
        code, name = names[pid]
        rows.append(Compliance(
            pid, code, name, len(values), max(legals) if legals else None, max(v[1] for v in values),
            percentile(minutes, 0.5), percentile(minutes, 0.9),
            sum(1 for m, target, _ in values if m <= target),
            sum(1 for m, _, legal in values if legal is not None and m <= legal),
        ))
    rows.sort(key=lambda r: (r.code, r.procedure_id))
    return rows


# -- the heatmap ---------------------------------------------------------------------------------

OK, WARN, BAD, NONE = "ok", "warn", "bad", "none"


def heat_level(allocation: int, median: int, p90: int) -> str:
    """ok: nine in ten within the allocation; warn: the median within, the p90 over; bad: the
    median over; none: a step with no allocation (e.g. handing the result back)."""
    if allocation <= 0:
        return NONE
    if p90 <= allocation:
        return OK
    return WARN if median <= allocation else BAD


@dataclass
class StepHeat:
    spec_id: str
    name: str
    count: int
    allocation: int
    median: int
    p90: int

    @property
    def level(self) -> str:
        return heat_level(self.allocation, self.median, self.p90)


@dataclass
class VersionChoice:
    id: int
    procedure_code: str
    procedure_name: str
    number: int
    status: str
    dossiers: int


def versions(session: Session, reader: User) -> list[VersionChoice]:
    """Versions that have dossiers (in the reader's scope), most used first."""
    where = dossier_filters(reader)
    count = func.count(Dossier.id)
    stmt = (select(ProcedureVersion.id, Procedure.code, Procedure.name, ProcedureVersion.number,
                   ProcedureVersion.status, count)
            .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
            .join(Dossier, Dossier.version_id == ProcedureVersion.id)
            .where(*where).group_by(ProcedureVersion.id, Procedure.code, Procedure.name, ProcedureVersion.number,
                                    ProcedureVersion.status)
            .order_by(count.desc(), ProcedureVersion.id))
    return [VersionChoice(*row) for row in session.execute(stmt)]


def version_for(session: Session, reader: User, version_id: int) -> ProcedureVersion:
    """A version the reader may see the diagram and heatmap of."""
    version = session.get(ProcedureVersion, version_id)
    allowed = scope(reader)
    if version is None or (allowed is not None and version.procedure.agency_id not in allowed):
        raise NotFound(N_("Procedure version #%(id)s does not exist."), "version", id=version_id)
    return version


def heatmap(session: Session, reader: User, version_id: int, period: Period | None = None) -> list[StepHeat]:
    """Per step (BPMN task id) of the version: completions, allocation, median and p90 used time."""
    version_for(session, reader, version_id)
    where = dossier_filters(reader)
    stmt = (select(DossierStep.spec_id, DossierStep.name, DossierStep.allocation_minutes, DossierStep.used_minutes)
            .join(Dossier, Dossier.id == DossierStep.dossier_id)
            .where(*where, Dossier.version_id == version_id, DossierStep.status == STEP_COMPLETED,
                   DossierStep.used_minutes.is_not(None)))
    if period is not None:
        stmt = stmt.where(DossierStep.completed_at >= period.start, DossierStep.completed_at < period.end)
    used: dict[str, list[int]] = defaultdict(list)
    info: dict[str, tuple[str, int]] = {}
    for spec_id, name, allocation, minutes in session.execute(stmt):
        used[spec_id].append(minutes)
        info[spec_id] = (name or spec_id, max(allocation or 0, info.get(spec_id, ("", 0))[1]))
    rows = []
    for spec_id, values in used.items():
        values.sort()
        name, allocation = info[spec_id]
        rows.append(StepHeat(spec_id, name, len(values), allocation, percentile(values, 0.5),
                             percentile(values, 0.9)))
    rows.sort(key=lambda r: r.spec_id)
    return rows
