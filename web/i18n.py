"""Language and time zone choice: Vietnamese first, English on request (ngôn ngữ)."""
from __future__ import annotations

from flask import Flask, redirect, request, session, url_for
from flask_babel import format_datetime, get_locale
from flask_login import current_user

from services.roles import ROLES

LANGUAGES = ("vi", "en")


def select_locale() -> str:
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    return "vi"


def select_timezone() -> str:
    return "Asia/Ho_Chi_Minh"


def register(app: Flask) -> None:
    @app.get("/lang/<code>")
    def set_language(code: str):
        if code in LANGUAGES:
            session["lang"] = code
        target = request.referrer or url_for("main.index")
        # Only same-site referrers: an open redirect here would be a phishing aid.
        if not target.startswith(request.host_url):
            target = url_for("main.index")
        return redirect(target)

    @app.template_filter("dt")
    def _dt(value):
        """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh, whatever the UI language."""
        return _shown(value, "dd/MM/yyyy HH:mm")

    @app.template_filter("d")
    def _d(value):
        return _shown(value, "dd/MM/yyyy")

    @app.context_processor
    def _lang():
        return {"current_lang": select_locale(), "languages": LANGUAGES}

    app.jinja_env.globals["role_label"] = role_label


def role_label(code: str | None) -> str:
    """A role's name (tên vai trò) in the page's language; the code itself when it is not one of ours."""
    lang = str(get_locale() or "vi")
    for role, vi, en in ROLES:
        if role == code:
            return vi if lang == "vi" else en
    return code or ""


def _shown(value, pattern: str) -> str:
    """A stored instant too near year 1 or 9999 to have a local time (only an old bad row has one)
    is shown as it is stored, in UTC and saying so, rather than failing the page."""
    if not value:
        return ""
    try:
        return format_datetime(value, pattern)
    except OverflowError:
        from services.dates import shown

        return shown(value)
