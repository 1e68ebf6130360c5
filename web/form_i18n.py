"""WTForms' own messages in the UI language (thông báo mặc định của biểu mẫu).

WTForms' validators answer in English ("This field is required.", "Not a valid integer value.")
and WTForms ships no Vietnamese catalogue. Flask-WTF asks, for every message of every
``FlaskForm``, the WTForms translations bound to the current request (``request.
wtforms_translations``, which it otherwise loads from WTForms' own locale directory). Binding
ours there once per request makes every form of the app — present and future, whatever module
declares it — speak the request's language, without a base class to remember:

* Vietnamese: ``web/translations/vi/LC_MESSAGES/wtforms.po`` (domain ``wtforms``), every msgid of
  WTForms' template plus Flask-WTF's file validators; compiled by ``make translations``.
* English: the msgids themselves.

The language is looked up when a message is rendered, not when the request starts, so it is
the one flask-babel selected for the page (the session's choice, else the account's, else vi).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Flask, request
from flask_babel import get_locale

CATALOG_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "wtforms"


@lru_cache(maxsize=8)
def catalog(locale: str) -> NullTranslations:
    """The compiled catalogue of *locale* (NullTranslations — English — when there is none)."""
    return Translations.load(str(CATALOG_DIR), [locale], domain=DOMAIN)


class RequestTranslations:
    """The object Flask-WTF calls: ``ugettext`` / ``ungettext`` in the request's language."""

    @staticmethod
    def _current() -> NullTranslations:
        return catalog(str(get_locale() or "vi"))

    def ugettext(self, string: str) -> str:
        return self._current().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self._current().ungettext(singular, plural, n)


_TRANSLATIONS = RequestTranslations()


def register(app: Flask) -> None:
    @app.before_request
    def _bind_form_translations() -> None:
        request.wtforms_translations = _TRANSLATIONS
