"""Receivables events for apps above billing (the reports app keeps its summaries with them),
without billing or payments importing those apps (apps import downward only).

Every service that creates charges or changes what is owed on them (payments, prepayment
uses, waivers, credit notes, cancellations, refunds) calls `receivables_changed` inside its own
transaction, so what a listener writes (a "to refresh" mark) commits or rolls back with the
change itself. An app above registers a listener in its `AppConfig.ready`."""

from collections.abc import Callable, Iterable
from datetime import date

_listeners: list[Callable] = []


def on_receivables_changed(callback: Callable) -> None:
    """`callback(charge_ids=[...], cells=[(estate_id, building_id, "2026-12")],
    estate_periods=[(estate_id, "2026-12")], money_days=[(estate_id, date)])` after charges,
    their settlement, or money received changed."""
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
) -> None:
    """`charge_ids`: charges created or changed (or, when the caller has them at hand, their
    `cells`: (estate, building, period), which spares the listener a read); `estate_periods`:
    every charge of an estate's period (a bill run, set-wise); `money_days`: money received
    or paid back on that day."""
    if not _listeners:
        return
    ids, keys = list(charge_ids), list(cells)
    periods, days = list(estate_periods), list(money_days)
    if not (ids or keys or periods or days):
        return
    for callback in _listeners:
        callback(charge_ids=ids, cells=keys, estate_periods=periods, money_days=days)


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
