"""Security headers on every response (issue #11, finding 5): every GET route of the app (walked over
url_map, as the auditor's read-only test walks the write routes), as an administrator and
anonymously, and the error pages (404, 403, 500). The CSP allows our own origin only, with no
inline script, eval or inline style, and no page can be framed."""
from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.conftest import login

UPLOAD_ENDPOINTS = {"designer.version_bpmn", "designer.version_diagram", "reports.diagram", "dossiers.bpmn",
                    "documents.download"}


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request.path}: no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_page_headers(response) -> None:
    where = f"{response.request.method} {response.request.path} → {response.status_code}"
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin"), where
    assert response.headers.get("Cross-Origin-Opener-Policy") == "same-origin", where
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), where
    policy = _policy(response)
    if "sandbox" in policy:  # uploaded content (web/serving.py): nothing may run or load at all
        assert policy["default-src"] == ["'none'"], where
        return
    assert policy["default-src"] == ["'self'"], where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert policy["object-src"] == ["'none'"], where
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"], where
    for name, values in policy.items():
        for value in values:
            # Our own origin, data: images only; no other site, no inline code, no eval.
            assert value in ("'self'", "'none'", "data:"), (where, name, value)
            assert value != "data:" or name == "img-src", (where, name, value)


def _url(app, rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        values[name] = 1 if isinstance(converter, IntegerConverter) else "x"
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


def _get_routes(app):
    return [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]


@pytest.mark.parametrize("who", ["admin", None])
def test_every_get_route_carries_the_headers(app, client, who):
    if who:
        assert login(client, who).status_code == 302
    seen = {}
    for rule in _get_routes(app):
        response = client.get(_url(app, rule))
        assert_page_headers(response)
        if rule.endpoint in UPLOAD_ENDPOINTS and response.status_code == 200:
            assert "sandbox" in _policy(response)
        seen[rule.endpoint] = response.status_code
    # The walk reached real pages and refusals, not only one kind of answer.
    assert len(seen) >= 40 and "admin.users" in seen
    statuses = set(seen.values())
    assert (200 in statuses and 404 in statuses) if who else (302 in statuses and 200 in statuses)


def test_the_pages_with_their_real_arguments(client):
    """The walk above fills arguments with 1 or "x"; these are real objects of the demo."""
    assert login(client, "thietke").status_code == 302
    for url in ("/designer/", "/designer/procedures/1", "/designer/versions/1", "/designer/versions/1/bpmn",
                "/designer/versions/1/diagram.bpmn", "/static/js/diagram.js", "/static/css/app.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_headers(response)
    assert "sandbox" in _policy(client.get("/designer/versions/1/diagram.bpmn"))
    # Uploaded content keeps its own policy, and is still not frameable.
    assert client.get("/designer/versions/1/bpmn").headers["X-Frame-Options"] == "DENY"


def test_error_pages_carry_the_headers(app, client, monkeypatch):
    not_found = client.get("/no-such-page")
    assert not_found.status_code == 404
    assert_page_headers(not_found)

    assert login(client, "motcua").status_code == 302
    forbidden = client.get("/admin/users")
    assert forbidden.status_code == 403
    assert_page_headers(forbidden)

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "main.index", broken)
    failed = client.get("/")
    assert failed.status_code == 500 and "Traceback" not in failed.get_data(as_text=True)
    assert_page_headers(failed)

    posted = client.post("/login", data={})  # CSRF refusal, a 400 from its own handler
    assert posted.status_code == 400
    assert_page_headers(posted)


def test_strict_transport_security_only_over_https(sqlite_template, tmp_path):
    import shutil

    from tests.conftest import make_app

    db_path = tmp_path / "hsts.db"
    shutil.copyfile(sqlite_template, db_path)
    plain = make_app(f"sqlite:///{db_path}", tmp_path).test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    secure_app = make_app(f"sqlite:///{db_path}", tmp_path, SESSION_COOKIE_SECURE=True)
    secure = secure_app.test_client().get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_template_has_inline_script_style_or_handler():
    """What the CSP would block, caught before a browser has to: no inline <script> (JSON data
    blocks excepted), no <style>, no style="", no on*= handler, no javascript: URL, no hx-on."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "web" / "templates"
    offending = []
    for path in templates.rglob("*.html"):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)  # Jinja comments
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                offending.append((path.name, match.group(0)))
        for pattern in (r"<style\b", r"\sstyle=", r"\son[a-z]+\s*=", r"javascript:", r"hx-on"):
            offending += [(path.name, m.group(0)) for m in re.finditer(pattern, text, re.I)]
    assert offending == []
