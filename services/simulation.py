"""Simulated history (mô phỏng): dossiers run through the published procedures by the demo's
officials on a simulated clock, for demos, reports and benchmarks.

Deterministic: one `random.Random(seed)` makes every choice, events run in simulated-time order
(ties in the order they were planned), and the wall clock is never read here. With neither
`start` nor `end_at`, the history is the 26 weeks before `DEFAULT_END_AT`, a fixed instant; with
one of them, the other is 26 weeks away. Every change goes through the real services with `now=`
the simulated instant, so authorization, due dates and the audit log (its `at`) are the real ones.

What happens: arrivals on working days in working hours (more in the morning, some after the
15:00 receipt cut-off) at the procedures' one-stop desks; each open step is done by an official
holding its role in its org unit, after a delay drawn against the step's allocation (mostly
within, some slow, a few very slow), sometimes claimed first; gateways mostly approve, sometimes
return (the Văn phòng returns ~10 %); some dossiers wait for a supplement or a payment, a few are
withdrawn or rejected; officials who see a dossier will be late issue its apology letter; the
deadline job runs twice a working day. Dossiers still open at `end_at` stay in progress.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import TIMEZONE
from services.errors import N_, ValidationError
from services.models import Dossier
from services.models.dossiers import CLOCK_STOPPED, DONE, REJECTED, WITHDRAWN
from services.simulation_report import SimulationReport
from services.simulation_runner import Simulator
from services.uow import end_reads

DEFAULT_END_AT = datetime(2026, 11, 20, 17, 0, tzinfo=TIMEZONE)  # a Friday afternoon
HISTORY = timedelta(weeks=26)


def simulate(session: Session, *, dossiers: int, seed: int, start: datetime | None = None,
             end_at: datetime | None = None,
             progress: Callable[[int, int], None] | None = None) -> SimulationReport:
    """Run `dossiers` dossiers received between `start` and `end_at`; returns the counts at `end_at`."""
    if dossiers < 1:
        raise ValidationError(N_("The number of dossiers must be at least 1."), "dossiers")
    for name, value in (("start", start), ("end_at", end_at)):
        if value is not None and value.tzinfo is None:
            raise ValidationError(N_("%(name)s must carry a time zone."), name, name=name)
    if start is None and end_at is None:
        end_at = DEFAULT_END_AT
    start = start if start is not None else end_at - HISTORY
    end_at = end_at if end_at is not None else start + HISTORY
    if end_at <= start:
        raise ValidationError(N_("The end of the simulation must be after its start."), "end_at")
    session = end_reads(session)  # as a use case: the caller's read snapshot ends, its changes are refused
    # Its own session that keeps what it loaded across commits: the simulator is the one writer of
    # its dossiers, so reloading the same officials, role grants, dossiers and steps after each of
    # thousands of commits would only cost time. Another writer on the same dossier still meets
    # the services' optimistic concurrency check (reported in `errors`).
    own = Session(bind=session.get_bind(), expire_on_commit=False)
    try:
        report = SimulationReport(seed=seed, start=start, end_at=end_at)
        _tally(own, report, Simulator(own, random.Random(seed), report, progress).run(dossiers))
        return report
    finally:
        own.close()


def _tally(session: Session, report: SimulationReport, procedure_of: dict[int, str]) -> None:
    """Outcomes as the database holds them at `end_at` (what the reports will read)."""
    ids = report.dossier_ids
    for i in range(0, len(ids), 500):
        for dossier_id, status, result_class, warning in session.execute(select(
                Dossier.id, Dossier.status, Dossier.result_class, Dossier.warning).where(
                Dossier.id.in_(ids[i:i + 500]))):
            counts = report.counts_for(procedure_of[dossier_id])
            if result_class:  # a result: ready, or already handed back
                setattr(counts, result_class, getattr(counts, result_class) + 1)
                counts.handed_back += status != DONE
            elif status in (REJECTED, WITHDRAWN):
                setattr(counts, status, getattr(counts, status) + 1)
            elif status in CLOCK_STOPPED:
                counts.waiting += 1
            else:
                setattr(counts, warning, getattr(counts, warning) + 1)
    session.rollback()
    for code in sorted(report.per_procedure):
        report.total.add(report.per_procedure[code])
