"""Error pages: every error says what was wrong, none shows a traceback (trang lỗi)."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.errors import ServiceError
from web.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(status: int, title: str, message: str, field: str | None = None):
    if _wants_json():
        error = {"status": status, "title": title, "message": message}
        if field:
            error["field"] = field
        return {"error": error}, status
    return render_template("error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if request.headers.get("HX-Request"):
            # An expired page's htmx button: reload the whole page rather than swap an error into it.
            return "", 400, {"HX-Refresh": "true"}
        return _render(400, _("Form expired"), _(
            "The form's security token is missing or expired. Reload the page and submit it again."))

    @app.errorhandler(ServiceError)
    def _service(exc: ServiceError):
        return _render(exc.status, _("The request could not be carried out"), _(exc.template, **exc.params))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        titles = {
            400: _("Bad request"), 401: _("Please log in"), 403: _("Access denied"),
            404: _("Page not found"), 405: _("Method not allowed"), 413: _("Too large"),
        }
        messages = {
            403: _("Your roles do not allow this page or action."),
            404: _("The page you asked for does not exist."),
            413: _("The request — an uploaded file or a text field — is larger than the allowed size."),
        }
        return _render(exc.code or 500, titles.get(exc.code, exc.name), messages.get(exc.code, exc.description or ""),
                       getattr(exc, "field", None))  # input_guard.InvalidInput names where

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        try:
            db.session.rollback()  # whatever the request had open; the page below reads afresh
        except Exception:  # noqa: BLE001 - the connection itself may be what failed
            app.logger.exception("rollback after the error on %s %s failed", request.method, request.path)
        return _render(500, _("Internal error"), _(
            "Something went wrong on our side; nothing was saved half-way. The error has been logged."))
