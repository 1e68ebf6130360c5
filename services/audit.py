"""Audit writer and chain verification (ghi và kiểm tra nhật ký).

Every state change appends one event in the caller's transaction. Each event's hash covers the
previous hash and the canonical JSON of the event, so editing, deleting, inserting or reordering any
event breaks the chain from that point on.
"""
from __future__ import annotations

import json
from hashlib import sha256
from json.encoder import encode_basestring
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import BigInteger, bindparam, func, insert, select
from sqlalchemy.orm import Session, scoped_session

from services.models import AuditEvent
from services.sqlbatch import Batch

GENESIS_HASH = "0" * 64
ANONYMOUS = "anonymous"
# Any constant works; it only has to be the same in every process that appends.
_PG_AUDIT_LOCK = 7_042_001


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_at(at: datetime) -> str:
    """UTC, microseconds, 'Z': the same text whatever the database hands back."""
    if at.tzinfo is None:  # SQLite returns naive datetimes; we only ever store UTC
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def at_text(at: datetime | str) -> str:
    """format_at, faster for the verifier; also takes SQLite's stored text as read raw.

    SQLAlchemy stores a SQLite DATETIME as 'YYYY-MM-DD HH:MM:SS.ffffff' (always 26 characters,
    UTC here), which is format_at's text with 'T' and 'Z'. Anything else goes through format_at,
    so an odd value is hashed exactly as the ORM would have read it.
    """
    if isinstance(at, str):
        if len(at) == 26 and at[10] == " " and at[19] == ".":
            return at[:10] + "T" + at[11:] + "Z"
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    elif at.utcoffset():
        at = at.astimezone(timezone.utc)
    if at.year < 1000:  # isoformat and strftime differ only there
        return format_at(at)
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# json.dumps(str, ensure_ascii=False) is exactly this C function, without building an encoder per
# call; actors, actions and objects repeat (a dossier's events come close together), so their
# quoted form is cached; emptied when full, which bounds it to a few MB and keeps recent values.
_QUOTED: dict[str, str] = {}
_QUOTED_MAX = 20_000


def _quoted(value: str) -> str:
    text_ = _QUOTED.get(value)
    if text_ is None:
        text_ = encode_basestring(value)
        if len(_QUOTED) >= _QUOTED_MAX:
            _QUOTED.clear()
        _QUOTED[value] = text_
    return text_


def hashed_text(prev_hash: str, seq: int, at: str, action: str, actor: str, obj: str, payload_json: str) -> str:
    """The text an event's hash is taken over: ``prev_hash`` + the event's canonical JSON, keys in
    sorted order (as canonical_json), built by hand because payload_json is already canonical.
    ``action``, ``actor`` and ``obj`` come JSON-quoted (:func:`_quoted`), ``at`` as :func:`at_text`."""
    return (f'{prev_hash}{{"action":{action},"actor":{actor},"at":"{at}",'
            f'"object":{obj},"payload":{payload_json},"seq":{seq}}}')


def event_hash(prev_hash: str, seq: int, at: datetime | str, actor: str, action: str, obj: str,
               payload_json: str) -> str:
    body = hashed_text(prev_hash, seq, at_text(at), _quoted(action), _quoted(actor), _quoted(obj), payload_json)
    return sha256(body.encode("utf-8")).hexdigest()


_LOCK_HELD = "quytrinh_chain_lock"


