"""Receivables events for apps above billing (the reports app keeps its summaries with them),
without billing or payments importing those apps (apps import downward only).

Every service that creates charges or changes what is owed on them (payments, prepayment
uses, waivers, credit notes, cancellations, refunds) calls `receivables_changed` inside its own
transaction, after its last change to those charges, so what a listener writes (the reports'
deltas) commits or rolls back with the change itself. An app above registers a listener in
its `AppConfig.ready`.

The reports post deltas (docs/adr/0009): a charge named again is compared with what was
posted for it, so naming a charge twice is harmless. Money is different: `payment_ids` and
`reversal_ids` are added as they are, so a payment is named once (in the transaction that
writes it, with its allocations; its charges need not be named besides) and a reversal once
(when approved, after its allocations; name its charges in the same call)."""

from collections.abc import Callable, Iterable
from datetime import date

_listeners: list[Callable] = []


def on_receivables_changed(callback: Callable) -> None:
    """`callback(charge_ids=[...], cells=[(estate_id, building_id, "2026-12")],
    estate_periods=[(estate_id, "2026-12")], money_days=[(estate_id, date)],
    payment_ids=[...], reversal_ids=[...])` after charges, their settlement, or money
    received changed."""
    if callback not in _listeners:
        _listeners.append(callback)


def off_receivables_changed(callback: Callable) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def receivables_changed(
    *,
    charge_ids: Iterable[int] = (),
    cells: Iterable[tuple[int, int, str]] = (),
    estate_periods: Iterable[tuple[int, str]] = (),
    money_days: Iterable[tuple[int, date]] = (),
    payment_ids: Iterable[int] = (),
    reversal_ids: Iterable[int] = (),
) -> None:
    """`charge_ids`: charges created or changed (or every charge of `cells`: (estate,
    building, period)); `estate_periods`: every charge of an estate's period (a bill run,
    set-wise); `payment_ids`: payments written in this transaction (once each: their
    allocations and their money); `reversal_ids`: reversals approved in this transaction
    (once each); `money_days`: the days of that money (informative)."""
    if not _listeners:
        return
    ids, keys = list(charge_ids), list(cells)
    periods, days = list(estate_periods), list(money_days)
    payments, reversals = list(payment_ids), list(reversal_ids)
    if not (ids or keys or periods or days or payments or reversals):
        return
    for callback in _listeners:
        callback(
            charge_ids=ids,
            cells=keys,
            estate_periods=periods,
            money_days=days,
            payment_ids=payments,
            reversal_ids=reversals,
        )


# --- charges falling due ----------------------------------------------------------------------

_due_listeners: list[Callable] = []


def on_charges_due(callback: Callable) -> None:
    """`callback(estate_id=..., as_of=date, run_id=None or a bill run's id, actor=...)` when
    charges fall due: after a bill run posted (`run_id`: its charges), and in the daily
    late-fee job before the fees are assessed (every charge due on or before `as_of`). The
    payments app applies the owners' prepayment there (DESIGN.md §4, ADR 0012)."""
    if callback not in _due_listeners:
        _due_listeners.append(callback)


def off_charges_due(callback: Callable) -> None:
    if callback in _due_listeners:
        _due_listeners.remove(callback)


def charges_due(*, estate_id: int, as_of: date, run_id: int | None = None, actor=None) -> None:
    """Tell the listeners that charges of `estate_id` fall due (see `on_charges_due`). Called
    outside the caller's own transaction: each listener commits its own work."""
    for callback in list(_due_listeners):
        callback(estate_id=estate_id, as_of=as_of, run_id=run_id, actor=actor)
