"""Tampering with the stored log is caught: `quytrinh audit verify` exits 1 naming the first broken
event after an edit, a deletion, an insertion or a reordering made directly in the database (the
append-only triggers dropped first, as an attacker with the database owner's rights would);
untouched, it exits 0. On SQLite, and on PostgreSQL when a server answers."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from services import audit
from services.uow import transaction
from tests.conftest import prepare_demo

ROOT = Path(__file__).resolve().parents[2]
K = 40  # the event tampered with, well inside the chain
OFFSET = 1_000_000


def _drop_guards(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))
        conn.execute(text("DROP TRIGGER audit_events_no_truncate ON audit_events"))
    else:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("DROP TRIGGER audit_events_no_delete"))


def _row(conn, seq: int) -> dict:
    return dict(conn.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq}).mappings().one())


def _shift(conn, first: int, by: int) -> None:
    """seq += by for seq >= first, through a far offset so no primary key collides on the way."""
    conn.execute(text("UPDATE audit_events SET seq = seq + :o WHERE seq >= :f"), {"o": OFFSET, "f": first})
    conn.execute(text("UPDATE audit_events SET seq = seq - :o + :b WHERE seq >= :o"), {"o": OFFSET, "b": by})


def edit_payload(conn):
    conn.execute(text("UPDATE audit_events SET payload = :p WHERE seq = :k"), {"p": '{"forged":true}', "k": K})
    return K


def edit_actor(conn):
    conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :k"), {"k": K})
    return K


def edit_time(conn):
    conn.execute(text("UPDATE audit_events SET at = :t WHERE seq = :k"),
                 {"t": datetime(2020, 1, 1, tzinfo=timezone.utc).replace(tzinfo=None)
                  if conn.dialect.name == "sqlite" else datetime(2020, 1, 1, tzinfo=timezone.utc), "k": K})
    return K


def edit_and_rehash(conn):
    """The forger recomputes the edited event's own hash: the next event no longer links to it."""
    row = _row(conn, K)
    payload = '{"forged":true}'
    forged = audit.event_hash(row["prev_hash"], K, row["at"], row["actor"], row["action"], row["object"], payload)
    conn.execute(text("UPDATE audit_events SET payload = :p, hash = :h WHERE seq = :k"),
                 {"p": payload, "h": forged, "k": K})
    return K + 1


def delete(conn):
    conn.execute(text("DELETE FROM audit_events WHERE seq = :k"), {"k": K})
    return K + 1


def delete_and_renumber(conn):
    """The gap closed: seq runs on, but the next event's prev_hash is the deleted one's hash."""
    conn.execute(text("DELETE FROM audit_events WHERE seq = :k"), {"k": K})
    _shift(conn, K + 1, -1)
    return K


def insert(conn):
    """A forged event slipped in at K, correctly chained to K-1, the rest renumbered."""
    before = _row(conn, K - 1)
    _shift(conn, K, +1)
    at = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
    payload = '{"note":"forged"}'
    forged = audit.event_hash(before["hash"], K, at, "mallory", "login", "user:1", payload)
    conn.execute(text("INSERT INTO audit_events (seq, at, actor, action, object, payload, prev_hash, hash) "
                      "VALUES (:s, :at, 'mallory', 'login', 'user:1', :p, :prev, :h)"),
                 {"s": K, "at": at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at,
                  "p": payload, "prev": before["hash"], "h": forged})
    return K + 1


def reorder(conn):
    """Events K and K+1 swap places."""
    conn.execute(text("UPDATE audit_events SET seq = :t WHERE seq = :k"), {"t": OFFSET, "k": K})
    conn.execute(text("UPDATE audit_events SET seq = :k WHERE seq = :k1"), {"k": K, "k1": K + 1})
    conn.execute(text("UPDATE audit_events SET seq = :k1 WHERE seq = :t"), {"k1": K + 1, "t": OFFSET})
    return K


TAMPERINGS = [edit_payload, edit_actor, edit_time, edit_and_rehash, delete, delete_and_renumber, insert, reorder]


def _grow_chain(url: str) -> int:
    """Enough events after the demo's that K sits inside the chain."""
    engine = create_engine(url)
    with Session(engine) as session:
        with transaction(session):
            at = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
            for i in range(60):
                audit.record(session, "chuyenvien", "probe", f"dossier:H01.15-261123-{i:04d}",
                             {"i": i, "ghi_chu": "Hồ sơ \"đặc biệt\"\n"}, at=at + timedelta(minutes=i))
        count = audit.verify(session)[0]
    engine.dispose()
    return count


def _verify_in_process(monkeypatch, capsys, url: str, instance: Path) -> tuple[int, str]:
    from web.cli import main

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("QUYTRINH_INSTANCE_PATH", str(instance))
    capsys.readouterr()
    code = main(["audit", "verify"])
    return code, capsys.readouterr().out


