"""The form a BPMN step declares (biểu mẫu của bước), as HTML fields and back as task data.

camunda:formData fields: ``string`` → text input, ``long`` → number, ``boolean`` → checkbox,
``date`` → a dd/mm/yyyy input (sent to the engine as ISO 8601), ``enum`` (or any field with
options) → radio buttons for the ``decision`` a gateway reads, a select otherwise. An ``opinion``
field, when the step declares one, is the page's ý kiến textarea (with the form's label and
required flag); otherwise the textarea is optional.

This module only turns text into typed values (a number, a date) and names the field it could
not read. Whether a required field is missing or a decision is among the options is the engine's
rule (engine/runtime/forms.py); its refusals come back through the service as a ValidationError
whose ``field`` names the input, and :func:`engine_message` words them in the page's language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from bpmn.procedure import FormField
from services.dossiers.completion import FORM_TEXT_LIMIT, OPINION as OPINION_RULE
from services.errors import ServiceError
from web.inbox import parse_day

OPINION = "opinion"
MAX_TEXT = FORM_TEXT_LIMIT  # a text field of the task's form: the use case's limit
_INTEGER = re.compile(r"[+-]?\d{1,18}")


@dataclass
class FieldView:
    """One input of the task form as the template draws it."""

    id: str
    label: str
    kind: str                       # string / long / boolean / date / enum / opinion
    required: bool
    options: tuple[tuple[str, str], ...] = ()
    value: str = ""                 # as typed (dates as dd/mm/yyyy)
    checked: bool = False
    error: str | None = None

    @property
    def name(self) -> str:
        return OPINION if self.kind == "opinion" else f"f_{self.id}"

    @property
    def limit(self) -> int:
        """Characters it takes (also the browser's maxlength): the opinion's is the use case's rule."""
        return OPINION_RULE.limit if self.kind == "opinion" else MAX_TEXT

    @property
    def html_id(self) -> str:
        return f"field-{self.id}"

    @property
    def widget(self) -> str:
        if self.kind == "enum":
            return "radios" if self.id == "decision" or len(self.options) <= 3 else "select"
        return {"long": "number", "boolean": "checkbox", "date": "date", "opinion": "textarea"}.get(
            self.kind, "text")


def _kind(field: FormField) -> str:
    if field.options:
        return "enum"
    kind = (field.type or "string").lower()
    return kind if kind in ("string", "long", "boolean", "date", "enum") else "string"


def _shown_date(value: str | None) -> str:
    try:
        return date.fromisoformat((value or "")[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return value or ""


def build(fields: list[FormField] | tuple[FormField, ...], submitted=None,
          known: dict | None = None) -> tuple[list[FieldView], FieldView]:
    """The views of the form's fields and of the opinion textarea: on a fresh page the form's
    defaults, else what the dossier already knows (`known`, e.g. the applicant's name typed at the
    desk); what was typed when the page comes back with errors."""
    known = known or {}
    views, opinion = [], None
    for field in fields:
        kind = _kind(field)
        if field.id == OPINION:
            opinion = FieldView(OPINION, field.label or _("Opinion"), "opinion", field.required)
            opinion.value = submitted.get(OPINION, "") if submitted is not None else (field.default or "")
            continue
        view = FieldView(field.id, field.label or field.id, kind, field.required, tuple(field.options))
        if submitted is not None:
            view.value = submitted.get(view.name, "")
            view.checked = view.name in submitted
        elif kind == "boolean":
            view.checked = (field.default or "").strip().lower() in ("true", "1", "yes")
        elif kind == "date":
            view.value = _shown_date(field.default)
        else:
            view.value = field.default or str(known.get(field.id) or "")
        views.append(view)
    if opinion is None:
        opinion = FieldView(OPINION, _("Opinion"), "opinion", False,
                            value=submitted.get(OPINION, "") if submitted is not None else "")
    return views, opinion


def parse(views: list[FieldView], opinion: FieldView, submitted) -> tuple[dict, str, bool]:
    """(task data, opinion text, ok). Fields that cannot be read get their error set; blank fields
    are left out so that the engine's required check speaks for them."""
    data, ok = {}, True
    for view in views:
        raw = (submitted.get(view.name) or "").strip()
        if view.kind == "boolean":
            data[view.id] = view.name in submitted and raw.lower() not in ("", "0", "false", "off")
            continue
        if not raw:
            continue
        if len(raw) > view.limit:
            view.error, ok = _("%(field)s: at most %(n)d characters.", field=view.label, n=view.limit), False
        elif view.kind == "long":
            if _INTEGER.fullmatch(raw):
                data[view.id] = int(raw)
            else:
                view.error, ok = _("%(field)s: enter a whole number.", field=view.label), False
        elif view.kind == "date":
            try:
                data[view.id] = parse_day(raw).isoformat()
            except ValueError:
                view.error = _("%(field)s: '%(text)s' is not a date dd/mm/yyyy.", field=view.label, text=raw[:30])
                ok = False
        else:
            data[view.id] = raw
    text = (submitted.get(OPINION) or "").strip()
    if len(text) > opinion.limit:
        opinion.error, ok = _("%(field)s: at most %(n)d characters.", field=opinion.label, n=opinion.limit), False
    return data, text, ok


def engine_message(exc: ServiceError, view: FieldView, value) -> str:
    """The engine's refusal of one field, said in the page's language when we know what it is."""
    if (value is None or (isinstance(value, str) and not value.strip())) and view.required:
        return _("%(field)s is required.", field=view.label)
    if view.options and value not in [option_id for option_id, _label in view.options]:
        return _("%(field)s: '%(value)s' is not one of the options (%(options)s).", field=view.label,
                 value=str(value)[:60], options=", ".join(label for _id, label in view.options))
    return _(exc.template, **exc.params)


def attach_error(exc: ServiceError, views: list[FieldView], opinion: FieldView, data: dict,
                 opinion_text: str) -> bool:
    """Put a refusal next to its field; False when it names no field of this form."""
    if exc.field == OPINION:
        opinion.error = engine_message(exc, opinion, opinion_text)
        return True
    for view in views:
        if view.id == exc.field:
            view.error = engine_message(exc, view, data.get(view.id))
            return True
    return False
