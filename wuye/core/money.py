"""Money: Decimal with 2 places (元.角分), rounded in exactly one place.

Rounding happens where a figure becomes a charge (DESIGN.md §4). The default is ROUND_HALF_UP
to the fen; fee items may round to the jiao or the yuan, up, down or half up.
"""

import re
from collections.abc import Sequence
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
)

from django.db import models

FEN = Decimal("0.01")
JIAO = Decimal("0.1")
YUAN = Decimal("1")
ZERO = Decimal("0.00")

ROUNDING_UNITS = {"fen": FEN, "jiao": JIAO, "yuan": YUAN}
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}


def money(value: Decimal | int | str, *, unit: str = "fen", mode: str = "half_up") -> Decimal:
    """Round `value` to `unit` (fen/jiao/yuan) with `mode` and return it with 2 places."""
    if isinstance(value, float):
        raise TypeError("money is never a float; pass Decimal, int or str")
    step = ROUNDING_UNITS[unit]
    rounded = Decimal(value).quantize(step, rounding=ROUNDING_MODES[mode])
    return rounded.quantize(FEN)


_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def plain_decimal(value) -> Decimal:
    """A number as people type it: digits, one point, a sign, thousands separators and
    spaces (1,234.50). Never an exponent ("1e3" is not 1000), NaN or Infinity: ValueError.
    Every form and API decimal field reads through this (wuye/core/apps.py)."""
    if isinstance(value, Decimal | int):
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError("not a number")
        return Decimal(value)
    text = str(value).strip().replace(",", "").replace(" ", "")
    if not _PLAIN.fullmatch(text):
        raise ValueError(f"not a plain decimal number: {value!r}")
    return Decimal(text)


def format_yuan(value) -> str:
    """An amount as people read it: 1234567.5 -> 1,234,567.50 (Decimal, never float).

    For pages and PDFs only; exports keep the number itself so a spreadsheet can add it."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    if not number.is_finite():
        return str(value)
    return f"{number.quantize(FEN, rounding=ROUND_HALF_UP):,.2f}"


def split(total: Decimal, weights: Sequence[Decimal], *, step: Decimal = FEN) -> list[Decimal]:
    """Split `total` in proportion to `weights` into parts of `step` that sum to `total` exactly.

    Largest remainder (DESIGN.md §4, "parts add up to the whole"): each part is its exact share
    cut down to `step`; the steps left over go one each to the parts with the largest cut-off
    remainders, ties to the earlier part, so the result is deterministic for ordered input. A
    part is never negative and never more than one step above its exact share. Used wherever
    an amount is split: a month between seller and buyer, a shared meter, a discount over
    receipt lines."""
    total = Decimal(total)
    if total != total.quantize(step):
        raise ValueError(f"total {total} has more places than {step}")
    if not weights:
        raise ValueError("nothing to split over")
    if any(w < 0 for w in weights):
        raise ValueError("weights cannot be negative")
    weight_sum = sum((Decimal(w) for w in weights), Decimal(0))
    if weight_sum <= 0:
        if total == 0:
            return [total.quantize(step) for _ in weights]
        raise ValueError("the weights sum to zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [magnitude * Decimal(w) / weight_sum for w in weights]
    parts = [e.quantize(step, rounding=ROUND_DOWN) for e in exact]
    left = int((magnitude - sum(parts, Decimal(0))) / step)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += step
    places = FEN if step >= FEN else step
    return [(sign * p).quantize(places) for p in parts]


class MoneySum(models.Sum):
    """The sum of a money column: exactly 2 places on every database, 0.00 when nothing matches.

    SQLite adds DECIMAL columns as floats and Django turns an aggregate back with 15
    significant digits (359829.64 comes back as 359829.639999997), so the result is quantized
    here, once, for every caller."""

    def __init__(self, expression, **extra):
        super().__init__(expression, output_field=MoneyField(), **extra)

    def get_db_converters(self, connection):
        return [*super().get_db_converters(connection), _to_money]


def _to_money(value, expression, connection):
    return ZERO if value is None else Decimal(value).quantize(FEN)


class MoneyField(models.DecimalField):
    """numeric(14,2): up to 999,999,999,999.99 yuan."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
