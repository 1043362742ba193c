"""A change of owner (过户) and the charges already raised (issue 11 §9, DESIGN.md §4: a new
owner is never billed for a previous owner's arrears, and a seller keeps what is his).

When the registry records a new owner or payer of a unit from a day (`registry.events`
relation_started, in the registry's transaction), every regular charge of the unit that
covers days from then on and is owed by someone else -- raised before the transfer: a bill
run in advance, months the seller paid ahead -- is re-split by that day:

1. what the seller had paid for the buyer's days is taken off the charge into the seller's
   (the paying party's) general prepayment: an allocation reversal, Dr RECEIVABLE, Cr
   PREPAYMENTS, and a prepayment movement. It is the seller's money: refunded to him or,
   with his written consent, used for him; it is never moved to the buyer by the system;
2. billing's `charge_owner_change_split` credits the seller's charge with the buyer's share
   (days before/after the transfer, `core.money.split`) and raises that share to the buyer.

Charges of the days before the transfer, paid or not, stay the seller's: the window, the
fees-settled certificate and the buyer's statement show the buyer only his own.

A payment part of which was taken off a charge this way is no longer voided whole (its
entry would be reversed with money that is now the seller's prepayment); it is refunded
instead, the moved money counting as the payment's prepayment (`reversals`).

Lock order (ADR 0010): party (every payer whose allocation moves) -> unit -> charges ->
payment; entries on the estate's booking day."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from wuye.billing.events import receivables_changed
from wuye.billing.models import Charge, PrepaymentMovement
from wuye.billing.services import (
    charge_owner_change_split,
    charge_refresh,
    owner_change_shares,
)
from wuye.core.money import ZERO, MoneySum
from wuye.ledger import chart
from wuye.ledger.services import Line, entry_post
from wuye.registry.models import Unit, UnitParty
from wuye.registry.selectors import payer_on

from ..models import Allocation, Payment
from ._common import booking_day
from .locks import lock_charges, lock_party, lock_payment, lock_units

SOURCE = "owner_change"


def on_relation_started(*, relation: UnitParty, actor) -> None:
    """The registry's event: re-split the unit's charges if the payer changed."""
    owner_change_resplit(
        unit=relation.unit, day=relation.start_date, actor=actor, key=f"owner-change:{relation.pk}"
    )


def _given_away(unit: Unit) -> set[int]:
    """The unit's charges an earlier change of payer already split (the buyer's charge's key
    is `...:<charge id>:buyer`, see `owner_change_resplit`)."""
    keys = Charge.objects.filter(
        unit=unit, kind=Charge.Kind.REGULAR, idempotency_key__endswith=":buyer"
    ).values_list("idempotency_key", flat=True)
    return {int(key.rsplit(":", 2)[-2]) for key in keys}


def _affected(unit: Unit, day: date, buyer_id: int) -> list[int]:
    """The charges with days from `day` on still owed by another party. A charge already
    split by an earlier change is not split again: its later days are the earlier buyer's
    charge's, which is split in its turn (a buyer who then names a tenant as payer moves his
    own days once, and the seller is not refunded twice). A change dated before an earlier
    split of the same month leaves the days between with the seller: correcting a transfer
    date is a correction by hand (credit note and a charge), never a second automatic split
    of money already split."""
    given = _given_away(unit)
    return [
        pk
        for pk in Charge.objects.filter(unit=unit, kind=Charge.Kind.REGULAR, period_end__gte=day)
        .exclude(status=Charge.Status.CANCELLED)
        .exclude(party_id=buyer_id)
        .order_by("pk")
        .values_list("pk", flat=True)
        if pk not in given
    ]


@transaction.atomic
def owner_change_resplit(
    *, unit: Unit, day: date, actor, key: str, today: date | None = None
) -> list[Charge]:
    """Re-split the unit's charges that cover days from `day` on and are owed by someone
    other than the unit's payer from that day (see the module). Returns the buyer's new
    charges. Idempotent per `key` (the relation)."""
    buyer = payer_on(unit, day)
    if buyer is None:
        return []
    ids = _affected(unit, day, buyer.pk)
    if not ids:
        return []
    payers = sorted(
        {
            *Charge.objects.filter(pk__in=ids).values_list("party_id", flat=True),
            *Payment.objects.filter(allocations__charge_id__in=ids).values_list(
                "party_id", flat=True
            ),
        }
    )
    for party_id in payers:  # 2. parties, in primary-key order
        lock_party(party_id)
    lock_units([unit.pk])  # 3.
    locked = lock_charges(ids)  # 4.
    books_day = booking_day(unit.estate_id, today)
    made = []
    for cid in sorted(locked):
        charge = locked[cid]
        if charge.status == Charge.Status.CANCELLED or charge.party_id == buyer.pk:
            continue
        __, share = owner_change_shares(charge, day)
        if share <= 0:
            continue
        need = share - charge.outstanding
        if need > 0:
            _release(charge, need, actor=actor, day=books_day, key=f"{key}:{cid}")
        new = charge_owner_change_split(
            actor=actor,
            charge=charge,
            buyer=buyer,
            from_day=day,
            today=books_day,
            key=f"{key}:{cid}",
        )
        if new is not None:
            made.append(new)
    receivables_changed(charge_ids=[*ids, *(c.pk for c in made)])
    return made


def _release(charge: Charge, need: Decimal, *, actor, day: date, key: str) -> None:
    """Take up to `need` of what payments settled on `charge` off it, newest payment first,
    into each paying party's general prepayment (one entry)."""
    originals = list(
        Allocation.objects.filter(charge=charge, reverses__isnull=True)
        .select_related("payment")
        .order_by("-payment_id", "-pk")
    )
    reversed_ = dict(
        Allocation.objects.filter(reverses__in=[a.pk for a in originals])
        .values("reverses_id")
        .annotate(s=MoneySum("amount"))
        .order_by()
        .values_list("reverses_id", "s")
    )
    moves: list[tuple[Allocation, Decimal]] = []
    for original in originals:
        if need <= 0:
            break
        left = original.amount + (reversed_.get(original.pk) or ZERO)
        part = min(left, need)
        if part > 0:
            moves.append((original, part))
            need -= part
    if not moves:
        return
    for payment_id in sorted({a.payment_id for a, __ in moves}):
        lock_payment(payment_id)  # 5.
    Allocation.objects.bulk_create(
        [
            Allocation(
                estate_id=charge.estate_id,
                payment_id=original.payment_id,
                charge_id=charge.pk,
                amount=-part,
                reverses=original,
            )
            for original, part in moves
        ]
    )
    charge_refresh(charge=charge)
    by_party: dict[int, Decimal] = {}
    by_payment: dict[tuple[int, int], Decimal] = {}
    for original, part in moves:
        party_id = original.payment.party_id
        by_party[party_id] = by_party.get(party_id, ZERO) + part
        slot = (party_id, original.payment_id)
        by_payment[slot] = by_payment.get(slot, ZERO) + part
    total = sum(by_party.values(), ZERO)
    entry = entry_post(
        estate=charge.estate_id,
        date=day,
        memo=f"过户 {charge.label} 原业主已缴部分转预存"[:200],
        lines=[
            Line(chart.RECEIVABLE, debit=total),
            *(
                Line(chart.PREPAYMENTS, credit=amount, party_id=party_id)
                for party_id, amount in sorted(by_party.items())
            ),
        ],
        idempotency_key=f"{key}:release",
        source_type=SOURCE,
        source_id=charge.pk,
        actor=actor,
    )
    PrepaymentMovement.objects.bulk_create(
        [
            PrepaymentMovement(
                estate_id=charge.estate_id,
                party_id=party_id,
                fee_item=None,
                kind=PrepaymentMovement.Kind.TOPUP,
                amount=amount,
                date=day,
                memo=f"过户退回 {charge.label}"[:200],
                source_type=SOURCE,
                source_id=str(payment_id),
                entry_id=entry.pk,
                idempotency_key=f"{key}:release:{payment_id}",
            )
            for (party_id, payment_id), amount in sorted(by_payment.items())
        ]
    )


def moved_to_prepayment(payment: Payment) -> Decimal:
    """What of `payment` a change of owner moved off charges into its payer's prepayment."""
    return PrepaymentMovement.objects.filter(
        source_type=SOURCE, source_id=str(payment.pk)
    ).aggregate(s=MoneySum("amount"))["s"]
