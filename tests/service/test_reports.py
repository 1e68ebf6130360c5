"""Report figures equal hand-counted figures on a small fixed history, driven through the services.

Procedure 1.003822 (Sở Nội vụ H01.21, target 7 working days = 3360 min). Every receipt at 07:00,
the start of a working day, so a dossier received on day 1 is due at 17:00 of its 7th working
day. October 2026 has no public holiday.

| dossier | received | result / state | class |
| --- | --- | --- | --- |
| I | Wed 30/09 | Thu 01/10 10:00 | early (received in September) |
| A | Thu 01/10 | Thu 08/10 10:00, due Fri 09/10 17:00 | early |
| B | Thu 01/10 | Fri 09/10 17:00 — exactly the due minute | on time |
| C | Thu 01/10 | Fri 09/10 17:01 — one minute after | late |
| J | Thu 01/10 | Mon 12/10 08:00 | late |
| D | Thu 01/10 | supplement Fri 02/10 07:00 → Mon 05/10 07:00 (480 min stopped, due → Mon 12/10 17:00); result Mon 12/10 17:00 | on time |
| E | Fri 02/10 | open, due Mon 12/10 17:00 | overdue at NOW |
| F | Tue 06/10 | open, due Wed 14/10 17:00 | nearly due at NOW (120 min left ≤ 240) |
| G | Fri 09/10 | open, due Mon 19/10 17:00 | within at NOW |
| H | Wed 07/10 | supplement Thu 08/10, not resubmitted | clock stopped |

NOW = Wed 14/10/2026 15:00.
"""
from __future__ import annotations

import pytest

from services import dossiers, reports, reports_time
from services.errors import Forbidden
from services.models import Dossier, ProcedureVersion
from tests.dossier_helpers import drive, form_data, open_steps, performer, procedure, user, vn

CODE = "1.003822"
NOW = vn(2026, 10, 14, 15, 0)
OCTOBER = reports.Period.month(2026, 10)
SEPTEMBER = reports.Period.month(2026, 9)


def _receive(s, at):
    return dossiers.receive(s, user(s, "motcua"), procedure_id=procedure(s, CODE).id, applicant_name="Người nộp",
                            received_at=at, now=at)


def _result_at(s, dossier_id, start, at):
    """Steps every 30 min from `start`; the step that makes the result ready completes at `at`."""
    drive(s, dossier_id, start=start, until="Task_VanThuUBND")
    step = open_steps(s, dossier_id)[0]
    assert step.spec_id == "Task_VanThuUBND"
    dossiers.complete(s, performer(s, step), step.id, form_data(s, step), now=at)
    s.expire_all()
    d = s.get(Dossier, dossier_id)
    assert d.result_at == at
    return d


@pytest.fixture
def history(db_session):
    s = db_session
    made = {}
    made["I"] = _result_at(s, _receive(s, vn(2026, 9, 30, 7)).id, vn(2026, 9, 30, 7), vn(2026, 10, 1, 10))
    made["A"] = _result_at(s, _receive(s, vn(2026, 10, 1, 7)).id, vn(2026, 10, 1, 7), vn(2026, 10, 8, 10))
    made["B"] = _result_at(s, _receive(s, vn(2026, 10, 1, 7)).id, vn(2026, 10, 1, 7), vn(2026, 10, 9, 17))
    made["C"] = _result_at(s, _receive(s, vn(2026, 10, 1, 7)).id, vn(2026, 10, 1, 7), vn(2026, 10, 9, 17, 1))
    made["J"] = _result_at(s, _receive(s, vn(2026, 10, 1, 7)).id, vn(2026, 10, 1, 7), vn(2026, 10, 12, 8))
    d = _receive(s, vn(2026, 10, 1, 7))
    drive(s, d.id, start=vn(2026, 10, 1, 7), until="Task_ThamDinh")
    dossiers.stop_clock(s, user(s, "motcua"), d.id, kind="supplement", reason="Thiếu giấy tờ",
                        now=vn(2026, 10, 2, 7))
    dossiers.resume(s, user(s, "motcua"), d.id, now=vn(2026, 10, 5, 7))
    made["D"] = _result_at(s, d.id, vn(2026, 10, 5, 7), vn(2026, 10, 12, 17))
    for name, at in (("E", vn(2026, 10, 2, 7)), ("F", vn(2026, 10, 6, 7)), ("G", vn(2026, 10, 9, 7)),
                     ("H", vn(2026, 10, 7, 7))):
        made[name] = _receive(s, at)
    dossiers.stop_clock(s, user(s, "motcua"), made["H"].id, kind="supplement", reason="Thiếu giấy tờ",
                        now=vn(2026, 10, 8, 7))
    s.expire_all()
    return made


def _figures(f: reports.Figures) -> dict:
    return {k: getattr(f, k) for k in ("received", "early", "on_time", "late", "within", "nearly_due", "overdue",
                                       "stopped")}


def test_the_history_is_as_described(db_session, history):
    classes = {k: db_session.get(Dossier, d.id).result_class for k, d in history.items()}
    assert classes == {"I": "early", "A": "early", "B": "on_time", "C": "late", "J": "late", "D": "on_time",
                       "E": None, "F": None, "G": None, "H": None}
    assert db_session.get(Dossier, history["D"].id).stopped_minutes == 480


