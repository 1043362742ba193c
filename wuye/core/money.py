"""Money: Decimal with 2 places (元.角分), rounded in exactly one place.

Rounding happens where a figure becomes a charge (DESIGN.md §4). The default is ROUND_HALF_UP
to the fen; fee items may round to the jiao or the yuan, up, down or half up.
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

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
