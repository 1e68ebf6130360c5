"""The demo is idempotent; the audit writer chains events; the database refuses to alter them."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from services import actors, audit, demo
from services.db import Base
from services.models import AuditEvent, OrgUnit, RoleAssignment, User


def _counts(session) -> dict[str, int]:
    session.rollback()
    return {t.name: session.execute(select(func.count()).select_from(t)).scalar() for t in Base.metadata.sorted_tables}


def test_demo_is_idempotent(db_session):
    # The template database already ran the demo once; running it again must change nothing.
    before = _counts(db_session)
    hashes_before = list(db_session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq)))
    report = demo.load(db_session)
    assert (report.created_units, report.created_users, report.granted_roles) == (0, 0, 0)
    assert _counts(db_session) == before
    assert list(db_session.scalars(select(AuditEvent.hash).order_by(AuditEvent.seq))) == hashes_before


def test_demo_has_the_province_and_one_account_per_role(db_session):
    codes = set(db_session.scalars(select(OrgUnit.code)))
    assert {"H01", "H01.01", "H01.02"} <= codes
    assert sum(1 for u in db_session.scalars(select(OrgUnit)) if u.kind == "department") >= 3
    assert sum(1 for u in db_session.scalars(select(OrgUnit)) if u.kind == "commune") >= 2
    held = set(db_session.scalars(select(RoleAssignment.role_code)))
    from services.roles import ROLE_CODES
    assert held == ROLE_CODES
    names = list(db_session.scalars(select(OrgUnit.name)))
    assert "Văn phòng UBND tỉnh An Giang" in names


def test_demo_report_prints_accounts_and_passwords(db_session):
    text_ = demo.format_report(demo.load(db_session))
    assert "chutich" in text_ and demo.DEMO_PASSWORD in text_


def test_demo_wrote_a_verifiable_chain(db_session):
    count, broken = audit.verify(db_session)
    assert broken is None
    assert count == db_session.scalar(select(func.count()).select_from(AuditEvent)) > 0


def test_chain_links_each_event_to_the_previous(db_session):
    from services.uow import transaction

    with transaction(db_session):
        first = audit.record(db_session, "tester", "probe", "thing:1", {"n": 1, "text": "Hồ sơ"})
        second = audit.record(db_session, "tester", "probe", "thing:1", {"n": 2})
    assert second.seq == first.seq + 1 and second.prev_hash == first.hash
    assert audit.verify(db_session)[1] is None


def test_verify_names_an_edited_event():
    rows = []
    prev = audit.GENESIS_HASH
    from datetime import datetime, timezone
    at = datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=timezone.utc)
    for seq in range(1, 6):
        payload = audit.canonical_json({"seq": seq})
        h = audit.event_hash(prev, seq, at, "a", "act", "o:1", payload)
        rows.append((seq, at, "a", "act", "o:1", payload, prev, h))
        prev = h
    assert audit.verify_rows(rows) == (5, None)
    edited = list(rows)
    edited[2] = edited[2][:5] + ('{"seq":99}',) + edited[2][6:]
    assert audit.verify_rows(edited)[1].seq == 3
    swapped = [rows[0], rows[2], rows[1], rows[3], rows[4]]
    assert audit.verify_rows(swapped)[1].seq == 3
    deleted = rows[:1] + rows[2:]
    assert audit.verify_rows(deleted)[1].seq == 3


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'mallory' WHERE seq = 1",
    "DELETE FROM audit_events WHERE seq = 1",
])
def test_sqlite_refuses_update_and_delete(db_session, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text(statement))
    db_session.rollback()
    assert db_session.scalar(select(AuditEvent.actor).where(AuditEvent.seq == 1)) == actors.DEMO.name


def test_failed_change_writes_no_event(db_session):
    from services import accounts
    from services.errors import Conflict

    before = db_session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Conflict):
        accounts.create_user(db_session, actors.CLI, username="chutich", full_name="Trùng", password="12345678")
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert db_session.scalar(select(func.count()).select_from(User).where(User.username == "chutich")) == 1


def test_an_official_cannot_administer(db_session):
    from services import accounts
    from services.errors import Forbidden

    official = db_session.scalar(select(User).where(User.username == "chuyenvien"))
    with pytest.raises(Forbidden):
        accounts.set_active(db_session, official, official.id, False)
    with pytest.raises(Forbidden):
        accounts.create_user(db_session, official, username="x1", full_name="X", password="12345678")