def _verify_subprocess(url: str, instance: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "QUYTRINH_ENV")}
    env.update(DATABASE_URL=url, QUYTRINH_INSTANCE_PATH=str(instance))
    return subprocess.run([sys.executable, "-m", "web.cli", "audit", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _broken_seq(output: str) -> int:
    match = re.search(r"#(\d+)", output)
    assert match and "HỎNG" in output, output
    return int(match.group(1))


def _check_every_tampering(make_db, monkeypatch, capsys, instance: Path) -> None:
    for tamper in TAMPERINGS:
        url = make_db()
        total = _grow_chain(url)
        assert total > K + 2
        code, out = _verify_in_process(monkeypatch, capsys, url, instance)
        assert code == 0 and f"OK: {total} " in out, out
        engine = create_engine(url)
        with engine.begin() as conn:
            _drop_guards(conn)
            expected = tamper(conn)
        engine.dispose()
        code, out = _verify_in_process(monkeypatch, capsys, url, instance)
        assert code == 1, (tamper.__name__, out)
        assert _broken_seq(out) == expected, (tamper.__name__, out)


def test_every_tampering_is_named_on_sqlite(sqlite_template, tmp_path, monkeypatch, capsys):
    import shutil

    counter = iter(range(100))

    def make_db() -> str:
        path = tmp_path / f"tampered{next(counter)}.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"

    _check_every_tampering(make_db, monkeypatch, capsys, tmp_path)


def test_the_real_command_exits_0_then_1(sqlite_template, tmp_path):
    import shutil

    path = tmp_path / "q.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    total = _grow_chain(url)
    result = _verify_subprocess(url, tmp_path)
    assert result.returncode == 0 and f"OK: {total} " in result.stdout, result.stdout + result.stderr
    engine = create_engine(url)
    with engine.begin() as conn:
        _drop_guards(conn)
        reorder(conn)
    engine.dispose()
    result = _verify_subprocess(url, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _broken_seq(result.stdout) == K


def test_at_text_matches_format_at():
    """The verifier's fast timestamp text is format_at's, whatever form the value arrives in."""
    from zoneinfo import ZoneInfo

    samples = [datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=timezone.utc),
               datetime(2026, 1, 1, tzinfo=timezone.utc),
               datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
               datetime(2025, 2, 3, 4, 5, 6)]
    for at in samples:
        expected = audit.format_at(at)
        assert audit.at_text(at) == expected
        stored = expected[:-1].replace("T", " ")  # SQLAlchemy's SQLite storage format
        assert audit.at_text(stored) == expected


@pytest.mark.postgres
def test_every_tampering_is_named_on_postgresql(pg_database, pg_server_url, tmp_path, monkeypatch, capsys):
    """`pg_database` is migrated and demo-loaded once; each tampering gets a copy of it
    (CREATE DATABASE … TEMPLATE), dropped afterwards."""
    import uuid

    from sqlalchemy.engine import make_url

    prepare_demo(pg_database, tmp_path)
    template = make_url(pg_database).database
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    copies = []

    def make_db() -> str:
        name = f"quytrinh_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        copies.append(name)
        return make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)

    try:
        _check_every_tampering(make_db, monkeypatch, capsys, tmp_path)
    finally:
        with admin.connect() as conn:
            for name in copies:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                             {"n": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_an_archived_head_catches_truncation_and_rewriting(sqlite_template, tmp_path, monkeypatch, capsys):
    """What the chain alone cannot show — the last events cut off, or the whole chain re-hashed —
    the head printed by an earlier run and kept elsewhere does."""
    import shutil

    from web.cli import main

    path = tmp_path / "q.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    total = _grow_chain(url)
    code, out = _verify_in_process(monkeypatch, capsys, url, tmp_path)
    head = re.search(r"^head (\d+):([0-9a-f]{64})$", out, re.M)
    assert code == 0 and head and int(head.group(1)) == total
    anchor = f"{head.group(1)}:{head.group(2)}"
    assert main(["audit", "verify", "--head", anchor]) == 0
    assert main(["audit", "verify", "--head", "12:nothex"]) == 2
    engine = create_engine(url)
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(text("DELETE FROM audit_events WHERE seq > :k"), {"k": total - 3})
    engine.dispose()
    capsys.readouterr()
    code, out = main(["audit", "verify"]), capsys.readouterr().out
    assert code == 0  # a shorter chain is still a valid chain …
    assert main(["audit", "verify", "--head", anchor]) == 1  # … but the archived head is gone
    assert f"#{total}" in capsys.readouterr().out


def test_an_archived_head_catches_a_rehashed_chain(sqlite_template, tmp_path, monkeypatch, capsys):
    """A forger who edits event K and recomputes every hash after it leaves a valid chain; the
    archived head no longer matches."""
    import shutil

    from web.cli import main

    path = tmp_path / "q.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    _grow_chain(url)
    code, out = _verify_in_process(monkeypatch, capsys, url, tmp_path)
    anchor = re.search(r"^head (\d+:[0-9a-f]{64})$", out, re.M).group(1)
    engine = create_engine(url)
    with engine.begin() as conn:
        _drop_guards(conn)
        rows = conn.execute(text("SELECT seq, at, actor, action, object, payload FROM audit_events "
                                 "WHERE seq >= :k ORDER BY seq"), {"k": K}).all()
        prev = _row(conn, K - 1)["hash"]
        for seq, at, actor, action, obj, payload in rows:
            actor = "mallory" if seq == K else actor
            digest = audit.event_hash(prev, seq, at, actor, action, obj, payload)
            conn.execute(text("UPDATE audit_events SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"a": actor, "p": prev, "h": digest, "s": seq})
            prev = digest
    engine.dispose()
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0  # the rewritten chain is self-consistent …
    capsys.readouterr()
    assert main(["audit", "verify", "--head", anchor]) == 1  # … but not the one that was archived
    assert "mã băm khác" in capsys.readouterr().out
