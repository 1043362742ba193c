"""Pure money arithmetic of the window: allocation order, small-change rounding, offers.

No database, no clock. The services feed these plain values and write what they return.

Allocation (沖銷順序, DESIGN.md §4, PRC Civil Code art. 560-561): what the payer designates is
paid in the order given; otherwise the oldest due first, and within one period the principal
before the late fee charged on it (art. 561 orders costs, interest, principal; a late fee,
违约金, is none of these), unless the service contract says late fees first
(`ServiceContract.late_fees_first`). A charge never receives more than its
open balance, and the payment is never spread beyond its amount; what is left over is the
remainder (which the service turns into prepayment, or refuses).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from wuye.core.money import ZERO, money, split


@dataclass(frozen=True)
class OpenCharge:
    """What allocation needs to know of a charge. `rank_due` is the due date that places it in
    line: its own, or for a late fee the due date of the principal it was charged on."""

    id: int
    outstanding: Decimal
    rank_due: date
    period: str
    is_late_fee: bool = False


def allocation_order(
    charges: Sequence[OpenCharge], *, late_fees_first: bool = False
) -> list[OpenCharge]:
    """Oldest due first; within the same due date and period, the principal before its late
    fee (or, when the contract says so, the late fee first)."""
    return sorted(
        charges,
        key=lambda c: (c.rank_due, c.period, c.is_late_fee != late_fees_first, c.id),
    )


def allocate(
    amount: Decimal,
    charges: Sequence[OpenCharge],
    *,
    designated: Sequence[int] | None = None,
    late_fees_first: bool = False,
) -> tuple[list[tuple[int, Decimal]], Decimal]:
    """Spread `amount` over `charges`: the `designated` ids in that order when given (and only
    those), else in `allocation_order`. Returns ([(charge id, amount), ...], remainder)."""
    if amount < 0:
        raise ValueError("a payment is never negative")
    by_id = {c.id: c for c in charges}
    if designated:
        ordered = [by_id[i] for i in dict.fromkeys(designated) if i in by_id]
    else:
        ordered = allocation_order(charges, late_fees_first=late_fees_first)
    left = money(amount)
    result: list[tuple[int, Decimal]] = []
    for charge in ordered:
        if left <= 0:
            break
        if charge.outstanding <= 0:
            continue
        part = min(left, charge.outstanding)
        result.append((charge.id, part))
        left -= part
    return result, left


def round_off(amount: Decimal, unit: str) -> tuple[Decimal, Decimal]:
    """Small change the window may drop (抹零): (amount to collect, amount dropped). `unit` is
    `jiao` (drop the fen) or `yuan` (drop jiao and fen); always rounds down, never up."""
    step = {"jiao": Decimal("0.1"), "yuan": Decimal("1")}[unit]
    collect = money(Decimal(amount).quantize(step, rounding=ROUND_FLOOR))
    return collect, money(Decimal(amount) - collect)


def spread(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` over `weights` in proportion, to the fen, summing exactly to `total` by
    largest remainder (`wuye.core.money.split`): no share is negative or a fen off its exact
    part. Used to spread a dropped small change or a discount."""
    if not weights:
        return []
    if sum(weights, ZERO) <= 0:
        return [ZERO for _ in weights]
    return split(money(total), weights)


def offer_discount(monthly_amounts: Sequence[Decimal], rate: Decimal) -> list[Decimal]:
    """The discount on each paid month: `rate` x the months' total, rounded once (half up, to
    the fen) and spread back over the months by largest remainder, so the receipt's discount
    lines add up to the discount (two months of 100.10 at 5% are 10.01, not 2 x 5.01)."""
    if not monthly_amounts:
        return []
    whole = money(sum((Decimal(a) for a in monthly_amounts), ZERO) * Decimal(rate))
    return spread(whole, [Decimal(a) for a in monthly_amounts])


def cap_allows(*, balance_after: Decimal, monthly_fee: Decimal, cap_months: int | None) -> bool:
    """Whether a prepayment balance stays within the estate's cap of `cap_months` of fees."""
    if cap_months is None:
        return True
    return balance_after <= money(monthly_fee * cap_months)