def lock_chain(session: Session, batch: Batch | None = None) -> None:
    """Take the writers' lock for the rest of the session's transaction (once per transaction).

    PostgreSQL: a transaction-scoped advisory lock. ``services.uow.transaction`` takes it before
    the use case reads anything — as BEGIN IMMEDIATE does on SQLite — so write transactions run
    one after the other: every read sees the previous writer's commit (no stale check passing,
    no StaleDataError), and row locks are never waited for while holding them in the other order
    (no deadlock). With a *batch*, the lock is its next statement: queued first, it still runs
    before the batch's reads. SQLite: nothing to do, BEGIN IMMEDIATE (services.db) serializes.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.get_bind().dialect.name != "postgresql":
        return
    current = session.get_transaction()
    if current is not None and session.info.get(_LOCK_HELD) is current:
        return
    if batch is not None:
        batch.add(_LOCK, k=_PG_AUDIT_LOCK)
    else:
        session.execute(_LOCK, {"k": _PG_AUDIT_LOCK})
    session.info[_LOCK_HELD] = session.get_transaction()


_LOCK = select(func.pg_advisory_xact_lock(bindparam("k", type_=BigInteger)))
#: The chain's last event, (seq, hash); no row while the log is empty.
HEAD = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_t = AuditEvent.__table__
#: One event, as ``chained`` gives its values.
INSERT = insert(_t).values({c: bindparam(c.key) for c in _t.c})


def chained(head: tuple[int, str] | None, actor: str, action: str, obj: str, payload: dict | None = None,
            at: datetime | None = None) -> dict[str, Any]:
    """The column values of the event that follows *head* (the chain's last (seq, hash), or None)."""
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    actor = actor or ANONYMOUS
    payload_json = canonical_json(payload or {})
    return {"seq": seq, "at": at, "actor": actor, "action": action, "object": obj, "payload": payload_json,
            "prev_hash": prev, "hash": event_hash(prev, seq, at, actor, action, obj, payload_json)}


def record(session: Session, actor: str, action: str, obj: str, payload: dict | None = None,
           at: datetime | None = None) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction (not committed here)."""
    lock_chain(session)
    head = session.execute(HEAD).first()
    event = AuditEvent(**chained(head, actor, action, obj, payload, at))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain first fails, and why."""

    seq: int
    reason: str


def verify_rows(rows: Iterable[tuple]) -> tuple[int, ChainBreak | None]:
    """Check (seq, at, actor, action, object, payload, prev_hash, hash) rows in seq order.

    `at` may be a datetime or SQLite's stored text. Returns the number of events checked and the
    first break, if any. The text is :func:`hashed_text`'s, as event_hash's; only the quoting is
    looked up in the cache inline (at a hundred thousand events a second, a call per field is a fair
    share of the time).
    """
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    cache, quote, sha, at_of, text_of = _QUOTED, _quoted, sha256, at_text, hashed_text
    for seq, at, actor, action, obj, payload, prev_hash, stored in rows:
        count += 1
        if seq != expected_seq:
            return count, ChainBreak(seq, f"expected event #{expected_seq}, found #{seq} (missing or reordered event)")
        if prev_hash != expected_prev:
            return count, ChainBreak(seq, "prev_hash does not match the previous event's hash")
        if at.__class__ is str and len(at) == 26 and at[10] == " " and at[19] == ".":
            at = f"{at[:10]}T{at[11:]}Z"
        else:
            at = at_of(at)
        body = text_of(prev_hash, seq, at, cache.get(action) or quote(action), cache.get(actor) or quote(actor),
                       cache.get(obj) or quote(obj), payload)
        if sha(body.encode()).hexdigest() != stored:
            return count, ChainBreak(seq, "content does not match its hash (event edited)")
        expected_prev, expected_seq = stored, seq + 1
    return count, None


_CHAIN_SQL = ("SELECT seq, at, actor, action, object, payload, prev_hash, hash "
              "FROM audit_events ORDER BY seq")


def verify(session: Session, batch: int = 5000) -> tuple[int, ChainBreak | None]:
    """Recompute the whole chain, streaming rows in seq order (a server-side cursor on PostgreSQL).

    Rows are read through the driver's own cursor, not the ORM: the hash is over the stored text,
    and skipping SQLAlchemy's per-row processing makes verification several times faster.
    """
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="quytrinh_audit_verify")  # server-side: constant memory
        cursor.itersize = batch
    else:
        cursor = dbapi.cursor()  # SQLite steps through the rows as they are read
    try:
        cursor.execute(_CHAIN_SQL)
        return verify_rows(cursor)
    finally:
        cursor.close()
