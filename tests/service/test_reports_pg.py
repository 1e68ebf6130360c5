"""The reports' and the audit queries' SQL on PostgreSQL (month keys, the procedure filter's
UNION, server-side streaming), on a small history driven through the services."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services import audit, audit_query, dossiers, reports, reports_time
from tests.conftest import prepare_demo
from tests.dossier_helpers import drive, form_data, open_steps, performer, procedure, user, vn

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_session(pg_database, tmp_path):
    prepare_demo(pg_database, tmp_path)
    engine = create_engine(pg_database)
    session = Session(engine)
    yield session
    session.close()
    engine.dispose()


def test_reports_and_audit_queries_on_postgresql(pg_session):
    s = pg_session
    officer, proc = user(s, "motcua"), procedure(s, "1.003822")
    # Received 31/10 23:30 UTC = 01/11 06:30 in Vietnam: a November dossier (month keys in VN time).
    late_night = dossiers.receive(s, officer, procedure_id=proc.id, applicant_name="A",
                                  received_at=vn(2026, 11, 1, 6, 30), now=vn(2026, 11, 1, 6, 30))
    done = dossiers.receive(s, officer, procedure_id=proc.id, applicant_name="B",
                            received_at=vn(2026, 10, 1, 7), now=vn(2026, 10, 1, 7))
    drive(s, done.id, start=vn(2026, 10, 1, 7), until="Task_VanThuUBND")
    step = open_steps(s, done.id)[0]
    dossiers.complete(s, performer(s, step), step.id, form_data(s, step), now=vn(2026, 10, 9, 17, 1))
    auditor = user(s, "thanhtra")

    series = reports.trend(s, auditor, reports.Period.month(2026, 11), months=2)
    assert [(m.month, m.figures.received, m.figures.late) for m in series] == [(10, 1, 1), (11, 1, 0)]
    october = reports.summary(s, auditor, reports.Period.month(2026, 10), now=vn(2026, 11, 2, 8))
    assert (october.total.received, october.total.late, october.total.finished) == (1, 1, 1)
    rows = reports_time.compliance(s, auditor, reports.Period.month(2026, 10))
    assert [(r.code, r.finished, r.median, r.within_target) for r in rows] == [("1.003822", 1, 3360, 1)]
    assert reports_time.heatmap(s, auditor, done.version_id)

    flt = audit_query.AuditFilter(procedure="1.003822")
    page = audit_query.search(s, auditor, flt, per_page=5)
    assert page.total >= 12 and len(page.items) == 5
    objects = {row[4] for row in audit_query.stream(s, flt, batch=3)}
    assert {f"dossier:{late_night.code}", f"dossier:{done.code}"} <= objects
    assert any(o.startswith("procedure_version:") for o in objects)
    s.rollback()
    lines = list(audit_query.lines(audit_query.stream(s, audit_query.AuditFilter()), "jsonl"))
    s.rollback()
    assert len(lines) == audit.verify(s)[0] and audit.verify(s)[1] is None