def test_october_by_agency_and_by_procedure(db_session, history):
    auditor = user(db_session, "thanhtra")
    expected = {"received": 9, "early": 2, "on_time": 2, "late": 2, "within": 1, "nearly_due": 1, "overdue": 1,
                "stopped": 1}
    by_agency = reports.summary(db_session, auditor, OCTOBER, now=NOW)
    assert [(r.code, _figures(r.figures)) for r in by_agency.rows] == [("H01.21", expected)]
    assert by_agency.total.finished == 6 and by_agency.total.on_time_rate == pytest.approx(4 / 6)
    by_procedure = reports.summary(db_session, auditor, OCTOBER, group="procedure", now=NOW)
    assert [(r.code, _figures(r.figures)) for r in by_procedure.rows] == [(CODE, expected)]


def test_september_counts_receipts_and_results_by_their_own_month(db_session, history):
    sept = reports.summary(db_session, user(db_session, "thanhtra"), SEPTEMBER, now=NOW).total
    # I was received in September and finished in October; nothing was open at the end of September
    # that is still open now.
    assert _figures(sept) == {"received": 1, "early": 0, "on_time": 0, "late": 0, "within": 0, "nearly_due": 0,
                              "overdue": 0, "stopped": 0}
    assert sept.on_time_rate is None


def test_trend_month_by_month(db_session, history):
    series = reports.trend(db_session, user(db_session, "thanhtra"), OCTOBER, months=3)
    assert [(m.year, m.month, m.figures.received, m.figures.early, m.figures.on_time, m.figures.late)
            for m in series] == [(2026, 8, 0, 0, 0, 0), (2026, 9, 1, 0, 0, 0), (2026, 10, 9, 2, 2, 2)]


def test_compliance_excludes_stopped_time(db_session, history):
    rows = reports_time.compliance(db_session, user(db_session, "thanhtra"), OCTOBER)
    assert len(rows) == 1
    row = rows[0]
    # Actual working minutes: I 660, A 2580, B 3360, C 3360 (17:00–17:01 is not working time),
    # D 3840 − 480 stopped = 3360, J 3420.
    assert (row.code, row.finished, row.target_minutes, row.median, row.p90, row.within_target) == (
        CODE, 6, 3360, 3360, 3420, 5)
    version = db_session.get(ProcedureVersion, history["A"].version_id)
    assert row.legal_minutes == version.legal_minutes and row.within_legal == 6


def test_heatmap_per_step(db_session, history):
    version_id = history["A"].version_id
    rows = {r.spec_id: r for r in reports_time.heatmap(db_session, user(db_session, "thanhtra"), version_id)}
    first = rows["Task_TiepNhan"]
    # Six dossiers went past receipt, each step done 30 minutes after the previous one.
    assert (first.count, first.median, first.p90, first.level) == (6, 30, 30, "ok")
    assert "Task_TraKetQua" not in rows  # never completed in this history
    choices = reports_time.versions(db_session, user(db_session, "thanhtra"))
    assert [(c.id, c.dossiers) for c in choices] == [(version_id, 10)]


def test_percentile_and_heat_level():
    assert reports_time.percentile([], 0.5) is None
    assert reports_time.percentile([1, 2, 3, 4], 0.5) == 2
    assert reports_time.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert reports_time.percentile(list(range(1, 12)), 0.9) == 10
    assert reports_time.heat_level(60, 30, 60) == "ok"
    assert reports_time.heat_level(60, 60, 61) == "warn"
    assert reports_time.heat_level(60, 61, 90) == "bad"
    assert reports_time.heat_level(0, 10, 10) == "none"


def test_scope_of_the_readers(db_session, history):
    # A department director sees their own agency only; another department's sees nothing of it.
    own = reports.summary(db_session, user(db_session, "lanhdaoso.noivu"), OCTOBER, now=NOW)
    assert own.total.received == 9
    other = reports.summary(db_session, user(db_session, "lanhdaoso"), OCTOBER, now=NOW)
    assert other.total.received == 0 and other.rows == []
    agency_id = history["A"].agency_id
    with pytest.raises(Forbidden):
        reports.summary(db_session, user(db_session, "lanhdaoso"), OCTOBER, agency_id=agency_id, now=NOW)
    with pytest.raises(Forbidden):
        reports.summary(db_session, user(db_session, "chuyenvien"), OCTOBER, now=NOW)
    assert reports.summary(db_session, user(db_session, "chutich"), OCTOBER, now=NOW).total.received == 9


def test_period_parsing():
    assert reports.Period.parse(month="10/2026") == OCTOBER
    assert reports.Period.parse(month="2026-10") == OCTOBER
    assert reports.Period.parse(start="01/10/2026", end="31/10/2026") == OCTOBER
    assert OCTOBER.is_month() and OCTOBER.first_day.day == 1 and OCTOBER.last_day.day == 31
    from services.errors import ValidationError
    for bad in ({"month": "13/2026"}, {"month": "x"}, {"start": "31/02/2026", "end": "01/03/2026"},
                {"start": "02/10/2026", "end": "01/10/2026"}, {"start": "01/10/2026"}):
        with pytest.raises(ValidationError):
            reports.Period.parse(**bad)
