"""Authorization asks who acts, never the argument's type (services/actors.py).

Before, the administrators' use cases (accounts, the working calendar, the province's policy) took
any string as "a system process" and skipped the admin check: ``set_active(session, "x", ...)``
deactivated an account with no role at all. Now a person must hold the role, one of the system's
well-known actors is accepted explicitly, and anything else is refused.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from services import accounts, actors, calendar, dossiers, policy
from services.errors import Forbidden, ValidationError
from services.models import AuditEvent, OrgUnit
from tests.dossier_helpers import procedure, user, vn


def _admin_use_cases(session):
    """Each administrators' use case, ready to be called with an actor (a stored year to reset first)."""
    calendar.save_year(session, actors.CLI, 2028, [(date(2028, 3, 6), "Nghỉ")], [])
    victim = user(session, "chuyenvien")
    assignment = victim.assignments[0].id
    unit = session.scalar(select(OrgUnit.id).where(OrgUnit.code == "H01.15"))
    return {
        "create_user": lambda a: accounts.create_user(session, a, username="moi.nguoi", full_name="Người Mới",
                                                      password="quytrinh2026"),
        "set_active": lambda a: accounts.set_active(session, a, victim.id, False),
        "set_password": lambda a: accounts.set_password(session, a, victim.id, "mat-khau-moi-2026"),
        "grant_role": lambda a: accounts.grant_role(session, a, victim.id, "van_thu", unit),
        "revoke_role": lambda a: accounts.revoke_role(session, a, assignment),
        "save_year": lambda a: calendar.save_year(session, a, 2027, [(date(2027, 3, 5), "Nghỉ")], []),
        "reset_year": lambda a: calendar.reset_year(session, a, 2028),
        "update_settings": lambda a: calendar.update_settings(session, a, periods=[("07:30", "11:30"),
                                                                                   ("13:00", "17:00")],
                                                              receipt_cutoff="16:00"),
        "update_reduction_policy": lambda a: policy.update_reduction_policy(session, a, default="0.4", years={}),
    }


USE_CASES = ["create_user", "set_active", "set_password", "grant_role", "revoke_role", "save_year", "reset_year",
             "update_settings", "update_reduction_policy"]


def _events(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("name", USE_CASES)
@pytest.mark.parametrize("actor", ["system:demo", "admin", ""])
def test_a_plain_string_is_refused_not_taken_for_the_system(db_session, name, actor):
    use_case = _admin_use_cases(db_session)[name]
    before = _events(db_session)
    with pytest.raises(TypeError, match="services.actors"):
        use_case(actor)
    assert _events(db_session) == before


@pytest.mark.parametrize("name", USE_CASES)
def test_a_person_must_hold_the_admin_role(db_session, name):
    use_case = _admin_use_cases(db_session)[name]
    before = _events(db_session)
    with pytest.raises(Forbidden):
        use_case(user(db_session, "chuyenvien"))
    assert _events(db_session) == before


@pytest.mark.parametrize("name", USE_CASES)
def test_a_well_known_system_actor_acts_under_its_name(db_session, name):
    use_case = _admin_use_cases(db_session)[name]
    before = _events(db_session)
    use_case(actors.CLI)
    assert _events(db_session) > before
    last = db_session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert last.actor == "system:cli"


def test_only_the_well_known_system_actors_are_the_system(db_session):
    assert {a.name for a in actors.SYSTEM_ACTORS} == {
        "system:cli", "system", "system:demo", "system:simulation", "system:migrations"}
    with pytest.raises(TypeError):
        accounts.set_active(db_session, actors.SystemActor("system:mine"), user(db_session, "chuyenvien").id, False)
    assert user(db_session, "chuyenvien").active


def _receive(db_session, official, **extra):
    at = vn(2026, 11, 23, 8, 0)
    return dossiers.receive(db_session, official, procedure_id=procedure(db_session, "1.003822").id,
                            applicant_name="Nguyễn Văn An", received_at=at, now=at, **extra)


def test_an_official_without_a_desk_is_forbidden_to_receive(db_session):
    """Who asks is refused (403), not what was typed (400)."""
    with pytest.raises(Forbidden, match="Only one-stop desk officers") as refused:
        _receive(db_session, user(db_session, "chuyenvien"))
    assert refused.value.status == 403 and not isinstance(refused.value, ValidationError)
    other_desk = db_session.scalar(select(OrgUnit.id).where(OrgUnit.code == "H01.60.01"))
    with pytest.raises(Forbidden, match="do not work at the chosen"):
        _receive(db_session, user(db_session, "motcua"), desk_id=other_desk)
