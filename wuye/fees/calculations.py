"""Pure arithmetic of fees: rate limits, reading checks, apportionment. No database, no clock."""

import ast
import operator
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from wuye.core.money import split

# The highest rate a standard may carry, per basis (yuan). A rate above it is almost surely a
# typing error (a yearly figure entered as monthly, a misplaced decimal point) and is refused:
# - per m² per month: 50 yuan (the dearest Grade-A offices in Shenzhen/Shanghai are ~40);
# - per unit per month: 5,000 yuan (a villa's or a parking space's monthly fee);
# - per meter unit (ton, kWh, m³): 100 yuan (utility tariffs are single-digit yuan);
# - one-off amounts (deposits, cards, repairs): 100,000 yuan.
MAX_RATE = {
    "per_area_month": Decimal("50"),
    "per_unit_month": Decimal("5000"),
    "metered": Decimal("100"),
    "one_off": Decimal("100000"),
}

# A reading whose consumption is above SPIKE_FACTOR x the average of the meter's last
# SPIKE_HISTORY accepted consumptions, and above SPIKE_MINIMUM units, is flagged for review.
SPIKE_FACTOR = Decimal("3")
SPIKE_HISTORY = 6
SPIKE_MINIMUM = Decimal("10")

CONSUMPTION_STEP = Decimal("0.001")


def rate_problem(*, basis: str, rate: Decimal, recurring: bool) -> str | None:
    """Why `rate` is not acceptable for an item of `basis`, or None when it is."""
    if rate < 0:
        return "the rate cannot be negative"
    if rate == 0 and recurring:
        return "a recurring fee needs a rate above zero"
    limit = MAX_RATE[basis]
    if rate > limit:
        return f"the rate {rate} is above the limit of {limit} for this basis; check the figure"
    if rate.as_tuple().exponent < -4:
        return "the rate has more than 4 decimal places"
    return None


def reading_problem(
    *, value: Decimal, last_value: Decimal | None, history: Sequence[Decimal]
) -> tuple[Decimal | None, str]:
    """The consumption of a reading and why it is suspicious ('' when it is not).

    `last_value` is the previous accepted reading (None for a meter's first reading, which is
    the baseline); `history` the consumptions of up to SPIKE_HISTORY previous readings."""
    if last_value is None:
        return None, ""
    consumption = value - last_value
    if consumption < 0:
        return consumption, (
            f"lower than the last reading {last_value} (misread, meter replaced or rolled over?)"
        )
    recent = list(history)[:SPIKE_HISTORY]
    if recent:
        average = sum(recent, Decimal(0)) / len(recent)
        if consumption > SPIKE_MINIMUM and consumption > SPIKE_FACTOR * average:
            return consumption, (
                f"consumption {consumption} is above {SPIKE_FACTOR}x the average "
                f"{average.quantize(CONSUMPTION_STEP)} of the last {len(recent)} readings"
            )
    return consumption, ""


def apportion(
    total: Decimal, weights: Sequence[Decimal], step: Decimal = CONSUMPTION_STEP
) -> list[Decimal]:
    """Split a consumption in proportion to `weights` into parts of `step` that sum to it
    exactly: the one largest-remainder helper, `wuye.core.money.split` (the caller orders parts
    by unit id, so the result is deterministic)."""
    return split(Decimal(total), weights, step=step)


# --- formula weights ---------------------------------------------------------------------------
# A formula is an arithmetic expression giving each unit's weight from its figures:
#   area      gross area in m² (0 when unknown)
#   floor     floor number (0 when unknown)
#   occupied  1 if the unit is occupied, else 0
#   household 1 (so "household" alone = by household)
# with numbers, + - * /, parentheses and max(a, b) / min(a, b). Example: "area * 0.7 + 10".

FORMULA_NAMES = ("area", "floor", "occupied", "household")
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_FUNCTIONS = {"max": max, "min": min}


def formula_check(formula: str) -> ast.Expression:
    """Parse `formula`, refusing anything but the documented arithmetic."""
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"the formula cannot be read: {exc.msg}") from exc
    for node in ast.walk(tree):
        allowed = (
            ast.Expression,
            ast.BinOp,
            ast.UnaryOp,
            ast.USub,
            ast.UAdd,
            ast.Constant,
            ast.Name,
            ast.Load,
            ast.Call,
            *_BINARY,
        )
        if not isinstance(node, allowed):
            raise ValueError(f"the formula may not use {type(node).__name__}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError("the formula may only contain numbers")
        if isinstance(node, ast.Name) and node.id not in (*FORMULA_NAMES, *_FUNCTIONS):
            raise ValueError(f"unknown name {node.id!r}; use {', '.join(FORMULA_NAMES)}, max, min")
        if isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords
        ):
            raise ValueError("the formula may only call max(...) or min(...)")
    return tree


def formula_weight(formula: str | ast.Expression, variables: dict[str, Decimal]) -> Decimal:
    """Evaluate a checked formula in Decimal arithmetic (number literals read as written)."""
    tree = formula_check(formula) if isinstance(formula, str) else formula

    def ev(node) -> Decimal:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return Decimal(str(node.value))
        if isinstance(node, ast.Name):
            return Decimal(variables[node.id])
        if isinstance(node, ast.UnaryOp):
            value = ev(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            try:
                return _BINARY[type(node.op)](ev(node.left), ev(node.right))
            except (ZeroDivisionError, InvalidOperation) as exc:
                raise ValueError("the formula divides by zero") from exc
        if isinstance(node, ast.Call):
            return _FUNCTIONS[node.func.id](*(ev(a) for a in node.args))
        raise ValueError(f"the formula may not use {type(node).__name__}")  # pragma: no cover

    return ev(tree)
