"""Login throttling per client and account, per address, per account (giới hạn đăng nhập sai).

Failed logins are counted in `login_throttles` under three keys, each in its own window:

- ``pair:<account>|<client>`` — one client against one account. The client is the browser's known-device
  token when the browser has logged into this account before (a signed cookie, see KnownDevice), else
  the address. At `max_failures` this pair is held back for `lockout`: the right password from there is
  refused too, every other client is unaffected — so a stranger can only lock out himself.
- ``addr:<address>`` — one address against every account (password spraying). At
  `max_failures_per_address` the address is held back, except for browsers known to the account tried.
- ``acct:<account>`` — every client against one account (guessing spread over many addresses). At
  `max_failures_per_account` only *unknown* browsers are held back for that account: the official's own
  browser keeps logging in, however many strangers fail. No stranger can hard-lock an account.

A key whose failures within its window reach the limit is held back until `lockout` after its latest
failure. An address is an IPv4 address or an IPv6 /64 (one subscriber's whole prefix). Every attempt
reads and writes the same three rows with the same statements whatever its outcome, so the answer's
time says nothing about which accounts exist (services.accounts.authenticate).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.models import LoginThrottle

_USERNAME = re.compile(r"[a-z0-9._-]{1,80}")
# Names no account can have share one key: typing junk cannot grow the table without bound.
INVALID_ACCOUNT = "~invalid"
_T = LoginThrottle.__table__
KINDS = ("pair", "address", "account")


@dataclass(frozen=True)
class LoginPolicy:
    """The limits, each counted within `lockout` (the window), and how long a held key waits."""

    max_failures: int = 5
    max_failures_per_address: int = 20
    max_failures_per_account: int = 20
    lockout: timedelta = timedelta(minutes=15)

    def limit(self, kind: str) -> int:
        return {"pair": self.max_failures, "address": self.max_failures_per_address,
                "account": self.max_failures_per_account}[kind]


@dataclass(frozen=True)
class KnownDevice:
    """A browser that logged into `user_ids` before (thiết bị quen): its token and those accounts.

    The web layer reads it from a cookie signed with the app's secret key; a stranger can neither
    forge nor read it, so it proves "this browser has held this account's password before".
    """

    token: str
    user_ids: tuple[int, ...] = ()


@dataclass
class Counter:
    key: str
    failures: int = 0
    window_started_at: datetime | None = None
    blocked_until: datetime | None = None

    def held(self, now: datetime) -> bool:
        return self.blocked_until is not None and self.blocked_until > now


def account_key(username: str | None) -> str:
    """The account a typed name means: case and surrounding blanks do not make another account."""
    name = (username or "").strip().lower()
    return name if _USERNAME.fullmatch(name) else INVALID_ACCOUNT


def address_key(ip: str | None) -> str:
    """An IPv4 address, or the /64 of an IPv6 one (a subscriber gets a whole /64)."""
    try:
        addr = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "unknown"
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.version == 6:
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


def keys(account: str, address: str, device_token: str | None) -> dict[str, str]:
    client = f"d:{device_token}" if device_token else f"a:{address}"
    return {"pair": f"pair:{account}|{client}", "address": f"addr:{address}", "account": f"acct:{account}"}


def load(session: Session, key_map: dict[str, str]) -> dict[str, Counter]:
    rows = session.execute(select(_T.c.key, _T.c.failures, _T.c.window_started_at, _T.c.blocked_until)
                           .where(_T.c.key.in_(sorted(key_map.values())))).all()
    found = {row.key: Counter(row.key, row.failures, row.window_started_at, row.blocked_until) for row in rows}
    return {kind: found.get(key) or Counter(key) for kind, key in key_map.items()}


def count_failure(counter: Counter, limit: int, policy: LoginPolicy, now: datetime) -> bool:
    """Add one failure; True when this failure starts a hold (the key was not held before)."""
    if counter.window_started_at is None or counter.window_started_at + policy.lockout <= now:
        counter.failures, counter.window_started_at = 0, now
    counter.failures += 1
    if counter.blocked_until is not None and counter.blocked_until <= now:
        counter.blocked_until = None
    if counter.failures < limit:
        return False
    starts = counter.blocked_until is None
    counter.blocked_until = now + policy.lockout
    return starts


def reset(counter: Counter, now: datetime) -> None:
    counter.failures, counter.window_started_at, counter.blocked_until = 0, now, None


def save(session: Session, counters: list[Counter], now: datetime) -> None:
    """One upsert of every counter: the same statement whatever the attempt's outcome."""
    values = [{"key": c.key, "failures": c.failures, "window_started_at": c.window_started_at or now,
               "blocked_until": c.blocked_until} for c in counters]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(_T).values(values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[_T.c.key],
        set_={"failures": stmt.excluded.failures, "window_started_at": stmt.excluded.window_started_at,
              "blocked_until": stmt.excluded.blocked_until}))


def purge(session: Session, policy: LoginPolicy, now: datetime) -> None:
    """Forget counters whose window is over and which hold nothing back: the table stays small."""
    session.execute(delete(_T).where(
        _T.c.window_started_at <= now - policy.lockout,
        or_(_T.c.blocked_until.is_(None), _T.c.blocked_until <= now)))


def clear_account(session: Session, username: str) -> None:
    """Lift every hold on an account (an administrator set its password)."""
    account = account_key(username)
    session.execute(delete(_T).where(or_(_T.c.key == f"acct:{account}",
                                         _T.c.key.startswith(f"pair:{account}|", autoescape=True))))


def account_holds(session: Session, usernames: list[str], now: datetime) -> dict[str, datetime]:
    """{lowercased username: until} for accounts whose unknown browsers are held back now."""
    wanted = {f"acct:{account_key(u)}": account_key(u) for u in usernames}
    if not wanted:
        return {}
    rows = session.execute(select(_T.c.key, _T.c.blocked_until).where(
        and_(_T.c.key.in_(sorted(wanted)), _T.c.blocked_until > now))).all()
    return {wanted[row.key]: row.blocked_until for row in rows}
