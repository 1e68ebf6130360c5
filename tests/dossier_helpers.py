"""Driving dossiers through the services in tests, as the demo's officials would."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services import dossiers
from services.dossiers.common import runtime
from services.models import Dossier, DossierStep, Procedure, ProcedureVersion, RoleAssignment, User
from services.models.dossiers import STEP_OPEN

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def procedure(session, code: str) -> Procedure:
    return session.scalar(select(Procedure).where(Procedure.code == code))


def open_steps(session, dossier_id: int) -> list[DossierStep]:
    session.expire_all()
    return list(session.scalars(select(DossierStep).where(
        DossierStep.dossier_id == dossier_id, DossierStep.status.in_(STEP_OPEN)).order_by(DossierStep.id)))


def performer(session, step: DossierStep) -> User:
    """The first active demo user holding the step's role in its org unit."""
    return session.scalar(select(User).join(RoleAssignment).where(
        RoleAssignment.role_code == step.role, RoleAssignment.org_unit_id == step.org_unit_id,
        User.active.is_(True)).order_by(User.id))


def form_data(session, step: DossierStep, decision: str | None = None, **extra) -> dict:
    """Values for every required field of the step's form, and the decision if it has one."""
    dossier = session.get(Dossier, step.dossier_id)
    version = session.get(ProcedureVersion, dossier.version_id)
    data = {}
    for field in runtime(version).human_task(step.spec_id).form_fields:
        if field.id == "opinion":
            continue  # given as the step's opinion (ý kiến), which the service puts in the data
        if field.id == "decision":
            data["decision"] = decision or "approve"
        elif field.options:
            data[field.id] = field.options[0][0]
        else:
            kind = (field.type or "string").lower()
            data[field.id] = {"long": 1, "boolean": True, "date": "2026-11-24"}.get(kind, f"{field.id} — ghi chú")
    data.update({k: v for k, v in extra.items() if k in {f.id for f in runtime(version).human_task(step.spec_id).form_fields}})
    return data


def drive(session, dossier_id: int, *, decisions: dict[str, list[str]] | None = None, start: datetime,
          minutes_per_step: int = 30, until: str | None = None, **extra) -> list[str]:
    """Complete open steps one by one (first opened first) until none is left or `until` is ready.

    `decisions` maps a step id to the decisions to give on its successive visits.
    """
    from datetime import timedelta
    decisions = {k: list(v) for k, v in (decisions or {}).items()}
    done, now = [], start
    while True:
        steps = open_steps(session, dossier_id)
        if not steps or (until and any(s.spec_id == until for s in steps)):
            return done
        step = steps[0]
        pending = decisions.get(step.spec_id)
        decision = pending.pop(0) if pending else None
        now += timedelta(minutes=minutes_per_step)
        dossiers.complete(session, performer(session, step), step.id, form_data(session, step, decision, **extra),
                          opinion=f"Ý kiến tại bước {step.name}", now=now)
        done.append(step.spec_id)
