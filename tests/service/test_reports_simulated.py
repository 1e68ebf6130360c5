"""The reports read `quytrinh simulate`'s history: on a simulated history the report's figures are
the simulator's own tally of the database at its end (received, early / on time / late, within /
nearly due / overdue, clock stopped), per procedure and in total."""
from __future__ import annotations

from datetime import datetime, timedelta

from engine.calendar import TIMEZONE
from services import reports, reports_time
from services.jobs import warning_minutes
from services.simulation import simulate
from tests.dossier_helpers import user

END = datetime(2026, 10, 30, 17, 0, tzinfo=TIMEZONE)


def test_reports_equal_the_simulators_tally(db_session):
    report = simulate(db_session, dossiers=40, seed=11, start=END - timedelta(weeks=8), end_at=END)
    assert not report.errors
    period = reports.Period(report.start - timedelta(days=1), END + timedelta(days=1))
    summary = reports.summary(db_session, user(db_session, "thanhtra"), period, group="procedure", now=END,
                              warning_minutes=warning_minutes())

    def mine(f: reports.Figures) -> tuple:
        return (f.received, f.early, f.on_time, f.late, f.within, f.nearly_due, f.overdue, f.stopped)

    def theirs(c) -> tuple:
        return (c.received, c.early, c.on_time, c.late, c.within, c.nearly_due, c.overdue, c.waiting)

    assert mine(summary.total) == theirs(report.total)
    assert {r.code: mine(r.figures) for r in summary.rows} == {
        code: theirs(c) for code, c in report.per_procedure.items() if c.received}
    # The month-by-month trend adds up to the same receipts and results.
    series = reports.trend(db_session, user(db_session, "thanhtra"), reports.Period.containing(END), months=4)
    assert sum(m.figures.received for m in series) == report.total.received
    assert sum(m.figures.finished for m in series) == report.total.early + report.total.on_time + report.total.late
    # Every finished dossier has an actual processing time; the heatmap covers the versions used.
    compliance = reports_time.compliance(db_session, user(db_session, "thanhtra"), period)
    assert sum(r.finished for r in compliance) == summary.total.finished
    for choice in reports_time.versions(db_session, user(db_session, "thanhtra")):
        assert reports_time.heatmap(db_session, user(db_session, "thanhtra"), choice.id)
