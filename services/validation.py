"""What a person typed, checked by the use case that stores it (kiểm tra dữ liệu nhập).

A text field is stripped, required when the use case needs it, and refused — never cut — when it
is longer than where it is stored. The limit is the model column's: a ``String(n)``'s length, or
``info={"max_length": n}`` on a ``Text`` column, so that it lives once, in the model; the forms
read the same rule (web/forms.py ``text_rule``). Before, the limits existed only in the forms and
the services silently kept the first 255 or 4000 characters of whatever else sent them more.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.errors import ValidationError


def max_length(column: Any) -> int:
    """The number of characters *column* (a mapped attribute such as ``Dossier.applicant_name``,
    or a Column) stores: ``String(n)``'s n, else its ``info["max_length"]``."""
    column = getattr(column, "expression", column)  # a mapped attribute → its Column
    length = getattr(column.type, "length", None) or column.info.get("max_length")
    if not length:
        raise TypeError(f"{column} has no length: give it String(n) or info={{'max_length': n}}")
    return length


@dataclass(frozen=True)
class TextField:
    """One text input of a use case: where it is stored, the input's name, its two refusals.

    ``stored_in`` is the model column (the limit is read from it at each check, so a change of the
    model changes the check), or a number for a text kept in no column of its own (a note that
    only goes into the approval workflow's data and the audit event). ``too_long`` is a msgid with
    ``%(n)d`` (the limit); ``required`` the msgid for an empty value, None when it may be empty.
    """

    stored_in: Any
    field: str
    too_long: str
    required: str | None = None

    @property
    def limit(self) -> int:
        return self.stored_in if isinstance(self.stored_in, int) else max_length(self.stored_in)

    def clean(self, value: object) -> str | None:
        """The value stripped (None when empty and optional); ValidationError naming the field."""
        text = "" if value is None else (value if isinstance(value, str) else str(value)).strip()
        if not text:
            if self.required:
                raise ValidationError(self.required, self.field)
            return None
        limit = self.limit
        if len(text) > limit:
            raise ValidationError(self.too_long, self.field, n=limit)
        return text
