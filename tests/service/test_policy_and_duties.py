"""The province's minimum cut (services/policy.py), the TTHC code rules and the separation of duties
of the approval round, at the service layer."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bpmn import parse_reduction, ProfileValueError
from services import accounts, actors, policy, procedures
from services.demo import LIBRARY_DIR
from services.errors import Conflict, Forbidden, ValidationError
from services.models import AuditEvent, OrgUnit, PolicySetting, Procedure

CHAIRMAN_BPMN = (LIBRARY_DIR / "chairman_decision.bpmn").read_bytes()  # tthc.reduction 0.3


def _user(s, name):
    from services.models import User
    return s.scalar(select(User).where(User.username == name))


def _events(s, action):
    return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.mark.parametrize("text, value", [
    ("30%", Fraction(3, 10)), ("0.3", Fraction(3, 10)), ("0,3", Fraction(3, 10)), ("0.99", Fraction(99, 100)),
    ("1e-300", Fraction(1, 10 ** 300)), ("0", Fraction(0)), (Decimal("0.5"), Fraction(1, 2)), (0.3, Fraction(3, 10)),
])
def test_reductions_are_read_exactly(text, value):
    assert parse_reduction(text) == value


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-0.1", "1", "100%", "1.5", "", "abc", "1e400"])
def test_reductions_outside_0_to_1_are_refused(text):
    with pytest.raises(ProfileValueError):
        parse_reduction(text)


@pytest.mark.parametrize("text, value", [("30%", "0.3"), ("0.5", "0.5"), ("33.33%", "0.3333"), ("0.99", "0.99")])
def test_minimums(text, value):
    assert policy.parse_minimum(text) == Fraction(value)


@pytest.mark.parametrize("text, why", [
    ("0.29", "cannot be below"), ("1e-300", "cannot be below"), ("0", "cannot be below"),
    ("nan", "is not a reduction"), ("inf", "is not a reduction"), ("-0.1", "is not a reduction"),
    ("1", "is not a reduction"), ("33.333%", "too precise"),
])
def test_minimums_refused(text, why):
    with pytest.raises(ValidationError, match=why):
        policy.parse_minimum(text)


def test_update_is_admin_only_audited_once_and_checked_against_the_revision(db_session):
    admin, designer = _user(db_session, "admin"), _user(db_session, "thietke")
    assert policy.reduction_policy(db_session) is policy.SHIPPED
    with pytest.raises(Forbidden):
        policy.update_reduction_policy(db_session, designer, default="0.5", years={})
    state = policy.update_reduction_policy(db_session, admin, default="0.3", years={"2026": "50%"},
                                           expected_revision=0)
    assert (state.revision, state.minimum_for(2026), state.minimum_for(2025), state.minimum_for(2027)) == (
        1, Fraction(1, 2), Fraction(3, 10), Fraction(3, 10))
    assert _events(db_session, "policy_changed") == 1
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "policy_changed")).one()
    assert json.loads(event.payload)["before"] == {"default": "0.3", "years": {}}
    stored = json.loads(db_session.get(PolicySetting, policy.REDUCTION_KEY).value)
    assert stored == {"default": "0.3", "years": {"2026": "0.5"}}
    # Saving the same again: no change, no event.
    policy.update_reduction_policy(db_session, admin, default="30%", years={2026: "0.5"}, expected_revision=1)
    assert _events(db_session, "policy_changed") == 1
    with pytest.raises(Conflict, match="changed by admin"):
        policy.update_reduction_policy(db_session, admin, default="0.4", years={}, expected_revision=0)
    with pytest.raises(ValidationError, match="year must be between"):
        policy.update_reduction_policy(db_session, admin, default="0.4", years={"26": "0.5"})
    assert policy.reduction_policy(db_session).default == Fraction(3, 10)


def test_a_corrupt_setting_is_said_and_an_admin_save_repairs_it(db_session):
    admin = _user(db_session, "admin")
    policy.update_reduction_policy(db_session, admin, default="0.4", years={})
    row = db_session.get(PolicySetting, policy.REDUCTION_KEY)
    row.value = '{"default": "0.1"}'  # below the floor: edited by hand
    db_session.commit()
    with pytest.raises(policy.PolicyCorrupt, match="cannot be read"):
        policy.reduction_policy(db_session)
    policy.update_reduction_policy(db_session, admin, default="0.3", years={})
    assert policy.reduction_policy(db_session).default == Fraction(3, 10)


@pytest.mark.parametrize("moment, year", [
    (datetime(2025, 12, 31, 16, 59, tzinfo=timezone.utc), 2025),  # 23:59 in Vietnam
    (datetime(2025, 12, 31, 17, 0, tzinfo=timezone.utc), 2026),   # 00:00 on 1 January in Vietnam
    (datetime(2026, 6, 1, 3, 0), 2026),                            # naive = UTC
])
def test_the_year_is_the_vietnam_year(moment, year):
    assert policy.policy_year(moment) == year


def test_upload_is_checked_against_the_minimum_of_its_year(db_session):
    admin, designer = _user(db_session, "admin"), _user(db_session, "thietke")
    proc = db_session.scalar(select(Procedure).where(Procedure.code == "1.003822"))
    policy.update_reduction_policy(db_session, admin, default="0.3", years={"2026": "0.5"})
    late_2025 = procedures.upload_version(db_session, designer, proc.id, filename="a.bpmn", data=CHAIRMAN_BPMN,
                                          now=datetime(2025, 12, 31, 16, 0, tzinfo=timezone.utc))
    early_2026 = procedures.upload_version(db_session, designer, proc.id, filename="a.bpmn", data=CHAIRMAN_BPMN,
                                           now=datetime(2026, 1, 2, 2, 0, tzinfo=timezone.utc))
    assert late_2025.lint_ok and not early_2026.lint_ok
    errors = json.loads(early_2026.lint_report)["en"]["errors"]
    assert [e["code"] for e in errors] == ["REDUCTION_BELOW_POLICY"] and "tthc.reduction in the file" in errors[0]["message"]
    linted = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "version_linted", AuditEvent.object == f"procedure_version:{early_2026.id}")).one()
    assert json.loads(linted.payload)["policy_year"] == 2026 and json.loads(linted.payload)["min_reduction"] == "0.5"
    with pytest.raises(ValidationError, match="fails the policy checks"):
        procedures.submit_version(db_session, designer, early_2026.id)


# --- TTHC codes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, stored", [("1.004227", "1.004227"), (" 2.002154 ", "2.002154"),
                                         ("1.000948.h38", "1.000948.H38"), ("1.012753.H19", "1.012753.H19")])
def test_national_and_local_codes(raw, stored):
    assert procedures.normalise_code(raw) == stored


@pytest.mark.parametrize("raw", ["", "abc", "1.00422", "10.004227", "1.004227.H", "1.004227.HH1",
                                 "1.001612.000.00.00.H48", "1.004227\x00", "1.004227.H38.X", "٣.004227"])
def test_malformed_codes(raw):
    with pytest.raises(ValidationError) as caught:
        procedures.normalise_code(raw)
    assert caught.value.field == "code"


def test_a_code_is_unique_in_the_province_in_the_service_and_the_database(db_session):
    designer = _user(db_session, "thietke")
    construction = db_session.scalar(select(OrgUnit).where(OrgUnit.code == "H01.15"))
    with pytest.raises(Conflict, match="province already has a procedure with code 1.003822") as caught:
        procedures.create_procedure(db_session, designer, code="1.003822", name="Trùng", authority="so",
                                    agency_id=construction.id)
    assert caught.value.field == "code"
    db_session.add(Procedure(code="1.003822", name="Trùng", authority="so", agency_id=construction.id,
                             created_at=datetime.now(timezone.utc)))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


# --- separation of duties -------------------------------------------------------------------------

@pytest.fixture
def submitted(db_session):
    designer = _user(db_session, "thietke")
    proc = db_session.scalar(select(Procedure).where(Procedure.code == "1.003822"))
    version = procedures.upload_version(db_session, designer, proc.id, filename="a.bpmn", data=CHAIRMAN_BPMN)
    procedures.submit_version(db_session, designer, version.id)
    return version.id


def _grant(db_session, username, role, unit_code):
    unit = db_session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
    accounts.grant_role(db_session, actors.CLI, _user(db_session, username).id, role, unit.id)


def test_specialist_and_leader_are_two_people(db_session, submitted):
    _grant(db_session, "vp.chuyenvien", "vp_lanh_dao", "H01.01")
    both = _user(db_session, "vp.chuyenvien")
    procedures.give_vp_opinion(db_session, both, submitted, agree=True, opinion="Đã thẩm tra.")
    events = db_session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Forbidden, match="separation of duties"):
        procedures.give_vp_opinion(db_session, both, submitted, agree=True, opinion="Đồng ý.")
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == events
    procedures.give_vp_opinion(db_session, _user(db_session, "vp.lanhdao"), submitted, agree=True, opinion="Đồng ý.")


@pytest.mark.parametrize("reviewer", ["vp.chuyenvien", "vp.lanhdao"])
def test_the_chairman_is_neither_reviewer(db_session, submitted, reviewer):
    _grant(db_session, reviewer, "chu_tich", "H01")
    procedures.give_vp_opinion(db_session, _user(db_session, "vp.chuyenvien"), submitted, agree=True, opinion="ok")
    procedures.give_vp_opinion(db_session, _user(db_session, "vp.lanhdao"), submitted, agree=True, opinion="ok")
    with pytest.raises(Forbidden, match="another Chairman"):
        procedures.decide_version(db_session, _user(db_session, reviewer), submitted, decision="approve")
    procedures.decide_version(db_session, _user(db_session, "phochutich"), submitted, decision="approve")


def test_whoever_submitted_does_not_review(db_session):
    """A second designer of the agency who submits the version is as much its author."""
    admin = _user(db_session, "admin")
    other = accounts.create_user(db_session, admin, username="thietke2", full_name="Thiết Kế Hai",
                                 password="quytrinh2026")
    _grant(db_session, "thietke2", "designer", "H01.21")
    _grant(db_session, "thietke2", "vp_chuyen_vien", "H01.01")
    proc = db_session.scalar(select(Procedure).where(Procedure.code == "1.003822"))
    version = procedures.upload_version(db_session, _user(db_session, "thietke"), proc.id, filename="a.bpmn",
                                        data=CHAIRMAN_BPMN)
    procedures.submit_version(db_session, _user(db_session, "thietke2"), version.id)
    with pytest.raises(Forbidden, match="own version"):
        procedures.give_vp_opinion(db_session, _user(db_session, other.username), version.id, agree=True,
                                   opinion="Tôi thẩm tra.")
