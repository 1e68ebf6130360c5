"""Accounts: login under throttles, sessions, users, role assignments (tài khoản và phân quyền).

Every change writes its audit event in the same transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from services import audit
from services.actors import Actor, require_role
from services import login_throttle as throttle
from services.errors import N_, Conflict, NotFound, ValidationError, found
from services.models import OrgUnit, Role, RoleAssignment, User
from services.login_throttle import KnownDevice, LoginPolicy
from services.uow import transaction
from services.validation import TextField

_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,80}")
_SESSION_ID = re.compile(r"(\d{1,18}):(\d{1,18})", re.ASCII)
_hasher = PasswordHasher()
# Verifying against this for unknown usernames keeps their response time like a real account's.
_DUMMY_HASH = _hasher.hash("quytrinh-no-such-user")
MIN_PASSWORD_LENGTH = 8
FULL_NAME = TextField(User.full_name, "full_name", N_("The full name is longer than %(n)d characters."),
                      required=N_("The full name is required."))
EMAIL = TextField(User.email, "email", N_("The email address is longer than %(n)d characters."))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class LoginResult:
    """`user` is set on success; otherwise `reason` is "refused" (unknown name, wrong password or held
    back: one answer, so that it tells nothing) or "inactive" (the right password of a deactivated account)."""

    user: User | None
    reason: str | None = None


def authenticate(session: Session, username: str, password: str, *, policy: LoginPolicy = LoginPolicy(),
                 ip: str | None = None, device: KnownDevice | None = None,
                 now: datetime | None = None) -> LoginResult:
    """Check a password under the throttles of services.login_throttle.

    Every attempt does the same work whatever it finds, so that neither the answer nor its time tells
    whether the account exists, the password was right or the client is held back: one SELECT of the
    user, one of its three counters, one argon2 verification (against a dummy hash when there is no
    such user, and even when held back), one upsert of the counters, one audit event. Only a success
    writes more (the user's last login).
    """
    now = now or _utcnow()
    account = throttle.account_key(username)
    address = throttle.address_key(ip)
    with transaction(session):
        throttle.purge(session, policy, now)
        # Roles are not needed to check a password; loading them only for real accounts would take time.
        user = session.scalar(select(User).options(lazyload(User.assignments))
                              .where(func.lower(User.username) == (username or "").strip().lower()[:200]))
        known = device is not None and user is not None and user.id in device.user_ids
        counters = throttle.load(session, throttle.keys(account, address, device.token if known else None))
        # A browser that has logged into this account before is held back only by its own failures.
        held = [kind for kind in throttle.KINDS if counters[kind].held(now) and (kind == "pair" or not known)]
        password_ok = _verify(user.password_hash if user is not None else _DUMMY_HASH, password)
        details = {"ip": address}
        if user is not None and password_ok and user.active and not held:
            throttle.reset(counters["pair"], now)
            throttle.save(session, list(counters.values()), now)
            user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            audit.record(session, user.username, "login", f"user:{user.id}", details, at=now)
            return LoginResult(user)
        started = [kind for kind in throttle.KINDS
                   if throttle.count_failure(counters[kind], policy.limit(kind), policy, now)]
        throttle.save(session, list(counters.values()), now)
        if started:
            details["holds_started"] = started
        if held:
            action, details["reason"], details["held"] = "login_refused", "held_back", held
        elif user is None:
            action, details["reason"] = "login_failed", "unknown_user"
        elif not password_ok:
            action, details["reason"] = "login_failed", "bad_password"
            details["failures"] = counters["pair"].failures
        else:
            action, details["reason"] = "login_refused", "inactive"
        obj = f"user:{user.id}" if user is not None else f"user:{account}"
        audit.record(session, user.username if user is not None else audit.ANONYMOUS, action, obj,
                     details, at=now)
        # The right password of a deactivated account may say so: whoever typed it holds the password
        # (at the same throttled rate a right guess on an active account would simply log in).
        return LoginResult(None, "inactive" if details["reason"] == "inactive" else "refused")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def record_logout(session: Session, user: User) -> None:
    """Log out: every session of this user ends (on every browser), not only the one that asked."""
    with transaction(session):
        user = _get_user(session, user.id)
        _end_sessions(user)
        audit.record(session, user.username, "logout", f"user:{user.id}")


def _end_sessions(user: User) -> None:
    # A session carries the epoch it was opened in (User.get_id); session_user refuses an older one.
    user.session_epoch = (user.session_epoch or 0) + 1


def session_user(session: Session, session_id: str | None) -> User | None:
    """The user a login session ("<id>:<epoch>", User.get_id) belongs to, or None when it has ended:
    no such user, deactivated, or opened before a logout, password change or deactivation.

    One primary-key lookup, as before the epoch existed: this runs on every request.
    """
    match = _SESSION_ID.fullmatch(session_id or "")
    if match is None:  # a session from before epochs existed, or not ours
        return None
    user = session.get(User, int(match[1]))
    if user is None or not user.active or (user.session_epoch or 0) != int(match[2]):
        return None
    return user


def _validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(N_("The password must have at least %(n)d characters."), "password",
                              n=MIN_PASSWORD_LENGTH)


def create_user(session: Session, actor: Actor, *, username: str, full_name: str, password: str,
                email: str | None = None) -> User:
    who = _actor(actor)
    username = (username or "").strip()
    if not _USERNAME.fullmatch(username):
        raise ValidationError(N_("The username must be 1–80 letters, digits, '.', '_' or '-'."), "username")
    full_name, email = FULL_NAME.clean(full_name), EMAIL.clean(email)
    _validate_password(password)
    with transaction(session):
        if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
            raise Conflict(N_("The username '%(username)s' is already taken."), "username", username=username)
        user = User(username=username, full_name=full_name, email=email,
                    password_hash=hash_password(password), active=True, failed_logins=0,
                    created_at=_utcnow())
        session.add(user)
        session.flush()
        audit.record(session, who, "user_created", f"user:{user.id}",
                     {"username": username, "full_name": user.full_name, "email": user.email})
    return user


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    who = _actor(actor)
    if not active and isinstance(actor, User) and actor.id == user_id:
        raise ValidationError(N_("You cannot deactivate your own account."), "user")
    with transaction(session):
        user = _get_user(session, user_id)
        if user.active != active:
            user.active = active
            if not active:
                _end_sessions(user)
            audit.record(session, who, "user_activated" if active else "user_deactivated",
                         f"user:{user.id}", {"username": user.username})
    return user


def set_password(session: Session, actor: Actor, user_id: int, password: str) -> None:
    who = _actor(actor)
    _validate_password(password)
    with transaction(session):
        user = _get_user(session, user_id)
        user.password_hash = hash_password(password)
        user.failed_logins, user.locked_until = 0, None
        _end_sessions(user)
        throttle.clear_account(session, user.username)
        audit.record(session, who, "password_set", f"user:{user.id}", {"username": user.username})


def grant_role(session: Session, actor: Actor, user_id: int, role_code: str, org_unit_id: int) -> RoleAssignment:
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


def revoke_role(session: Session, actor: Actor, assignment_id: int) -> None:
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


def _actor(actor: Actor) -> str:
    """The audit actor: an administrator, or one of the system's own processes (services.actors)."""
    return require_role(actor, "admin", N_("Only administrators can change accounts and roles."))


def login_holds(session: Session, users: list[User]) -> dict[int, datetime]:
    """{user id: until} for the accounts whose login from unknown browsers is held back now."""
    holds = throttle.account_holds(session, [u.username for u in users], _utcnow())
    return {u.id: holds[throttle.account_key(u.username)] for u in users
            if throttle.account_key(u.username) in holds}
