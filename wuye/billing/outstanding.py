"""What has been settled on charges by apps above billing (payments' allocations).

Billing may not import the payments app (apps import downward only), so an app that settles
charges registers a function here in its `AppConfig.ready()`:

    from wuye.billing import outstanding
    outstanding.register(lambda charge_ids: {charge_id: Decimal(settled), ...})

`charge_outstanding_recompute` subtracts what the registered functions report, and after
recording an allocation the payments app calls `wuye.billing.services.charge_refresh(charge)`
so the cached `Charge.outstanding` follows. Statement lines of such apps register likewise
through `register_statement_lines`.
"""

from collections.abc import Callable, Iterable
from decimal import Decimal

Settled = Callable[[list[int]], dict[int, Decimal]]
StatementLines = Callable[[object], Iterable[dict]]

_settled: list[Settled] = []
_statement_lines: list[StatementLines] = []


def register(fn: Settled) -> Settled:
    if fn not in _settled:
        _settled.append(fn)
    return fn


def unregister(fn: Settled) -> None:
    if fn in _settled:
        _settled.remove(fn)


def settled(charge_ids: Iterable[int]) -> dict[int, Decimal]:
    """{charge id: amount settled by payments}, from every registered function."""
    ids = list(charge_ids)
    total: dict[int, Decimal] = {}
    for fn in _settled:
        for charge_id, amount in fn(ids).items():
            total[charge_id] = total.get(charge_id, Decimal(0)) + Decimal(amount)
    return total


def register_statement_lines(fn: StatementLines) -> StatementLines:
    """fn(party) -> [{"date", "kind", "text", "debit", "credit"}, ...] (e.g. payments)."""
    if fn not in _statement_lines:
        _statement_lines.append(fn)
    return fn


def unregister_statement_lines(fn: StatementLines) -> None:
    if fn in _statement_lines:
        _statement_lines.remove(fn)


def statement_lines(party) -> list[dict]:
    lines: list[dict] = []
    for fn in _statement_lines:
        lines.extend(fn(party))
    return lines
