"""The command line as a user meets it: bad configuration gives one clear line, `make run` serves."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args, tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "QUYTRINH_ENV")}
    environ.update(QUYTRINH_INSTANCE_PATH=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def _one_clear_line(result, *needles):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("url", ["not a url at all", "postgresql://user@host:notaport/db", "mysql://u@h/db"])
def test_malformed_database_url(tmp_path, url):
    _one_clear_line(_run(["db", "upgrade"], tmp_path, DATABASE_URL=url), "DATABASE_URL")


def test_unreachable_database_url(tmp_path):
    # Port 1 on loopback: nothing listens there, the refusal is immediate.
    result = _run(["db", "upgrade"], tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:1/quytrinh")
    _one_clear_line(result, "DATABASE_URL", "127.0.0.1")


def test_unopenable_sqlite_file(tmp_path):
    result = _run(["demo"], tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/q.db")
    _one_clear_line(result, "DATABASE_URL")


def test_production_requires_secret_key(tmp_path):
    result = _run(["serve"], tmp_path, QUYTRINH_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path}/q.db")
    _one_clear_line(result, "SECRET_KEY", "QUYTRINH_ENV=production")
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("name, value", [("QUYTRINH_LOGIN_MAX_FAILURES", "five"),
                                         ("QUYTRINH_TRUSTED_PROXIES", "-1")])
def test_a_bad_login_setting_is_one_clear_line(tmp_path, name, value):
    _one_clear_line(_run(["db", "upgrade"], tmp_path, **{name: value}), name, value)


def test_serve_refuses_an_unmigrated_database(tmp_path):
    result = _run(["serve"], tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/q.db")
    _one_clear_line(result, "quytrinh db upgrade")


def test_embedded_secret_key_is_generated_once(tmp_path):
    from web.config import secret_key
    env = {"QUYTRINH_INSTANCE_PATH": str(tmp_path)}
    old = os.environ.get("QUYTRINH_INSTANCE_PATH")
    os.environ["QUYTRINH_INSTANCE_PATH"] = str(tmp_path)
    try:
        first = secret_key(env)
        assert first == secret_key(env) and len(first) == 64
        assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    finally:
        if old is not None:
            os.environ["QUYTRINH_INSTANCE_PATH"] = old


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_run_serves_the_login_page(tmp_path):
    """What `make run` does on a fresh checkout: migrate, load the demo, serve; then fetch /login."""
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "QUYTRINH_ENV")}
    environ.update(QUYTRINH_INSTANCE_PATH=str(tmp_path), PORT=str(port), HOST="127.0.0.1")
    log = open(tmp_path / "make-run.log", "w+")
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=environ, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180  # a hang guard, not a speed assertion
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    assert response.status == 200
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert body is not None, f"server never answered; make run said:\n{output}"
        assert "Đăng nhập" in body and 'name="csrf_token"' in body
        assert "chutich" in output and "quytrinh2026" in output  # the demo printed its accounts
        assert (tmp_path / "quytrinh.db").exists()
    finally:
        if proc.poll() is None:  # `make run` that failed has exited already: keep its own error
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
