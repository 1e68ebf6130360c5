"""Checking what an official submits (kiểm tra dữ liệu biểu mẫu) against the step's form.

Rules, each refusal naming the field:

* values are plain JSON (:func:`bpmn.workflow.values.checked`);
* a required field must be given and not blank (this step's submission, not an inherited value);
* typed fields: ``string`` text, ``long`` an integer, ``boolean`` true/false, ``date`` an ISO 8601
  date (``2026-02-24``) or date-time, ``enum`` (and any field with options) one of the option ids
  — so a ``decision`` the gateway does not know is refused before the gateway sees it;
* routing cannot be forged: a field that a gateway condition reads may only be submitted at a
  step whose form declares it (a step without a form, as in files whose forms live outside the
  BPMN, may submit it), and a start variable set by the services (``requires_vp_review``,
  ``dossier_code``) can only be changed by a step whose form declares it.

Other fields not on the form (a free-text ``opinion`` the UI adds to every step) are accepted.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from bpmn.procedure import FormField, TaskProfile
from bpmn.workflow.values import checked
from engine.runtime.errors import InvalidTaskData


def validate_submission(profile: TaskProfile, data: Mapping[str, Any] | None, *,
                        start_variables: Collection[str], routed: Collection[str]) -> dict[str, Any]:
    """The frozen copy of *data* to set on the task; InvalidTaskData when refused."""
    values = checked(data, "form data")
    step = profile.name or profile.id
    fields = {f.id: f for f in profile.form_fields}
    for key in values:
        if key in fields:
            continue
        if key in start_variables:
            raise InvalidTaskData(f"Field '{key}' is set when the dossier starts and cannot be changed "
                                  f"at step '{step}'.", field=key, element=profile.id)
        if fields and key in routed:
            raise InvalidTaskData(f"Field '{key}' decides where the dossier goes next, but it is not on "
                                  f"the form of step '{step}'.", field=key, element=profile.id)
    for form_field in profile.form_fields:
        value = values.get(form_field.id)
        if _blank(value):
            if form_field.required:
                raise InvalidTaskData(f"Field {_label(form_field)} is required at step '{step}'.",
                                      field=form_field.id, element=profile.id)
            continue
        problem = _type_problem(form_field, value)
        if problem:
            raise InvalidTaskData(f"Field {_label(form_field)} at step '{step}': {problem}.",
                                  field=form_field.id, element=profile.id)
    return values


def _label(form_field: FormField) -> str:
    if form_field.label and form_field.label != form_field.id:
        return f"'{form_field.label}' ({form_field.id})"
    return f"'{form_field.id}'"


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, (tuple, Mapping)) and not value


def _type_problem(form_field: FormField, value: Any) -> str | None:
    kind = (form_field.type or "").lower()
    if form_field.options or kind == "enum":
        allowed = [option_id for option_id, _ in form_field.options]
        if not isinstance(value, str) or value not in allowed:
            return f"{value!r} is not one of the options ({', '.join(allowed) or 'none defined'})"
        return None
    if kind == "string" and not isinstance(value, str):
        return f"expected text, got {_kind(value)}"
    if kind == "long" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"expected a whole number, got {_kind(value)}"
    if kind == "boolean" and not isinstance(value, bool):
        return f"expected true or false, got {_kind(value)}"
    if kind == "date" and not _is_date(value):
        return f"{value!r} is not a date; write it as YYYY-MM-DD (ISO 8601)"
    return None


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            parse(value)
            return True
        except ValueError:
            continue
    return False


def _kind(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text",
            tuple: "a list"}.get(type(value), "an object")
