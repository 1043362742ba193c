"""The one lock order of the money core (DESIGN.md §4, docs/adr/0010-one-lock-order.md):

    shift -> party -> unit -> charges -> payment -> counters

Every write that takes more than one of these row locks takes them in this order, each kind in
primary-key order, through these helpers, so two transactions never wait on each other
crosswise (PostgreSQL would kill one of them as a deadlock). A path may skip a level (a
window payment locks no party row) but never goes back up: once a charge is locked, no shift,
party or unit lock follows. The counters (receipt and voucher numbers) are taken last, by the
numbered inserts, and held from there to the commit only.

The locks are FOR NO KEY UPDATE (PostgreSQL): an INSERT of a row that references a locked row
(a payment naming the party, an allocation naming the charge) takes a KEY SHARE lock on it,
which a plain FOR UPDATE would block: a window payment holding its charges would then wait on
the party row of a refund approval waiting on those charges.

A decision on a request document (a reversal, a deposit release) locks that document first:
only its own decision takes that row, so it cannot close a cycle.
"""

from collections.abc import Iterable

from django.db import transaction

from wuye.billing.models import Charge
from wuye.registry.models import Party, Unit

from ..models import CashierShift, Payment


def _need_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("row locks need a transaction")


def lock_shift(shift: CashierShift | None) -> CashierShift | None:
    """1. The cashier's shift (its cash box)."""
    if shift is None:
        return None
    _need_transaction()
    return CashierShift.objects.select_for_update(no_key=True).get(pk=shift.pk)


def lock_party(party_id: int) -> Party:
    """2. The party: its prepayment pool and the reversals of its payments."""
    _need_transaction()
    return Party.objects.select_for_update(no_key=True).get(pk=party_id)


def lock_units(unit_ids: Iterable[int]) -> None:
    """3. Units (charges raised or withdrawn for them)."""
    ids = sorted({i for i in unit_ids if i})
    if ids:
        _need_transaction()
        list(
            Unit.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values("pk")
        )


def lock_charges(charge_ids: Iterable[int]) -> dict[int, Charge]:
    """4. Charges, in primary-key order, re-read under the lock."""
    ids = sorted(set(charge_ids))
    if not ids:
        return {}
    _need_transaction()
    return {
        c.pk: c
        for c in Charge.objects.select_for_update(no_key=True, of=("self",))
        .select_related("fee_item")
        .filter(pk__in=ids)
        .order_by("pk")
    }


def lock_payment(payment_id: int) -> Payment:
    """5. The payment, re-read under the lock."""
    _need_transaction()
    return Payment.objects.select_for_update(no_key=True).get(pk=payment_id)
