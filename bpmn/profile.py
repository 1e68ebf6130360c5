"""The TTHC profile (hồ sơ thuộc tính TTHC): ``tthc.*`` properties and their values.

Properties are read alike from ``camunda:properties`` (Camunda 7), ``zeebe:properties``
(Camunda 8) and ``spiffworkflow:properties`` (SpiffArena), in the element's own
``extensionElements`` — never from nested elements, so a sub-process does not inherit the
properties of its tasks.

Units: all time is whole working minutes; 1 day = 8 working hours = 480 minutes.

* ``tthc.allocation``: ``4h``, ``0.5d``, ``1d4h``, ``30m`` (also ``1d 4h``, ``90min``, decimal
  comma ``0,5d``), ISO 8601 ``PT4H``, ``P2D``, ``P1DT4H``, ``PT30M``, or ``0``. An amount that is
  not a whole number of minutes (``0.01h`` = 0.6 min) is refused, never rounded, so what the
  designer wrote is exactly what is counted. Weeks, months and years are refused (their length
  in working time is not fixed).
* ``tthc.legal_days``: working days, decimals allowed (``7.5``); legal minutes =
  ``floor(days × 480)`` (rounding down never grants more than the law).
* ``tthc.reduction``: a fraction ``0 ≤ r < 1`` (``0.3``) or a percentage (``30%``); absent = 0.30.
  Read exactly (``1e-300`` is 1/10^300, not 0); whether it is enough is the policy's question:
  lint refuses a cut below the province's minimum (REDUCTION_BELOW_POLICY, checks.py).
* ``target = floor(legal × (1 − reduction))``, computed with exact fractions.
"""
from __future__ import annotations

import functools
import math
import re
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from fractions import Fraction
from typing import Any

from lxml import etree

from bpmn.i18n import N_, Message, message
from bpmn.procedure import STEPS
from bpmn.roles import normalise_code

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
PROPERTY_NAMESPACES = (CAMUNDA_NS, ZEEBE_NS, SPIFF_NS)
_EXTENSIONS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}extensionElements"

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 8 * MINUTES_PER_HOUR
DEFAULT_REDUCTION = Fraction(3, 10)
#: The province's minimum cut when its caller gives none: 30 %, directive 979/UBND-HCC (the
#: services read the minimum in force from the policy settings, which an admin may raise).
POLICY_MIN_REDUCTION = Fraction(3, 10)
MAX_VALUE_LENGTH = 64
#: Decimal exponents read exactly: 1e-300 is 1/10^300; beyond this a value is refused, not rounded.
MAX_EXPONENT = 1000

_NUM = r"(\d{1,9}(?:[.,]\d{1,9})?)"
_COMPACT = re.compile(rf"(?:{_NUM}\s*d)?\s*(?:{_NUM}\s*h)?\s*(?:{_NUM}\s*m(?:in)?)?", re.I)
_ISO = re.compile(rf"P(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?", re.I)
_ZERO = re.compile(r"0+(?:[.,]0+)?")


class ProfileValueError(ValueError):
    """A property value that cannot be used; ``reason`` says why (translatable)."""

    def __init__(self, reason: Message) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


# --- reading properties ----------------------------------------------------------------------

_CONTAINERS = {f"{{{ns}}}properties": f"{{{ns}}}property" for ns in PROPERTY_NAMESPACES}


