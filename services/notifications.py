"""Reading and acknowledging one's notifications (thông báo): new task, nearly due, overdue.

The background jobs (services/jobs.py) create them; here a user counts, lists and marks as read
their own, and only their own. Marking as read is not a state change of a dossier, so it writes
no audit event.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.dossiers.common import utcnow
from services.models import Dossier, DossierStep, Notification, User
from services.uow import transaction


@dataclass(frozen=True)
class Row:
    notification: Notification
    dossier_code: str
    step_name: str | None


def unread_count(session: Session, user_id: int) -> int:
    """One COUNT on the (user_id, read_at) index: cheap enough for every page's header."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def latest(session: Session, user: User, *, page: int = 1, per_page: int = 50,
           unread_only: bool = False) -> tuple[list[Row], int]:
    """(rows newest first, total) of the user's notifications."""
    page, per_page = max(1, page), min(max(1, per_page), 200)
    where = [Notification.user_id == user.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.scalar(select(func.count(Notification.id)).where(*where)) or 0
    rows = session.execute(
        select(Notification, Dossier.code, DossierStep.name, DossierStep.spec_id)
        .join(Dossier, Dossier.id == Notification.dossier_id)
        .outerjoin(DossierStep, DossierStep.id == Notification.step_id)
        .where(*where).order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page).limit(per_page)).all()
    return [Row(n, code, name or spec_id) for n, code, name, spec_id in rows], total


def mark_read(session: Session, user: User, ids: Iterable[int] | None = None, *,
              now: datetime | None = None) -> int:
    """Mark the user's notifications `ids` (all of them when None) as read; returns how many."""
    now = now or utcnow()
    with transaction(session):
        stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        if ids is not None:
            wanted = [int(i) for i in ids]
            if not wanted:
                return 0
            stmt = stmt.where(Notification.id.in_(wanted))
        result = session.execute(stmt.values(read_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0
