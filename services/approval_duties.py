"""Separation of duties (phân tách nhiệm vụ) in a procedure version's approval round.

Each check of an approval round is worth something only if another person makes it: the
designer who uploaded or submitted the version does not review or approve it; the Văn phòng's
specialist review (Task_VP_ThamTra) and its leader's opinion (Task_VP_YKien) are two people;
the Chairman who decides is neither of them, since the review is there to put an independent
opinion before the Chairman (DESIGN.md, rule 2). A round starts at each submission: after a
return, the same specialist may review the new round. Who did what is read from the audit log,
the record of every step of the approval.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import N_, Forbidden
from services.models import AuditEvent, ProcedureVersion, User

_ROUND_ACTIONS = ("version_submitted", "version_vp_review", "version_vp_opinion")


def _round_people(session: Session, version: ProcedureVersion) -> dict[str, str]:
    """The usernames of this round's submitter and Văn phòng reviewers, by audit action."""
    rows = session.execute(select(AuditEvent.action, AuditEvent.actor).where(
        AuditEvent.object == f"procedure_version:{version.id}", AuditEvent.action.in_(_ROUND_ACTIONS))
        .order_by(AuditEvent.seq)).all()
    people: dict[str, str] = {}
    for action, username in rows:
        if action == "version_submitted":
            people = {}
        people[action] = username
    return people


def duty_conflict(session: Session, actor: User, version: ProcedureVersion, stage: str) -> tuple[str, dict] | None:
    """Why *actor* may not act at *stage* (review, vp_opinion, chairman) of *version*'s current
    round, as (msgid, params), or None. The pages ask it to say so before the form is filled."""
    people = _round_people(session, version)
    own = version.created_by_id == actor.id or people.get("version_submitted") == actor.username
    if stage in ("review", "vp_check", "vp_opinion") and own:
        return N_("Nobody can review their own version."), {}
    if stage == "chairman" and own:
        return N_("Nobody can approve their own version."), {}
    if stage == "vp_opinion" and people.get("version_vp_review") == actor.username:
        return N_("You did the Văn phòng specialist's review of version %(n)s: the leader's opinion must "
                  "be given by another person (separation of duties)."), {"n": version.number}
    if stage == "chairman" and actor.username in (people.get("version_vp_review"),
                                                  people.get("version_vp_opinion")):
        return N_("You took part in the Văn phòng UBND tỉnh's review of version %(n)s: the decision must "
                  "be made by another Chairman or Vice-chairman (separation of duties)."), {"n": version.number}
    return None


def separate_duties(session: Session, actor: User, version: ProcedureVersion, stage: str) -> None:
    conflict = duty_conflict(session, actor, version, stage)
    if conflict is not None:
        raise Forbidden(conflict[0], "version", **conflict[1])
