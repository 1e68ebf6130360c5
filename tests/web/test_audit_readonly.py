"""Auditors change nothing: every non-GET route of the whole app answers 403 to the auditor, with a
valid CSRF token (so the role refuses, not the token check). Logging out is the one exception: it
ends the auditor's own session and changes no record."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from tests.conftest import csrf_token, login

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
EXEMPT = {"auth.logout"}


def _url(app, rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        values[name] = 1 if isinstance(converter, IntegerConverter) else "x"
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


def _write_routes(app):
    for rule in app.url_map.iter_rules():
        methods = [m for m in WRITE_METHODS if m in rule.methods]
        if methods and rule.endpoint not in EXEMPT:
            yield rule, methods


def test_every_non_get_route_answers_403_to_the_auditor(app, client):
    assert login(client, "thanhtra").status_code == 302
    token = csrf_token(client, "/audit/")
    tried = []
    for rule, methods in _write_routes(app):
        url = _url(app, rule)
        for method in methods:
            response = client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            assert response.status_code == 403, (method, url, rule.endpoint, response.status_code)
            tried.append((method, rule.endpoint))
    # The app has write routes of its own (admin, calendar, login …): the loop really ran.
    assert len(tried) >= 8 and ("POST", "admin.user_new") in tried


def test_the_refusal_is_the_role_not_the_token(app, client):
    """Control: the same kind of request from an administrator goes through to the view."""
    assert login(client, "admin").status_code == 302
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={"csrf_token": token, "username": ""})
    assert response.status_code == 400  # the form's own validation, not a 403


def test_without_a_token_the_csrf_check_answers_first(client):
    assert login(client, "thanhtra").status_code == 302
    assert client.post("/admin/users/new", data={}).status_code == 400


def test_the_auditor_can_log_out(client):
    assert login(client, "thanhtra").status_code == 302
    token = csrf_token(client, "/audit/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/audit/").status_code == 302  # back to the login page
