"""Exact conversion of working-time amounts (days, hours) to whole working minutes.

Amounts are read as exact fractions so that 0.3 day is 144 minutes, not 143 after a binary
floating-point detour. A result that is not a whole number of minutes is rounded down (floor):
a fraction of a minute is never granted, the same direction as DESIGN's
``target = floor(legal × (1 − reduction))``.
"""
from __future__ import annotations

import math
import numbers
from decimal import Decimal
from fractions import Fraction

DEFAULT_MINUTES_PER_DAY = 480


def exact_amount(value: object) -> Fraction:
    """Read a non-negative amount exactly.

    Accepts int, Fraction, Decimal, float (taken as its shortest decimal repr, so 0.1 is 1/10)
    and str ("1.5", "3/2", "1e1"; a single comma is a decimal comma as written in Vietnamese:
    "0,5"). Raises TypeError for other types (bool included) and ValueError for a negative,
    non-finite or unreadable value.
    """
    if isinstance(value, bool):
        raise TypeError("an amount must be a number, not a bool")
    if isinstance(value, (int, Fraction)):
        result = Fraction(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"amount must be finite, got {value!r}")
        result = Fraction(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"amount must be finite, got {value!r}")
        result = Fraction(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.count(",") == 1 and "." not in text and "/" not in text:
            text = text.replace(",", ".")
        try:
            result = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"not a number: {value!r}") from None
    elif isinstance(value, numbers.Rational):
        result = Fraction(value.numerator, value.denominator)
    else:
        raise TypeError(f"an amount must be a number, got {type(value).__name__}")
    if result < 0:
        raise ValueError(f"amount must not be negative, got {value!r}")
    return result


def days_to_minutes(days: object, minutes_per_day: int = DEFAULT_MINUTES_PER_DAY) -> int:
    """Working days to whole working minutes, rounded down.

    One working day is ``minutes_per_day`` (the sum of the calendar's working periods, 480 by
    default): 0.25 d → 120, 0.5 d → 240, 1.5 d → 720, 1/7 d → 68 (68.57… floored).
    """
    if isinstance(minutes_per_day, bool) or not isinstance(minutes_per_day, int):
        raise TypeError("minutes_per_day must be an int")
    if minutes_per_day <= 0:
        raise ValueError("minutes_per_day must be positive")
    return math.floor(exact_amount(days) * minutes_per_day)


def hours_to_minutes(hours: object) -> int:
    """Working hours to whole working minutes, rounded down (1.5 h → 90, 0.01 h → 0)."""
    return math.floor(exact_amount(hours) * 60)
