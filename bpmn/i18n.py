"""Messages of the linter (thông báo): English msgids in code, Vietnamese from gettext.

Messages are kept as :class:`Message` (msgid + params) until they are shown, so one report can
be rendered in Vietnamese for the designer and in English for a log. The catalogue is the
gettext domain ``lint`` under ``bpmn/locale`` (``bpmn/locale/vi/LC_MESSAGES/lint.po``), compiled
with ``pybabel compile -d bpmn/locale -D lint``. A missing Vietnamese catalogue is an installation
error and raises :class:`CatalogMissing` instead of silently printing English.

Updating the catalogue after changing messages::

    pybabel extract -k N_ --no-location --project quytrinh -w 100 -o bpmn/locale/lint.pot \
        bpmn web/commands/lint.py
    pybabel update -i bpmn/locale/lint.pot -d bpmn/locale -D lint -w 100
    pybabel compile -d bpmn/locale -D lint
"""
from __future__ import annotations

import functools
import gettext
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bpmn.expressions import ExpressionError

DOMAIN = "lint"
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
MINUTES_PER_DAY = 480


def N_(msgid: str) -> str:
    """Mark a message for extraction (gettext_noop); it is translated when rendered."""
    return msgid


class CatalogMissing(RuntimeError):
    """The compiled catalogue for a language is not installed."""


@functools.lru_cache(maxsize=None)
def translation(lang: str) -> gettext.NullTranslations:
    """The gettext translation for *lang*; English is the msgids themselves."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of {', '.join(LANGUAGES)}")
    if lang == "en":
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
    except FileNotFoundError:
        raise CatalogMissing(
            f"the {lang!r} message catalogue is not compiled; run "
            f"`pybabel compile -d bpmn/locale -D {DOMAIN}` (make translations)") from None


@dataclass(frozen=True)
class Minutes:
    """A working-time amount that renders as days/hours/minutes in the reader's language."""

    value: int

    def render(self, lang: str) -> str:
        return format_minutes(self.value, lang)


@dataclass(frozen=True)
class Message:
    """A translatable message: an English msgid with ``%(name)s`` placeholders and its params.

    A param may itself be a :class:`Message`, a :class:`Minutes` or an
    :class:`~bpmn.expressions.ExpressionError`; they are rendered in the same language.
    """

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = DEFAULT_LANGUAGE) -> str:
        text = translation(lang).gettext(self.msgid)
        if not self.params:
            return text
        return text % {key: _render_param(value, lang) for key, value in self.params.items()}


def message(msgid: str, **params: Any) -> Message:
    return Message(msgid, params)


def _render_param(value: Any, lang: str) -> Any:
    if isinstance(value, (Message, Minutes)):
        return value.render(lang)
    if isinstance(value, ExpressionError):
        return Message(value.msgid, value.params).render(lang)
    return value


def format_minutes(minutes: int, lang: str = DEFAULT_LANGUAGE) -> str:
    """``3360`` → "7 ngày" / "7 days"; ``270`` → "4 giờ 30 phút" (1 day = 8 working hours)."""
    t = translation(lang)
    days, rest = divmod(int(minutes), MINUTES_PER_DAY)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(t.ngettext("%(n)s day", "%(n)s days", days) % {"n": days})
    if hours:
        parts.append(t.ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
    if mins or not parts:
        parts.append(t.ngettext("%(n)s minute", "%(n)s minutes", mins) % {"n": mins})
    return " ".join(parts)
