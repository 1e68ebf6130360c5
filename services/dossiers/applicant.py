"""The applicant's identifiers in their national formats (số giấy tờ, số điện thoại, thư điện tử).

Each function normalizes what the desk typed (spaces, dots, dashes and brackets people write to
group digits are dropped) and returns the value to store, None when empty, or raises a
ValidationError naming the field. Decisions, so as not to refuse real data:

- ID number (số giấy tờ tùy thân): the 12-digit personal identification number of the citizen ID
  card / căn cước (CCCD); the 9-digit identity card (CMND), no longer issued but still quoted on
  older papers; the 10-digit enterprise / tax code, or 10-3 for a branch, when the applicant is an
  organisation; a passport number for foreigners (and Vietnamese passports, e.g. C1234567): 6 to 9
  letters and digits with at least one of each — foreign formats vary too much for more.
- Phone: Vietnamese mobile numbers, 10 digits from 03, 05, 07, 08 or 09; landlines, 11 digits
  from 02 (area code 2xx since 2017); either in the +84 / 0084 / 84 forms, stored as 0…; or an
  international number (E.164: + and 8 to 15 digits), stored with its +.
- E-mail: what email-validator accepts (no deliverability check: the desk is often offline from
  the DNS), stored normalized (the domain in lower case).
"""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from services.errors import N_, ValidationError
from services.models import Dossier
from services.validation import max_length

_GROUPING = re.compile(r"[\s.\-()/]+")
_ID_GROUPING = re.compile(r"[\s.]+")
_ID_FORMS = (
    re.compile(r"\d{12}"),           # CCCD / căn cước: the personal identification number
    re.compile(r"\d{9}"),            # CMND
    re.compile(r"\d{10}(-\d{3})?"),  # mã số doanh nghiệp / mã số thuế (a branch: -001)
)
_PASSPORT = re.compile(r"(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*\d)[A-Z0-9]{6,9}")
_VN_NATIONAL = re.compile(r"0[35789]\d{8}|02\d{9}")
_VN_PREFIXES = ("+84", "0084", "84")
_INTERNATIONAL = re.compile(r"\+[1-9]\d{7,14}")
_SHOWN = 40  # characters of a refused value repeated in its message


def id_number(value: str | None, field: str = "applicant_id_number") -> str | None:
    text = _ID_GROUPING.sub("", value or "").upper()
    if not text:
        return None
    if any(form.fullmatch(text) for form in _ID_FORMS) or _PASSPORT.fullmatch(text):
        return text
    raise ValidationError(N_("The ID number '%(value)s' is not valid: expected a 12-digit citizen ID (CCCD), "
                             "a 9-digit identity card (CMND), a 10-digit enterprise code (or 10-3) or a "
                             "passport number."), field, value=_shown(value))


def phone(value: str | None, field: str = "applicant_phone") -> str | None:
    text = _GROUPING.sub("", value or "")
    if not text:
        return None
    for prefix in _VN_PREFIXES:
        if text.startswith(prefix):
            national = "0" + text[len(prefix):].removeprefix("0")  # "+84 (0)909…" is written too
            if _VN_NATIONAL.fullmatch(national):
                return national
    if _VN_NATIONAL.fullmatch(text):
        return text
    if _INTERNATIONAL.fullmatch(text) and not text.startswith("+84"):
        return text
    raise ValidationError(N_("The phone number '%(value)s' is not valid: expected a 10-digit mobile number (03, "
                             "05, 07, 08, 09…), an 11-digit landline (02…), a +84 form, or an international "
                             "number starting with +."), field, value=_shown(value))


def email(value: str | None, field: str = "applicant_email") -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        normalized = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        normalized = None
    if normalized is None or len(normalized) > max_length(Dossier.applicant_email):
        raise ValidationError(N_("The e-mail address '%(value)s' is not valid: expected a form such as "
                                 "name@example.vn."), field, value=_shown(value))
    return normalized


def _shown(value: str | None) -> str:
    text = (value or "").strip()
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
