"""Finding 3 of #11: `next` (after login, and the claim/notification forms' `next`) never leaves the site.

The Location header is read as a browser reads it (WHATWG URL parsing: tab/CR/LF removed anywhere,
C0 controls and spaces stripped around it, a backslash is a slash) before checking its host.
"""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import csrf_token, login
from tests.web.test_inbox import three  # noqa: F401 — the fixture

HOSTILE = [
    "/%09/evil.example", "/\t/evil.example", "/\\evil.example", "/\\\\evil.example", "//evil.example",
    "///evil.example", "////evil.example", "https:evil.example", "https://evil.example/inbox",
    "http:/\\/evil.example", "java\tscript:alert(1)", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%5Cevil.example", "/%5C%5Cevil.example",
    " //evil.example", "/\r\n/evil.example",
    "\\/evil.example", "/.//evil.example", "//evil.example/%2F..", "/\u3000/evil.example",
    "data:text/html,<script>alert(1)</script>", "//localhost@evil.example", "/@evil.example",
    "evil.example", "." , "", "/" + "a" * 5000,
]
# Control characters other than tab and line breaks never reach the login: the request guard
# (web/input_guard.py) refuses the query first.
GUARDED = ["\x00//evil.example", "\x01/\\evil.example", "\x1b//evil.example"]


def browser_host(location: str) -> str:
    """The host a browser at http://localhost/login would go to for this Location."""
    cleaned = "".join(c for c in location if c not in "\t\r\n").strip("".join(map(chr, range(0x21))))
    cleaned = cleaned.replace("\\", "/")
    return urlsplit(urljoin("http://localhost/login", cleaned)).hostname or ""


def _post_login(client, next_value: str):
    token = csrf_token(client, "/login")
    return client.post("/login", query_string={"next": next_value},
                       data={"username": "motcua", "password": "quytrinh2026", "csrf_token": token})


@pytest.mark.parametrize("next_value", HOSTILE)
def test_hostile_next_after_login_stays_on_the_site(app, next_value):
    response = _post_login(app.test_client(), next_value)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert browser_host(location) == "localhost", (next_value, location)
    assert urlsplit(location).scheme in ("", "http") and location.startswith("/")


@pytest.mark.parametrize("next_value", GUARDED)
def test_a_next_with_a_control_character_is_refused_before_the_login(app, next_value):
    response = _post_login(app.test_client(), next_value)
    assert response.status_code == 400 and "Location" not in response.headers


def test_the_reported_one_goes_home(client):
    # POST /login?next=/%09/evil.example answered Location: //evil.example
    token = csrf_token(client, "/login")
    response = client.post("/login?next=/%09/evil.example",
                           data={"username": "motcua", "password": "quytrinh2026", "csrf_token": token})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("next_value, expected", [
    ("/inbox?x=1", "/inbox?x=1"),
    ("/inbox?code=H01&status=overdue", "/inbox?code=H01&status=overdue"),
    ("/notifications", "/notifications"),
    ("  /inbox?x=1", "/inbox?x=1"),  # what a browser would have done with it anyway
    ("/admin", "/admin"),            # a trailing-slash redirect of the app's own
    ("/logout", "/"),                # POST only: nothing to land on
    ("/no/such/page", "/"),
])
def test_good_next_still_works(app, next_value, expected):
    assert _post_login(app.test_client(), next_value).headers["Location"] == expected


def test_anonymous_is_sent_back_where_they_were(client):
    target = client.get("/inbox?code=0").headers["Location"]
    assert target == "/login?next=/inbox?code%3D0"
    token = csrf_token(client, target)
    response = client.post(target, data={"username": "vanthu.noivu", "password": "quytrinh2026",
                                         "csrf_token": token})
    assert response.headers["Location"] == "/inbox?code=0"


@pytest.mark.parametrize("next_value", ["/\t/evil.example", "/\\evil.example", "//evil.example", "https:evil"])
def test_claim_and_notification_forms_next_stays_on_the_site(client, three, next_value):  # noqa: F811
    login(client, "vanthu.noivu")
    token = csrf_token(client, "/inbox")
    step_id = three["later"][1]
    claim = client.post(f"/tasks/{step_id}/claim", data={"csrf_token": token, "next": next_value})
    assert claim.status_code == 303 and claim.headers["Location"] == f"/tasks/{step_id}"
    read = client.post("/notifications/read-all", data={"csrf_token": token, "next": next_value})
    assert read.status_code == 303 and read.headers["Location"] == "/notifications"
    good = client.post(f"/tasks/{step_id}/unclaim", data={"csrf_token": token, "next": "/inbox?code=0"})
    assert good.headers["Location"] == "/inbox?code=0"
