"""Accounts: login with lockout, users, role assignments (tài khoản và phân quyền).

Every change writes its audit event in the same transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services import audit
from services.errors import N_, Conflict, Forbidden, NotFound, ValidationError, found
from services.models import OrgUnit, Role, RoleAssignment, User
from services.uow import transaction

_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,80}")
_hasher = PasswordHasher()
# Verifying against this for unknown usernames keeps their response time like a real account's.
_DUMMY_HASH = _hasher.hash("quytrinh-no-such-user")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    """`user` is set on success; otherwise `reason` is one of bad_credentials, locked, inactive."""

    user: User | None
    reason: str | None = None
    locked_until: datetime | None = None


def authenticate(session: Session, username: str, password: str, *, policy: LoginPolicy = LoginPolicy(),
                 ip: str | None = None, now: datetime | None = None) -> LoginResult:
    """Check a password; count failures and lock the account after `policy.max_failures` in a row."""
    now = now or _utcnow()
    username = (username or "").strip()
    with transaction(session):
        user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        details = {"ip": ip} if ip else {}
        if user is None:
            _verify(_DUMMY_HASH, password)
            audit.record(session, audit.ANONYMOUS, "login_failed", f"user:{username[:80]}",
                         {**details, "reason": "unknown_user"}, at=now)
            return LoginResult(None, "bad_credentials")
        locked_until = _aware(user.locked_until)
        if locked_until and locked_until > now:
            audit.record(session, user.username, "login_refused", f"user:{user.id}",
                         {**details, "reason": "locked"}, at=now)
            return LoginResult(None, "locked", locked_until)
        if not _verify(user.password_hash, password):
            user.failed_logins = (user.failed_logins or 0) + 1
            audit.record(session, user.username, "login_failed", f"user:{user.id}",
                         {**details, "reason": "bad_password", "failures": user.failed_logins}, at=now)
            if user.failed_logins >= policy.max_failures:
                user.locked_until = now + policy.lockout
                user.failed_logins = 0
                audit.record(session, audit.SYSTEM, "account_locked", f"user:{user.id}",
                             {"username": user.username, "until": audit.format_at(user.locked_until)}, at=now)
                return LoginResult(None, "locked", user.locked_until)
            return LoginResult(None, "bad_credentials")
        if not user.active:
            audit.record(session, user.username, "login_refused", f"user:{user.id}",
                         {**details, "reason": "inactive"}, at=now)
            return LoginResult(None, "inactive")
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        audit.record(session, user.username, "login", f"user:{user.id}", details, at=now)
        return LoginResult(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def record_logout(session: Session, user: User) -> None:
    with transaction(session):
        audit.record(session, user.username, "logout", f"user:{user.id}")


def _validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(N_("The password must have at least %(n)d characters."), "password",
                              n=MIN_PASSWORD_LENGTH)


def create_user(session: Session, actor: User | str, *, username: str, full_name: str, password: str,
                email: str | None = None) -> User:
    who = _actor(actor)
    username = (username or "").strip()
    if not _USERNAME.fullmatch(username):
        raise ValidationError(N_("The username must be 1–80 letters, digits, '.', '_' or '-'."), "username")
    if not (full_name or "").strip():
        raise ValidationError(N_("The full name is required."), "full_name")
    _validate_password(password)
    with transaction(session):
        if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
            raise Conflict(N_("The username '%(username)s' is already taken."), "username", username=username)
        user = User(username=username, full_name=full_name.strip(), email=(email or None),
                    password_hash=hash_password(password), active=True, failed_logins=0,
                    created_at=_utcnow())
        session.add(user)
        session.flush()
        audit.record(session, who, "user_created", f"user:{user.id}",
                     {"username": username, "full_name": user.full_name, "email": user.email})
    return user


def set_active(session: Session, actor: User | str, user_id: int, active: bool) -> User:
    who = _actor(actor)
    if not active and isinstance(actor, User) and actor.id == user_id:
        raise ValidationError(N_("You cannot deactivate your own account."), "user")
    with transaction(session):
        user = _get_user(session, user_id)
        if user.active != active:
            user.active = active
            audit.record(session, who, "user_activated" if active else "user_deactivated",
                         f"user:{user.id}", {"username": user.username})
    return user


def set_password(session: Session, actor: User | str, user_id: int, password: str) -> None:
    who = _actor(actor)
    _validate_password(password)
    with transaction(session):
        user = _get_user(session, user_id)
        user.password_hash = hash_password(password)
        user.failed_logins, user.locked_until = 0, None
        audit.record(session, who, "password_set", f"user:{user.id}", {"username": user.username})


def grant_role(session: Session, actor: User | str, user_id: int, role_code: str, org_unit_id: int) -> RoleAssignment:
    who = _actor(actor)
    with transaction(session):
        user = _get_user(session, user_id)
        if session.get(Role, role_code) is None:
            raise ValidationError(N_("Unknown role '%(role)s'."), "role", role=role_code)
        unit = session.get(OrgUnit, org_unit_id)
        if unit is None:
            raise ValidationError(N_("Unknown org unit #%(id)s."), "org_unit", id=org_unit_id)
        existing = session.scalar(select(RoleAssignment).where(
            RoleAssignment.user_id == user.id, RoleAssignment.role_code == role_code,
            RoleAssignment.org_unit_id == unit.id))
        if existing:
            return existing
        assignment = RoleAssignment(user=user, role_code=role_code, org_unit_id=unit.id)
        session.add(assignment)
        session.flush()
        audit.record(session, who, "role_granted", f"user:{user.id}",
                     {"username": user.username, "role": role_code, "org_unit": unit.code})
    return assignment


def revoke_role(session: Session, actor: User | str, assignment_id: int) -> None:
    who = _actor(actor)
    with transaction(session):
        assignment = session.get(RoleAssignment, assignment_id)
        if assignment is None:
            raise NotFound(N_("Role assignment #%(id)s does not exist."), "assignment", id=assignment_id)
        payload = {"username": assignment.user.username, "role": assignment.role_code,
                   "org_unit": assignment.org_unit.code}
        user_id = assignment.user_id
        session.delete(assignment)
        audit.record(session, who, "role_revoked", f"user:{user_id}", payload)


def _get_user(session: Session, user_id: int) -> User:
    return found(session.get(User, user_id), N_("User #%(id)s does not exist."), "user", id=user_id)


def _actor(actor: User | str) -> str:
    """The audit actor; a person must hold the admin role, a string names a system process (demo, CLI)."""
    if isinstance(actor, User):
        if not actor.has_role("admin"):
            raise Forbidden(N_("Only administrators can change accounts and roles."))
        return actor.username
    return str(actor)