def read_properties(element: etree._Element) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(properties, conflicts) of *element*; the first value wins, conflicts list all values."""
    properties: dict[str, str] = {}
    conflicts: dict[str, list[str]] = {}
    extensions = element.find(_EXTENSIONS)
    if extensions is None:
        return properties, conflicts
    for container in extensions:
        property_tag = _CONTAINERS.get(container.tag)
        if property_tag is None:
            continue
        for prop in container:
            name = prop.get("name") if prop.tag == property_tag else None
            if not name:
                continue
            value = prop.get("value")
            if value is None:
                value = prop.text or ""
            if name in properties and properties[name].strip() != value.strip():
                conflicts.setdefault(name, [properties[name]]).append(value)
            properties.setdefault(name, value)
    return properties, conflicts


# --- values ----------------------------------------------------------------------------------

def _fraction(text: str) -> Fraction:
    return Fraction(text.replace(",", "."))


def parse_allocation(value: str) -> int:
    """Working minutes of a tthc.allocation value; ProfileValueError when unreadable or negative."""
    result = _allocation(value)
    if isinstance(result, Message):
        raise ProfileValueError(result)
    return result


@functools.lru_cache(maxsize=1024)
def _allocation(value: str) -> int | Message:
    # Cached: a procedure repeats the same few values; a refusal is returned, not raised, so
    # that it can be cached too.
    try:
        return _parse_allocation(value)
    except ProfileValueError as exc:
        return exc.reason


def _parse_allocation(value: str) -> int:
    text = value.strip()
    if len(text) > MAX_VALUE_LENGTH:
        raise ProfileValueError(message(N_("the value is too long")))
    if text.startswith("-"):
        raise ProfileValueError(message(N_("it is negative")))
    if _ZERO.fullmatch(text):
        return 0
    iso = _ISO.fullmatch(text) if text[:1] in "pP" else None
    compact = None if iso else _COMPACT.fullmatch(text)
    match = iso or compact
    if match is None or not any(match.groups()) or (iso and text.upper().endswith("T")):
        raise ProfileValueError(message(N_("the format is not recognised")))
    days, hours, minutes, *seconds = (_fraction(g) if g else Fraction(0) for g in match.groups())
    total = days * MINUTES_PER_DAY + hours * MINUTES_PER_HOUR + minutes
    if seconds:
        total += seconds[0] / 60
    if total.denominator != 1:
        raise ProfileValueError(message(
            N_("it is not a whole number of minutes (%(minutes)s min)"), minutes=f"{float(total):g}"))
    return int(total)


def _as_fraction(value: Any) -> Fraction:
    """Exact value of a user number: "7,5", "30%", Decimal, int, float (via its shortest repr)."""
    if isinstance(value, bool):
        raise ProfileValueError(message(N_("it is not a number")))
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, Decimal)):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProfileValueError(message(N_("it is not a number")))
        return Fraction(Decimal(repr(value)))
    text = str(value).strip().replace(",", ".")
    if len(text) > MAX_VALUE_LENGTH or not text:
        raise ProfileValueError(message(N_("it is not a number")))
    percent = text.endswith("%")
    try:
        number = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        raise ProfileValueError(message(N_("it is not a number"))) from None
    if not number.is_finite():
        raise ProfileValueError(message(N_("it is not a number")))
    if not -MAX_EXPONENT <= number.as_tuple().exponent <= MAX_EXPONENT:
        # Exact means building 10**exponent: "1e-999999999" would take the CPU for minutes.
        raise ProfileValueError(message(N_("its exponent is out of range (at most %(n)s digits)"),
                                        n=MAX_EXPONENT))
    return Fraction(number) / (100 if percent else 1)


def parse_legal_days(value: Any) -> Fraction:
    """Legal processing time in working days (> 0)."""
    days = _as_fraction(value)
    if days <= 0:
        raise ProfileValueError(message(N_("it must be more than 0 working days")))
    if days > 10_000:
        raise ProfileValueError(message(N_("it is more than 10000 working days")))
    return days


def parse_reduction(value: Any) -> Fraction:
    """The cut: 0 ≤ r < 1 (``0.3`` or ``30%``)."""
    reduction = _as_fraction(value)
    if not 0 <= reduction < 1:
        raise ProfileValueError(message(N_("it must be at least 0 and less than 1 (for example 0.3 or 30%)")))
    return reduction


def parse_authority(value: Any) -> str:
    """An authority code, e.g. ``"Chủ tịch UBND tỉnh"`` → ``chu_tich_ubnd_tinh``."""
    code = normalise_code(str(value))
    if not code or not code[0].isalpha() or len(code) > MAX_VALUE_LENGTH:
        raise ProfileValueError(message(N_("it is not an authority code such as ubnd_tinh or so")))
    return code


def parse_step(value: str) -> str:
    """A tthc.step value (receive, vp_review, chairman_approval, return_result)."""
    step = normalise_code(value)
    if step not in STEPS:
        raise ProfileValueError(message(
            N_("it is not one of receive, vp_review, chairman_approval, return_result")))
    return step


def legal_minutes(days: Fraction) -> int:
    return math.floor(days * MINUTES_PER_DAY)


def target_minutes(legal: int, reduction: Fraction) -> int:
    """``floor(legal × (1 − reduction))`` with exact arithmetic (10 days at 0.3 → 3360)."""
    return math.floor(legal * (1 - reduction))


def format_fraction(value: Fraction) -> str:
    """``Fraction(3, 10)`` → ``"0.3"`` (exact when the decimal expansion ends)."""
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{Decimal(value.numerator) / Decimal(value.denominator):.12f}".rstrip("0").rstrip(".")
    return text


def describe_fraction(value: Fraction) -> str:
    """A fraction for a message, never rounded into another number: ``"0.3"``, ``"0"``,
    ``"1e-300"`` (where :func:`format_fraction` would print a misleading ``"0"``); a value
    without a short decimal expansion (1/3, only from code) is shown as ``"≈0.333333"``."""
    text = format_fraction(value)
    if Fraction(text) == value:
        return text
    with localcontext() as context:
        context.prec = 40
        context.traps[Inexact] = False
        context.clear_flags()
        quotient = Decimal(value.numerator) / Decimal(value.denominator)
        exact = not context.flags[Inexact]
    return format(quotient.normalize(), "g") if exact else f"≈{quotient:.6g}"
