"""Browser test fixtures (kiểm thử trên trình duyệt): a live `quytrinh serve` and Debian's Chromium.

The server is the real command (gunicorn, one worker, jobs off so nothing changes under a test) on a
private copy of the demo SQLite database built by tests/conftest.py's `sqlite_template`, on a free
port. Chromium is Debian's /usr/bin/chromium driven through Playwright's API (executable_path):
pytest-playwright's bundled browsers are not installed, so its `browser`/`page` fixtures are
replaced here.

API for browser tests:
- `live_server` (session): object with `.url` ("http://127.0.0.1:PORT"), `.db_url`, `.instance`.
- `base_url` (session): the same URL as a string (also what pytest-playwright's `base_url` means).
- `browser` (session): a Playwright Browser on Debian's Chromium.
- `browser_page` (function): a Page in a fresh context (Vietnamese, Asia/Ho_Chi_Minh, 1280×900),
  with `page.base_url` set; relative `page.goto("/login")` works.
- `new_page` (function): factory `new_page(username=None, *, lang="vi")` → a logged-in page in
  its own fresh context (several accounts in one test).
- `login_as(page, username, password="quytrinh2026")`: logs in through the login form, waits for
  the next page; returns the page.
- `logout(page)`: submits the header's logout form.
- `screenshot(page, name)`: full-page PNG at tests/artifacts/screenshots/<name>.png; returns the path.
The helpers are plain functions: `from tests.browser.conftest import login_as, logout, screenshot`.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

CHROMIUM = Path(os.environ.get("QUYTRINH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "quytrinh2026"
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "tests" / "artifacts" / "screenshots"
STARTUP_SECONDS = 60


def pytest_collection_modifyitems(items):
    # Everything under tests/browser needs Chromium: mark it so `-m "not browser"` leaves it out.
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    url: str
    db_url: str
    instance: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quytrinh_command() -> list[str]:
    exe = Path(sys.executable).with_name("quytrinh")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"quytrinh serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"quytrinh serve did not answer /login in {STARTUP_SECONDS}s:\n"
                       f"{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def live_server(sqlite_template, tmp_path_factory):
    """`quytrinh serve` on a free port, on a private copy of the demo database."""
    instance = tmp_path_factory.mktemp("live")
    db_path = instance / "quytrinh.db"
    shutil.copyfile(sqlite_template, db_path)
    db_url = f"sqlite:///{db_path}"
    port = _free_port()
    env = dict(os.environ)
    env.update({
        "QUYTRINH_INSTANCE_PATH": str(instance),
        "DATABASE_URL": db_url,
        "SECRET_KEY": "browser-tests-" + os.urandom(8).hex(),
        "QUYTRINH_JOBS": "0",  # no background job changes a dossier under a test
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("QUYTRINH_ENV", None)  # production would demand HTTPS-only cookies
    log = instance / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*_quytrinh_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield LiveServer(url=url, db_url=db_url, instance=instance, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright (skipped locally when absent, a failure in CI)."""
    require_or_skip(CHROMIUM.exists(), f"{CHROMIUM} is absent (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


def _new_context(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
        viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def browser_page(browser, live_server):
    """A page in a fresh context (no cookies), Vietnamese locale, the province's time zone."""
    context = _new_context(browser, live_server)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def new_page(browser, live_server):
    """A factory: `new_page("chutich")` → a page in its own fresh context, logged in as that account
    (`new_page()` → not logged in; `lang="en"` switches to English first). Several people can act
    in one test, each with their own cookies; every context is closed at the end of the test."""
    contexts = []

    def make(username: str | None = None, *, lang: str = "vi"):
        context = _new_context(browser, live_server)
        contexts.append(context)
        page = context.new_page()
        page.base_url = live_server.url
        if lang != "vi":
            page.goto(f"/lang/{lang}")
        if username:
            login_as(page, username)
        return page

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def login_as(page, username: str, password: str = PASSWORD):
    """Log in through the form; fails the test when the login page answers with an error."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit].primary")
    assert "/login" not in page.url, f"login as {username} failed: {page.inner_text('main')[:300]}"
    return page


def logout(page) -> None:
    with page.expect_navigation():
        page.click("form[action$='/logout'] button[type=submit]")


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under tests/artifacts/screenshots/ (gitignored test artifacts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
