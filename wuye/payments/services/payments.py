"""Taking a payment (實收): allocation, prepayment, paying ahead, offers, small change, the
receipt and the journal entry, in one transaction.

General ledger of one payment (one entry, DESIGN.md §3):

    Dr CASH / CLEARING_POS / BANK ...   amount received
        Cr RECEIVABLE                   the part applied to charges
        Cr PREPAYMENTS (party)          the part kept as prepayment

Paying from the prepayment balance is the same with Dr PREPAYMENTS. Small change dropped at
the window (抹零) and prepayment offers are waivers (Dr WAIVERS, Cr RECEIVABLE) on the charges,
granted by the estate's policy rather than by a supervisor.

Statements of one payment (`payment_take`, an online payment of designated charges): the
replay lookup, the day-close check, the party's open charges locked (with their items and
units: the receipt lines need no other read), the payment (INSERT ... ON CONFLICT: a twin
needs no savepoint), the allocations (one INSERT), the charges' new balances (one UPDATE), the
ledger accounts, then the numbered documents as the last statements: the receipt with its
number, the journal entry with its voucher number and postings, the payment's entry link,
and one audit row. The counter rows are locked from there to the commit only.
"""

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import SYSTEM, SystemActor, audit_event, audit_record
from wuye.audit.summaries import Summary
from wuye.billing import calculations as billing_calc
from wuye.billing.events import receivables_changed
from wuye.billing.models import Charge, PrepaymentMovement
from wuye.billing.periods import Period
from wuye.billing.services import (
    charge_period_create,
    charge_period_quote,
    charge_refresh,
    waiver_grant,
)
from wuye.core.errors import DomainError
from wuye.core.money import ZERO, MoneySum, money
from wuye.fees.models import FeeItem
from wuye.fees.selectors import standard_in_force
from wuye.ledger import chart
from wuye.ledger.services import Line, NewEntry, entries_post, entry_post
from wuye.registry.models import Party, Unit
from wuye.registry.services import require_estate, require_perm

from .. import calculations
from ..models import (
    Allocation,
    CashierShift,
    DayClose,
    Payment,
    PaymentEffect,
    PrepaymentOffer,
    Receipt,
    ReceiptCounter,
)
from ._common import (
    CHANNEL_ACCOUNTS,
    any_of,
    booking_day,
    business_today,
    columns,
    insert_many,
    insert_numbered_many,
    insert_unless_conflict_many,
    money_in,
    require_day_open,
    select_models,
    settings_of,
    update_rows,
    user_or_none,
)
from .locks import lock_party, lock_shift, lock_units
from .shifts import open_shift_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PayAhead:
    """Pay a unit's recurring fee ahead: `months`, or `until` a date, or as many whole months
    as `amount` buys (the rest is kept as prepayment earmarked for the item)."""

    fee_item: FeeItem
    months: int | None = None
    until: date | None = None
    amount: Decimal | None = None


# --- reads the service needs ----------------------------------------------------------------


def prepayment_balance(party_id: int, fee_item_id: int | None = None, *, exact: bool = False):
    """The party's prepayment balance: general money plus money earmarked for `fee_item_id`
    (or, with `exact`, only the money earmarked exactly so; None = general money only)."""
    qs = PrepaymentMovement.objects.filter(party_id=party_id)
    if exact or fee_item_id is None:
        qs = qs.filter(fee_item_id=fee_item_id)
    else:
        qs = qs.filter(fee_item_id__in=[fee_item_id]) | qs.filter(fee_item__isnull=True)
    return qs.aggregate(s=MoneySum("amount"))["s"]


def _open_charges(
    party: Party | int | list[int], ids: list[int] | None = None, *, unit_id: int | None = None
) -> list[Charge]:
    """The open charges of the party (or parties), locked (only the charge rows), in
    primary-key order (lock order: charge), with their fee items and units for the receipt
    lines; with `unit_id` only that unit's. One hand-written statement (see
    `_common.select_models`)."""
    parties = party if isinstance(party, list) else [getattr(party, "pk", party)]
    if ids is not None and not ids:
        return []
    where, params = any_of("c.party_id", parties)
    if ids is not None:
        more, extra = any_of("c.id", ids)
        where, params = f"{where} AND {more}", params + extra
    if unit_id is not None:
        where, params = f"{where} AND c.unit_id = %s", [*params, unit_id]
    sql = _open_charges_sql(connection.vendor, where)
    found = []
    for charge, item, unit in select_models(
        sql, [*params, Charge.Status.OPEN], [Charge, FeeItem, Unit]
    ):
        charge.fee_item = item
        charge.unit = unit
        found.append(charge)
    return found


@lru_cache(maxsize=64)
def _open_charges_sql(vendor: str, where: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {columns(Charge, 'c')}, {columns(FeeItem, 'f')}, {columns(Unit, 'u')} "  # noqa: S608
        f"FROM {quote(Charge._meta.db_table)} c "
        f"JOIN {quote(FeeItem._meta.db_table)} f ON f.id = c.fee_item_id "
        f"LEFT JOIN {quote(Unit._meta.db_table)} u ON u.id = c.unit_id "
        f"WHERE {where} AND c.status = %s ORDER BY c.id"
        + (" FOR UPDATE OF c" if vendor == "postgresql" else "")
    )


def _as_open(charges: list[Charge]) -> list[calculations.OpenCharge]:
    late = [c.source_id for c in charges if c.source_id and c.kind == Charge.Kind.LATE_FEE]
    sources = dict(Charge.objects.filter(pk__in=late).values_list("pk", "due_date")) if late else {}
    return [
        calculations.OpenCharge(
            id=c.pk,
            outstanding=c.outstanding,
            rank_due=sources.get(c.source_id, c.due_date)
            if c.kind == Charge.Kind.LATE_FEE
            else c.due_date,
            period=c.period,
            is_late_fee=c.kind == Charge.Kind.LATE_FEE,
        )
        for c in charges
    ]


def _late_fees_first(estate_id: int, day: date, charges: list[Charge]) -> bool:
    """Whether the estate's service contract in force on `day` has payments settle late fees
    before their principal (art. 561 allows the parties to agree so; default: no). Asked
    only when `charges` hold a late fee (no query otherwise)."""
    from wuye.registry.models import ServiceContract

    if not any(c.kind == Charge.Kind.LATE_FEE for c in charges):
        return False

    contract = (
        ServiceContract.objects.filter(estate_id=estate_id, start_date__lte=day)
        .exclude(end_date__lt=day)
        .order_by("-start_date")
        .only("late_fees_first")
        .first()
    )
    return bool(contract and contract.late_fees_first)


def _check_payer_of(party: Party, unit: Unit) -> None:
    """A payment naming a unit is taken only from someone who owns, rents or pays for it (or
    did, and still owes on it): anyone else is refused, with the reason (issue 11 §8)."""
    from wuye.registry.models import UnitParty

    if UnitParty.objects.filter(unit=unit, party=party).exists():
        return
    if Charge.objects.filter(unit=unit, party=party).exists():
        return
    raise DomainError(
        _(
            "%(party)s does not own, rent or pay for %(unit)s: take the payment for one of "
            "their own units, or for the unit's owner"
        )
        % {"party": party.name, "unit": unit.number},
        field="unit",
        code="not_payer",
    )


def _check_designated(party: Party, ids: list[int], held: list[Charge] | None = None) -> None:
    """Every designated charge must be the party's and still open: say which is not. `held`
    are the party's open charges already read (then a query only to name a wrong one)."""
    if held is not None and set(ids) <= {c.pk for c in held}:
        return
    found = {c.pk: c for c in Charge.objects.filter(pk__in=ids).select_related("fee_item")}
    for charge_id in ids:
        charge = found.get(charge_id)
        if charge is None or charge.party_id != party.pk:
            raise DomainError(
                _("charge %(charge)s is not one of %(party)s's")
                % {"charge": charge_id, "party": party},
                field="charges",
            )
        if charge.status != Charge.Status.OPEN:
            raise DomainError(
                _("%(charge)s is already %(status)s")
                % {"charge": charge.label, "status": charge.get_status_display().lower()},
                field="charges",
                code="not_open",
            )


# --- paying ahead ---------------------------------------------------------------------------


def _monthly_fee(unit: Unit, item: FeeItem, on: date) -> Decimal:
    std = standard_in_force(
        estate_id=unit.estate_id, fee_item=item, unit_type=unit.unit_type, on=on
    )
    return money(billing_calc.monthly_base(basis=item.basis, rate=std.rate, area=unit.gross_area))


def _next_unbilled(unit: Unit, item: FeeItem, today: date) -> Period:
    """The first cycle of `item` not yet charged to `unit`: the one after the last regular
    charge, or the current cycle when there is none. Paying ahead never skips a month."""
    last = (
        Charge.objects.filter(unit=unit, fee_item=item, kind=Charge.Kind.REGULAR)
        .exclude(status=Charge.Status.CANCELLED)
        .aggregate(m=Max("period"))["m"]
    )
    if last:
        return Period.parse(last).plus(item.months)
    current = Period.of(today)
    while not current.is_cycle_start(item.months):
        current = current.plus(-1)
    start = unit.fee_start_date or unit.handover_date
    if start and Period.of(start) > current:
        current = Period.of(start)
        while not current.is_cycle_start(item.months):
            current = current.plus(-1)
    return current


def _pay_ahead(
    *, actor, unit: Unit, plan: PayAhead, today: date, in_arrears: bool, attempt: str
) -> tuple:
    """Create the charges paid ahead, apply the best offer as waivers; returns (charges,
    amount due for them after offers, months, offer or None, leftover money for prepayment,
    effects: the charges raised and the waivers granted, for a void to undo)."""
    item = plan.fee_item
    if item.estate_id != unit.estate_id or not item.is_recurring:
        raise DomainError(
            _("%(item)s is not a recurring fee of this estate") % {"item": item}, field="fee_item"
        )
    first = _next_unbilled(unit, item, today)
    step = item.months
    if plan.months is not None:
        if plan.months <= 0 or plan.months % step:
            raise DomainError(
                _("%(item)s is billed every %(step)s month(s); pay a multiple of %(step)s")
                % {"item": item.name, "step": step},
                field="months",
            )
        months = plan.months
    elif plan.until is not None:
        last = Period.of(plan.until)
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        months = -(-months // step) * step  # up to the end of the cycle
        if months <= 0:
            raise DomainError(
                _("%(unit)s is already charged up to %(until)s")
                % {"unit": unit, "until": plan.until},
                field="until",
            )
    elif plan.amount is not None:
        months = 0
        total = ZERO
        cycle = first
        while True:
            price = charge_period_quote(unit=unit, fee_item=item, period=cycle, today=today)
            if total + price > plan.amount or months >= 120:
                break
            total += price
            months += step
            cycle = cycle.plus(step)
        if months == 0:
            price = charge_period_quote(unit=unit, fee_item=item, period=first, today=today)
            raise DomainError(
                _("%(amount)s does not pay one %(item)s cycle (%(price)s)")
                % {"amount": plan.amount, "item": item.name, "price": price},
                field="amount",
            )
    else:
        raise DomainError(_("say how far ahead to pay"), field="months")
    offers = PrepaymentOffer.objects.filter(
        estate_id=unit.estate_id, fee_item=item, is_active=True
    ).order_by("-min_months", "id")
    offer = next(
        (o for o in offers if o.applies(months=months, on=today, in_arrears=in_arrears)), None
    )
    free = offer.free_months if offer else 0
    cap = settings_of(unit.estate_id).prepayment_cap_months
    last = first.plus(months + free - 1)
    ahead = (last.year - today.year) * 12 + last.month - today.month
    if cap is not None and ahead > cap:
        raise DomainError(
            _(
                "the estate caps paying ahead at %(cap)s months after the current one; this "
                "would pay %(item)s of %(unit)s up to %(period)s"
            )
            % {"cap": cap, "item": item.name, "unit": unit, "period": last},
            field="months",
            code="cap",
        )
    cycles: list[list[Charge]] = []
    effects: list[PaymentEffect] = []
    cycle = first
    for __ in range((months + free) // step):
        before = set(
            Charge.objects.filter(unit=unit, fee_item=item, period=str(cycle)).values_list(
                "pk", flat=True
            )
        )
        raised = charge_period_create(
            actor=actor, unit=unit, fee_item=item, period=cycle, today=today
        )
        cycles.append(raised)
        effects += [
            PaymentEffect(estate_id=unit.estate_id, kind=PaymentEffect.Kind.AHEAD, charge=c)
            for c in raised
            if c.pk not in before
        ]
        cycle = cycle.plus(step)
    paid = [c for charges in cycles[: months // step] for c in charges]
    gifted = [c for charges in cycles[months // step :] for c in charges]
    if offer is not None:
        if offer.discount_rate:
            discounts = calculations.offer_discount(
                [c.outstanding for c in paid], offer.discount_rate
            )
            for charge, discount in zip(paid, discounts, strict=True):
                if discount > 0:
                    waiver = waiver_grant(
                        actor=actor,
                        charge=charge,
                        amount=discount,
                        reason=f"预交优惠 {offer.name}",
                        idempotency_key=f"payments:offer:{attempt}:{charge.pk}",
                        day=today,
                        policy="prepayment_offer",
                    )
                    effects.append(_effect(waiver, PaymentEffect.Kind.OFFER))
                    charge.refresh_from_db()
        for charge in gifted:
            if charge.outstanding > 0:
                waiver = waiver_grant(
                    actor=actor,
                    charge=charge,
                    amount=charge.outstanding,
                    reason=f"预交优惠 {offer.name} 赠送",
                    idempotency_key=f"payments:offer:{attempt}:{charge.pk}",
                    day=today,
                    policy="prepayment_offer",
                )
                effects.append(_effect(waiver, PaymentEffect.Kind.OFFER))
                charge.refresh_from_db()
    due = sum((c.outstanding for c in paid), ZERO)
    leftover = money(plan.amount - due) if plan.amount is not None else ZERO
    return paid + gifted, due, months, offer, max(leftover, ZERO), effects


def _check_covers_ahead(party: Party, amount: Decimal, charges: list[Charge], *, round_off):
    """Months paid ahead (and their offer) are granted only for money that pays them: the
    amount must cover what the designated charges and the months cost at the run's price,
    after the offer (less the small change the estate drops, with 抹零) (issue 11 §5)."""
    owed = sum((c.outstanding for c in charges), ZERO)
    least = owed
    if round_off and settings_of(party.estate_id).round_small_change:
        least = calculations.round_off(owed, settings_of(party.estate_id).round_unit)[0]
    if amount < least:
        raise DomainError(
            _(
                "%(amount)s does not pay the months ahead: they cost %(owed)s at the bill "
                "run's price; take at least that, or say how much to pay and the months it buys"
            )
            % {"amount": amount, "owed": owed},
            field="amount",
            code="short",
        )


def _effect(waiver, kind: str) -> PaymentEffect:
    return PaymentEffect(estate_id=waiver.estate_id, kind=kind, waiver=waiver)


def prepayment_over_cap(party: Party, *, today: date | None = None) -> Decimal:
    """How much of the party's prepayment is beyond the estate's cap (0 within it): money
    received by the bank that the estate should refund."""
    cap = _prepayment_cap(party, None, business_today(today))
    if cap is None:
        return ZERO
    return max(ZERO, prepayment_total(party.pk) - cap)


def _prepayment_cap(party: Party, unit: Unit | None, today: date) -> Decimal | None:
    """The most prepayment the party may hold: the estate's cap in months times the monthly
    fees of the unit (or of all the party's current units)."""
    cap = settings_of(party.estate_id).prepayment_cap_months
    if cap is None:
        return None
    from wuye.fees.selectors import recurring_items
    from wuye.registry.models import UnitParty

    units = (
        [unit]
        if unit is not None
        else list(
            Unit.objects.filter(
                pk__in=UnitParty.objects.filter(party=party, end_date__isnull=True).values(
                    "unit_id"
                )
            )
        )
    )
    monthly = ZERO
    for u in units:
        for item in recurring_items(party.estate_id):
            try:
                monthly += _monthly_fee(u, item, today)
            except (DomainError, ValueError):
                continue
    return money(monthly * cap)


# --- the receipt number and lines -----------------------------------------------------------


def _receipt_lines(
    payment: Payment, allocations: list[Allocation], extra: list[dict], charges: dict[int, Charge]
) -> list:
    """What the receipt prints; `charges` (by id, with fee item and unit) are those paid."""
    lines = []
    for a in allocations:
        c = charges[a.charge_id]
        lines.append(
            {
                "kind": "charge",
                "charge_id": c.pk,
                "item": c.fee_item.name,
                "unit": c.unit.number,
                "period": c.period,
                "from": c.period_start.isoformat(),
                "to": c.period_end.isoformat(),
                "late_fee": c.kind == Charge.Kind.LATE_FEE,
                "text": c.label,
                "amount": str(a.amount),
            }
        )
    if payment.prepaid > 0:
        what = f"预存款（{payment.earmark.name}）" if payment.earmark_id else "预存款"
        lines.append({"kind": "prepayment", "text": what, "amount": str(payment.prepaid)})
    lines.extend(extra)
    return lines


def _change(
    *,
    party: Party,
    unit: Unit | None,
    day: date,
    amount: Decimal,
    remainder: Decimal,
    charges: list[Charge],
    keep: bool,
    pending: Decimal = ZERO,
    capped: bool = True,
) -> Decimal:
    """What of the money left after the charges becomes prepayment: all of it when `keep`,
    within the estate's cap unless not `capped` (`pending`: kept already by earlier payments
    of the same batch), else the payment is refused."""
    if remainder <= 0:
        return ZERO
    if not keep:
        owed = sum((c.outstanding for c in charges), ZERO)
        raise DomainError(
            _(
                "%(amount)s is %(extra)s more than the %(owed)s owed on the charges; "
                "take less, or keep the rest as prepayment"
            )
            % {"amount": amount, "extra": remainder, "owed": owed},
            field="amount",
            code="overpaid",
        )
    cap = _prepayment_cap(party, unit, day) if capped else None
    if cap is not None:
        # all of the party's prepayment, earmarked money included (issue 11 §7)
        balance = prepayment_total(party.pk) + pending
        if balance + remainder > cap:
            raise DomainError(
                _(
                    "the estate caps prepayments at %(cap)s for this owner (balance %(balance)s); "
                    "at most %(more)s more can be kept"
                )
                % {"cap": cap, "balance": balance, "more": max(ZERO, cap - balance)},
                field="amount",
                code="cap",
            )
    return remainder


def _designated_open(
    party: Party, designated: list[int], held: list[Charge], *, skip_settled: bool
) -> list[int]:
    """The designated charges to pay, checked against the party's charges `held` (locked,
    as this transaction sees them, payments planned before in the same batch included).
    With `skip_settled`, those settled meanwhile are left out (an online order's charges);
    none left is refused with code `charges_settled`."""
    open_ids = {c.pk for c in held if c.status == Charge.Status.OPEN}
    if skip_settled:
        still = [i for i in designated if i in open_ids]
        if designated and not still:
            raise DomainError(
                _("every chosen charge was settled"), field="charges", code="charges_settled"
            )
        return still
    for charge in held:  # paid by a payment planned earlier in this batch
        if charge.pk in designated and charge.pk not in open_ids:
            raise DomainError(
                _("%(charge)s is already %(status)s")
                % {"charge": charge.label, "status": charge.get_status_display().lower()},
                field="charges",
                code="not_open",
            )
    _check_designated(party, designated, [c for c in held if c.pk in open_ids])
    return designated


def _apply(charges: dict[int, Charge], plan: list[tuple[int, Decimal]]) -> list[Charge]:
    """Lower the balance of each charge in `plan` by its part, in memory (written by
    `_write`, one UPDATE). The charges are locked and hold `outstanding` as read under that
    lock, which equals `billing.services.charge_outstanding_recompute` (the invariant the
    billing tests check); a positive allocation that leaves nothing owed makes the charge
    paid. The same result as `charge_refresh` per charge, without reading the sources again.
    Returns the charges changed."""
    for charge_id, part in plan:
        left = charges[charge_id].outstanding - part
        if left < 0:
            raise DomainError(
                _("charge %(charge)s would be overpaid by %(excess)s")
                % {"charge": charge_id, "excess": -left},
                field="amount",
            )
    changed = []
    for charge_id, part in plan:
        charge = charges[charge_id]
        charge.outstanding -= part
        if charge.outstanding == 0:
            charge.status = Charge.Status.PAID
        changed.append(charge)
    return changed


@dataclass
class _Taking:
    """A payment planned and checked, not yet written (see `_write`)."""

    actor: object
    party: Party
    payment: Payment
    plan: list[tuple[int, Decimal]]
    charges: dict[int, Charge]  # the charges paid, locked, with fee item and unit
    extra_lines: list[dict] = field(default_factory=list)
    effects: list[PaymentEffect] = field(default_factory=list)


def _write(takings: list[_Taking]) -> list[Payment]:
    """Write planned payments set-wise: the payments (one INSERT ... ON CONFLICT: a twin that
    committed first raises `_Duplicate`, no savepoint needed), their allocations (one
    INSERT), the charges' balances (one UPDATE); then, as the last statements before the
    commit, the numbered documents: the receipts (counter and insert in one statement per
    estate and year), the journal entries (likewise, with their postings), the payments'
    entry links (one UPDATE), prepayment top-ups, and one audit row per payment (one INSERT).
    Counter rows are taken in (estate, year) order, receipts before vouchers, so two
    transactions never wait on each other crosswise."""
    payments = [t.payment for t in takings]
    if not insert_unless_conflict_many(payments):
        raise _Duplicate()  # a concurrent twin won: roll back, return the twin
    allocations: list[list[Allocation]] = [
        [
            Allocation(estate_id=t.payment.estate_id, payment=t.payment, charge_id=cid, amount=part)
            for cid, part in t.plan
        ]
        for t in takings
    ]
    insert_many([a for group in allocations for a in group])
    for t in takings:
        for effect in t.effects:
            effect.payment = t.payment
    insert_many([e for t in takings for e in t.effects])
    changed = {c.pk: c for t in takings for cid, _ in t.plan for c in [t.charges[cid]]}
    update_rows(Charge, ["outstanding", "status"], list(changed.values()))
    receivables_changed(  # the payments' allocations name their charges (billing.events)
        payment_ids=[p.pk for p in payments],
        money_days={(p.estate_id, p.business_date) for p in payments},
    )

    # The numbered documents last: their counter rows stay locked until the commit.
    receipts = []
    for t, paid in zip(takings, allocations, strict=True):
        receipt = Receipt(
            estate_id=t.payment.estate_id,
            year=t.payment.business_date.year,
            payment=t.payment,
            lines=_receipt_lines(t.payment, paid, t.extra_lines, t.charges),
            issued_by=user_or_none(t.actor),
        )
        receipt.estate = t.party.estate
        receipts.append(receipt)
    insert_numbered_many(receipts, ReceiptCounter)
    entries = entries_post(
        entries=[
            NewEntry(
                estate_id=t.payment.estate_id,
                date=t.payment.business_date,
                memo=f"收款 {receipt.code} {t.party.name}"[:200],
                lines=_entry_lines(t.payment),
                idempotency_key=f"payment:{t.payment.pk}",
                source_type="payment",
                source_id=t.payment.pk,
                actor=t.actor,
            )
            for t, receipt in zip(takings, receipts, strict=True)
        ],
        audit=False,  # the payment's audit row below names the voucher
    )
    for payment, entry in zip(payments, entries, strict=True):
        payment.entry_id = entry.pk
    update_rows(Payment, ["entry_id"], payments)
    insert_many(
        [
            PrepaymentMovement(
                estate_id=p.estate_id,
                party_id=p.party_id,
                fee_item_id=p.earmark_id,
                kind=PrepaymentMovement.Kind.TOPUP,
                amount=p.prepaid,
                date=p.business_date,
                memo=f"收据 {receipt.code}",
                source_type="payment",
                source_id=str(p.pk),
                entry_id=p.entry_id,
                idempotency_key=f"payment-topup:{p.pk}",
            )
            for p, receipt in zip(payments, receipts, strict=True)
            if p.prepaid > 0
        ]
    )
    insert_many(
        [
            audit_event(
                actor=t.actor,
                action=AuditEvent.Action.POST,
                subject=t.payment,
                subject_repr=f"{_channel(t.payment.channel)} {t.payment.amount} ({t.party})",
                summary=Summary(
                    gettext_noop("%(amount)s received, receipt %(code)s, voucher %(voucher)s"),
                    amount=t.payment.amount,
                    code=receipt.code,
                    voucher=entry.voucher,
                ),
                after={
                    "amount": t.payment.amount,
                    "allocated": t.payment.allocated,
                    "prepaid": t.payment.prepaid,
                    "rounded_off": t.payment.rounded_off,
                    "receipt": receipt.code,
                    "voucher": entry.voucher,
                },
            )
            for t, receipt, entry in zip(takings, receipts, entries, strict=True)
        ]
    )
    return payments


_labels: dict[tuple[str, str], str] = {}


def _channel(value: str) -> str:
    """`get_channel_display()` in the active language, looked up once per process (Django
    builds the choices' dictionary again on every call)."""
    key = (translation.get_language() or "", value)
    if key not in _labels:
        _labels[key] = str(Payment.Channel(value).label)
    return _labels[key]


def _entry_lines(payment: Payment) -> list[Line]:
    """Dr the channel's account; Cr receivable (applied) and prepayments (kept)."""
    lines = [
        Line(CHANNEL_ACCOUNTS[payment.channel], debit=payment.amount, party_id=payment.party_id)
    ]
    if payment.allocated:
        lines.append(Line(chart.RECEIVABLE, credit=payment.allocated))
    if payment.prepaid:
        lines.append(Line(chart.PREPAYMENTS, credit=payment.prepaid, party_id=payment.party_id))
    return lines


# --- taking a payment -----------------------------------------------------------------------


def _replay(payment: Payment, *, party: Party, amount: Decimal, channel: str) -> Payment:
    if (payment.party_id, payment.amount, payment.channel) != (party.pk, amount, channel):
        raise DomainError(
            _(
                "this request was already used for another payment (%(amount)s by "
                "%(party)s); start a new one"
            )
            % {"amount": payment.amount, "party": payment.party},
            field="idempotency_key",
            code="conflict",
        )
    return payment


def _taken_before(
    key: str | None, channel: str, ref: str, slip: tuple | None = None
) -> tuple[Payment | None, ...]:
    """(the payment of idempotency key `key`, the payment of `channel` + `ref`): one
    hand-written statement, the payments loaded only when found (a replay). A POS slip's
    reference counts only within `slip` = (estate id, terminal, business day): the same
    6-digit number on another day, terminal or estate is another slip (issue 11 §10)."""
    if not key and not ref:
        return None, None
    quote = connection.ops.quote_name
    same_ref = "channel = %s AND external_ref = %s AND external_ref <> ''"
    params = [key or None, channel, ref or ""]
    if channel == Payment.Channel.POS:
        same_ref += " AND estate_id = %s AND terminal = %s AND business_date = %s"
        params += list(slip)
    sql = (
        f"SELECT id, idempotency_key, channel, external_ref FROM {quote(Payment._meta.db_table)} "  # noqa: S608
        f"WHERE idempotency_key = %s OR ({same_ref})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None, None
    found = {p.pk: p for p in Payment.objects.filter(pk__in=[r[0] for r in rows])}
    by_key = next((found[r[0]] for r in rows if key and r[1] == key), None)
    by_ref = next((found[r[0]] for r in rows if ref and r[2] == channel and r[3] == ref), None)
    return by_key, by_ref


def _same_slip(channel: str, ref: str, *, party: Party, terminal: str, today) -> dict:
    """The lookup of the payment of reference `ref`: for a POS slip, within its estate,
    terminal and business day."""
    where = {"channel": channel, "external_ref": ref}
    if channel == Payment.Channel.POS:
        where.update(
            estate_id=party.estate_id,
            terminal=(terminal or "").strip(),
            business_date=business_today(today),
        )
    return where


class _Duplicate(Exception):
    """A concurrent request with the same idempotency key or reference committed first."""


def payment_take(**kwargs) -> Payment:
    """Take a payment (see `_payment_take`). A concurrent twin of the same request (same
    idempotency key or channel + reference) that commits first makes this one roll back
    entirely and return the twin's payment: one posting, whoever wins.

    `actor` is the cashier (or API user) taking the payment, a named `SystemActor` (online
    payments, bank files), or None: the system (`wuye.audit.services.SYSTEM`)."""
    if kwargs.get("actor") is None:
        kwargs["actor"] = SYSTEM
    try:
        return _payment_take(**kwargs)
    except _Duplicate:
        key = (kwargs.get("idempotency_key") or "").strip()
        ref = (kwargs.get("external_ref") or "").strip()
        found = None
        if key:
            found = Payment.objects.filter(idempotency_key=key).first()
        if found is None and ref:
            found = Payment.objects.filter(
                **_same_slip(
                    kwargs["channel"],
                    ref,
                    party=kwargs["party"],
                    terminal=kwargs.get("terminal", ""),
                    today=kwargs.get("today"),
                )
            ).first()
        if found is None:
            raise
        return _replay(
            found,
            party=kwargs["party"],
            amount=money_in(kwargs["amount"]),
            channel=kwargs["channel"],
        )


@transaction.atomic
def _payment_take(
    *,
    actor,
    party: Party,
    amount,
    channel: str,
    external_ref: str = "",
    terminal: str = "",
    unit: Unit | None = None,
    charge_ids: list[int] | None = None,
    pay_ahead: PayAhead | None = None,
    keep_change_as_prepayment: bool = False,
    earmark: FeeItem | None = None,
    round_off: bool = False,
    idempotency_key: str | None = None,
    source: str = Payment.Source.WINDOW,
    payer_name: str = "",
    note: str = "",
    today: date | None = None,
    skip_settled: bool = False,
    received: bool = False,
    value_date: date | None = None,
) -> Payment:
    """Take `amount` from `party` by `channel` and apply it: to `charge_ids` in that order if
    the payer designates charges, else oldest due first (late fees before principal within a
    period); with `pay_ahead`, first create and pay the unit's future charges. Money left over
    becomes prepayment only when `keep_change_as_prepayment` (else the request is refused),
    within the estate's cap. With `round_off` and the estate's 抹零 switch on, the small change
    of what is due is waived. Issues the numbered receipt and posts one journal entry.
    `skip_settled` pays only those of `charge_ids` still open (an online order whose charges
    were partly settled meanwhile; none left is refused with code `charges_settled`).
    `received`: the bank has moved the money already (a transfer, an auto-debit): it is
    recorded in full, the change kept as prepayment even beyond the estate's cap (the cap is
    what the window accepts; finance refunds what the estate will not hold, see
    `prepayment_over_cap`), since refusing it would leave the books short of the bank.
    Money already received (online, bank, `received`) that arrives after its day was signed
    off is booked on the next open business day (`booking_day`): the owner's charges are
    settled all the same. `value_date` is when the money moved (the bank's booking date);
    it defaults to today.

    The same `idempotency_key` (or channel + `external_ref`) again returns the payment already
    taken, without posting twice."""
    require_perm(actor, "payments.take_payment")
    require_estate(actor, party.estate_id)
    if channel not in Payment.Channel.values or channel == Payment.Channel.PREPAYMENT:
        raise DomainError(
            _("unknown payment method %(method)s") % {"method": repr(channel)}, field="method"
        )
    amount = money_in(amount)
    external_ref = (external_ref or "").strip()
    if channel in (Payment.Channel.POS, Payment.Channel.TRANSFER) and not external_ref:
        raise DomainError(
            _("enter the reference (POS voucher number or bank reference)"), field="external_ref"
        )
    key = (idempotency_key or "").strip() or None
    terminal = (terminal or "").strip()[:32] if channel == Payment.Channel.POS else ""
    by_key, by_ref = _taken_before(
        key, channel, external_ref, (party.estate_id, terminal, business_today(today))
    )
    if by_key is not None:
        return _replay(by_key, party=party, amount=amount, channel=channel)
    if (found := by_ref) is not None:
        if found.party_id == party.pk and found.amount == amount:
            return found
        raise DomainError(
            _("reference %(ref)s is already recorded for a payment of %(amount)s by %(party)s")
            % {"ref": external_ref, "amount": found.amount, "party": found.party},
            field="external_ref",
            code="duplicate",
        )
    if unit is not None and unit.estate_id != party.estate_id:
        raise DomainError(_("the unit belongs to another estate"), field="unit")
    if unit is not None:
        _check_payer_of(party, unit)
    if earmark is not None and earmark.estate_id != party.estate_id:
        raise DomainError(_("the fee item belongs to another estate"), field="earmark")
    day = business_today(today)
    if value_date is None:
        value_date = day
    if source in (Payment.Source.ONLINE, Payment.Source.BANK) or received:
        # money already received: after the day's sign-off, the next open business day
        day = booking_day(party.estate_id, day)
    else:
        require_day_open(party.estate_id, day)
    shift = None
    # cash taken through the API is in the caller's drawer like the window's (issue 11 §22)
    if source == Payment.Source.WINDOW or (
        source == Payment.Source.API and channel == Payment.Channel.CASH
    ):
        shift = open_shift_of(actor, party.estate_id)
        if shift is None:
            raise DomainError(_("open your shift before taking payments"), field="shift")
        shift = lock_shift(shift)
        if not shift.is_open:
            raise DomainError(_("the shift is closed"), field="shift")

    # Lock order (`locks`): shift -> unit -> charges -> receipt counter -> voucher counter.
    # The counters are taken by `_write` as the last statements; a rollback gives their
    # numbers back.
    if unit is not None:
        lock_units([unit.pk])
    designated = list(dict.fromkeys(int(i) for i in (charge_ids or [])))
    # A payment for a unit the payer does not designate charges of settles that unit's
    # charges only (issue 11 §8): only they are read and locked.
    held = _open_charges(party, unit_id=unit.pk if unit is not None and not designated else None)
    if designated:
        designated = _designated_open(party, designated, held, skip_settled=skip_settled)
    extra_lines: list[dict] = []
    effects: list[PaymentEffect] = []  # what a void must undo (issue 11 §3)
    # one token per payment attempt for the waivers' keys (the receipt number comes last)
    attempt = hashlib.sha256(key.encode()).hexdigest()[:16] if key else secrets.token_hex(8)
    ahead_ids: list[int] = []
    leftover = ZERO
    if pay_ahead is not None:
        if unit is None:
            raise DomainError(_("paying ahead needs the unit"), field="unit")
        in_arrears = Charge.objects.filter(
            unit=unit, status=Charge.Status.OPEN, due_date__lt=day
        ).exists()
        ahead, due, months, offer, leftover, ahead_effects = _pay_ahead(
            actor=actor,
            unit=unit,
            plan=pay_ahead,
            today=day,
            in_arrears=in_arrears,
            attempt=attempt,
        )
        effects += ahead_effects
        ahead_ids = [c.pk for c in ahead if c.party_id == party.pk]
        if offer is not None:
            extra_lines.append({"kind": "offer", "text": f"优惠：{offer.name}", "amount": "0.00"})
        designated = designated + [i for i in ahead_ids if i not in designated]
        if pay_ahead.amount is not None and leftover > 0:
            keep_change_as_prepayment = True
            earmark = earmark or pay_ahead.fee_item

    if pay_ahead is not None:  # new charges, offers waived: read them again
        charges = _open_charges(party, designated or None)
    else:
        charges = [c for c in held if c.pk in set(designated)] if designated else held
    if designated:
        order = {cid: n for n, cid in enumerate(designated)}
        charges.sort(key=lambda c: order.get(c.pk, len(order)))
    if pay_ahead is not None and pay_ahead.amount is None:
        _check_covers_ahead(party, amount, charges, round_off=round_off)
    rounded_off = ZERO
    if round_off:
        cfg = settings_of(party.estate_id)
        if not cfg.round_small_change:
            raise DomainError(_("this estate does not round off small change"), field="round_off")
        targets = charges
        due_total = sum((c.outstanding for c in targets), ZERO)
        collect, dropped = calculations.round_off(due_total, cfg.round_unit)
        # only when the payer pays less than owed, and at least the rounded figure
        if dropped > 0 and collect <= amount < due_total:
            rounded_off = dropped
            # Waive the dropped change on the charge paid last (the newest in line).
            ordered = (
                targets
                if designated
                else [
                    next(c for c in targets if c.pk == o.id)
                    for o in calculations.allocation_order(
                        _as_open(targets),
                        late_fees_first=_late_fees_first(party.estate_id, day, targets),
                    )
                ]
            )
            left = dropped
            for charge in reversed(ordered):
                if left <= 0:
                    break
                part = min(left, charge.outstanding)
                waiver = waiver_grant(
                    actor=actor,
                    charge=charge,
                    amount=part,
                    reason="抹零",
                    idempotency_key=f"payments:round:{attempt}:{charge.pk}",
                    day=day,
                    policy="small_change",
                )
                effects.append(_effect(waiver, PaymentEffect.Kind.ROUND_OFF))
                left -= part
            charges = [c for c in _open_charges(party, [c.pk for c in charges])]
            if designated:
                charges.sort(key=lambda c: order.get(c.pk, len(order)))

    plan, remainder = calculations.allocate(
        amount,
        _as_open(charges),
        designated=[c.pk for c in charges] if designated else None,
        late_fees_first=not designated and _late_fees_first(party.estate_id, day, charges),
    )
    prepaid = _change(
        party=party,
        unit=unit,
        day=day,
        amount=amount,
        remainder=remainder,
        charges=charges,
        keep=keep_change_as_prepayment,
        capped=not received,
    )

    allocated = sum((part for _, part in plan), ZERO)
    by_id = {c.pk: c for c in charges}
    _apply(by_id, plan)
    if rounded_off:
        extra_lines.append({"kind": "round_off", "text": "抹零", "amount": str(rounded_off)})
    payment = Payment(
        estate_id=party.estate_id,
        party=party,
        unit=unit,
        shift=shift,
        channel=channel,
        source=source,
        external_ref=external_ref,
        terminal=terminal,
        amount=amount,
        allocated=allocated,
        prepaid=prepaid,
        rounded_off=rounded_off,
        earmark=earmark if prepaid > 0 else None,
        business_date=day,
        value_date=value_date,
        payer_name=(payer_name or "").strip()[:100],
        note=(note or "").strip()[:255],
        idempotency_key=key,
        created_by=user_or_none(actor),
    )
    taking = _Taking(
        actor=actor,
        party=party,
        payment=payment,
        plan=plan,
        charges=by_id,
        extra_lines=extra_lines,
        effects=effects,
    )
    return _write([taking])[0]


# --- taking many payments at once -------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    """One payment for `payments_take`: money that names the charges it pays (an online
    order, a line of a bank file), with the arguments `payment_take` takes for it."""

    party: Party
    amount: Decimal
    channel: str
    charge_ids: tuple[int, ...]
    idempotency_key: str
    external_ref: str = ""
    keep_change_as_prepayment: bool = False
    skip_settled: bool = False
    source: str = Payment.Source.ONLINE
    note: str = ""
    value_date: date | None = None


def payments_take(
    *,
    actor=None,
    requests: Sequence[PaymentRequest],
    today: date | None = None,
    shift: CashierShift | None = None,
) -> list[Payment | DomainError]:
    """Take several payments at once, each exactly as `payment_take` takes it with the same
    arguments (its designated charges in that order, the change kept as prepayment when
    asked and within the cap, its receipt and journal entry), in one transaction and
    set-wise: one replay lookup, one day-close check, one statement locking every party's
    open charges (in primary-key order), then `_write` for all. Payments of the same party
    see each other (a charge paid by the first is no longer open for the second).

    Returns, per request, its payment (the one taken before under its key, for a replay)
    or the DomainError that refused it; a refused request writes nothing, the others are
    written.

    Window payments are taken one by one by `payment_take`, except a batch of the window's
    own slips: with `shift` (the actor's open shift, for a day still open), requests of
    source `window` are taken into that shift -- the takings of a collection day (集中收费日)
    the cashier enters together; no change is given and nothing is rounded off."""
    actor = actor if actor is not None else SYSTEM
    try:
        return _payments_take(actor=actor, requests=list(requests), today=today, shift=shift)
    except _Duplicate:
        # a twin committed between the lookup and the insert: the lookup now finds it
        return _payments_take(actor=actor, requests=list(requests), today=today, shift=shift)


def _batch_shift(actor, shift: CashierShift | None, day: date) -> CashierShift | None:
    """The shift a batch of window slips goes into, locked: the actor's own, open, and its
    estate's day open."""
    if shift is None:
        return None
    shift = lock_shift(shift)
    if not shift.is_open:
        raise DomainError(_("the shift is closed"), field="shift")
    if shift.cashier_id != getattr(actor, "pk", None):
        raise DomainError(_("open your shift before taking payments"), field="shift")
    require_day_open(shift.estate_id, day)
    return shift


@transaction.atomic
def _payments_take(*, actor, requests: list[PaymentRequest], today, shift=None) -> list:
    require_perm(actor, "payments.take_payment")
    day = business_today(today)
    shift = _batch_shift(actor, shift, day)
    results: list = [None] * len(requests)
    checked = []
    for i, r in enumerate(requests):
        try:
            require_estate(actor, r.party.estate_id)
            if r.channel not in Payment.Channel.values or r.channel == Payment.Channel.PREPAYMENT:
                raise DomainError(
                    _("unknown payment method %(method)s") % {"method": repr(r.channel)},
                    field="method",
                )
            if r.source == Payment.Source.WINDOW and (
                shift is None or shift.estate_id != r.party.estate_id
            ):
                raise DomainError(
                    _("a window payment is taken in the cashier's shift"), field="source"
                )
            key = (r.idempotency_key or "").strip()
            if not key:
                raise DomainError(
                    _("each payment needs its idempotency key"), field="idempotency_key"
                )
            checked.append((i, r, money_in(r.amount), key, (r.external_ref or "").strip()))
        except DomainError as exc:
            results[i] = exc
    before = _taken_before_many(checked)
    closed = _closed_estates({r.party.estate_id for _, r, _, _, _ in checked}, day)
    # money already received after its day's sign-off: the next open business day
    days = {estate_id: booking_day(estate_id, day) for estate_id in closed}
    held: dict[int, list[Charge]] = {}
    for charge in _open_charges(sorted({r.party.pk for __, r, __, __, __ in checked})):
        held.setdefault(charge.party_id, []).append(charge)
    kept: dict[int, Decimal] = {}
    planned = []
    for i, r, amount, key, ref in checked:
        try:
            if (found := before.get(("key", key))) is not None:
                results[i] = _replay(found, party=r.party, amount=amount, channel=r.channel)
                continue
            if ref and (found := before.get(("ref", r.channel, ref))) is not None:
                if found.party_id == r.party.pk and found.amount == amount:
                    results[i] = found
                    continue
                raise DomainError(
                    _(
                        "reference %(ref)s is already recorded for a payment of %(amount)s "
                        "by %(party)s"
                    )
                    % {"ref": ref, "amount": found.amount, "party": found.party},
                    field="external_ref",
                    code="duplicate",
                )
            mine = held.get(r.party.pk, [])
            designated = list(dict.fromkeys(int(c) for c in r.charge_ids))
            if designated:
                designated = _designated_open(
                    r.party, designated, mine, skip_settled=r.skip_settled
                )
                order = {cid: n for n, cid in enumerate(designated)}
                charges = sorted((c for c in mine if c.pk in order), key=lambda c: order[c.pk])
            else:
                charges = [c for c in mine if c.status == Charge.Status.OPEN]
            plan, remainder = calculations.allocate(
                amount,
                _as_open(charges),
                designated=designated or None,
                late_fees_first=not designated
                and _late_fees_first(r.party.estate_id, day, charges),
            )
            prepaid = _change(
                party=r.party,
                unit=None,
                day=day,
                amount=amount,
                remainder=remainder,
                charges=charges,
                keep=r.keep_change_as_prepayment,
                pending=kept.get(r.party.pk, ZERO),
            )
            by_id = {c.pk: c for c in charges}
            _apply(by_id, plan)
            kept[r.party.pk] = kept.get(r.party.pk, ZERO) + prepaid
            window = r.source == Payment.Source.WINDOW
            payment = Payment(
                estate_id=r.party.estate_id,
                party=r.party,
                shift=shift if window else None,
                channel=r.channel,
                source=r.source,
                external_ref=ref,
                amount=amount,
                allocated=sum((part for _, part in plan), ZERO),
                prepaid=prepaid,
                business_date=day if window else days.get(r.party.estate_id, day),
                value_date=r.value_date or day,
                note=(r.note or "").strip()[:255],
                idempotency_key=key,
                created_by=user_or_none(actor),
            )
            taking = _Taking(actor=actor, party=r.party, payment=payment, plan=plan, charges=by_id)
            planned.append((i, taking))
        except DomainError as exc:
            results[i] = exc
    written = _write([t for _, t in planned]) if planned else []
    for (i, __), payment in zip(planned, written, strict=True):
        results[i] = payment
    return results


def _taken_before_many(checked: list) -> dict:
    """The payments already taken under the requests' keys or (channel, reference): one
    statement; {("key", key): payment, ("ref", channel, ref): payment}."""
    keys = [key for _, _, _, key, _ in checked]
    refs = [ref for _, _, _, _, ref in checked if ref]
    if not keys and not refs:
        return {}
    where, params = [], []
    for column, values in (("idempotency_key", keys), ("external_ref", refs)):
        if values:
            clause, more = any_of(column, values)
            where.append(clause)
            params += more
    quote = connection.ops.quote_name
    sql = f"SELECT id FROM {quote(Payment._meta.db_table)} WHERE {' OR '.join(where)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    found: dict = {}
    for p in Payment.objects.filter(pk__in=ids) if ids else []:
        if p.idempotency_key:
            found[("key", p.idempotency_key)] = p
        if p.external_ref:
            found[("ref", p.channel, p.external_ref)] = p
    return found


def _closed_estates(estate_ids: set[int], day: date) -> set[int]:
    """The estates among `estate_ids` whose business day `day` is signed off (one query)."""
    if not estate_ids:
        return set()
    return set(
        DayClose.objects.filter(estate_id__in=estate_ids, business_date=day).values_list(
            "estate_id", flat=True
        )
    )


def prepayment_total(party_id: int) -> Decimal:
    """All of the party's prepayment: general money and money earmarked for any item (what
    the estate's cap counts)."""
    return PrepaymentMovement.objects.filter(party_id=party_id).aggregate(s=MoneySum("amount"))["s"]


AUTO_APPLY = SystemActor("prepayment")


@transaction.atomic
def prepayment_apply(
    *,
    actor,
    party: Party,
    charge_ids: list[int] | None = None,
    today: date | None = None,
    source: str = Payment.Source.WINDOW,
    due_by: date | None = None,
    run_id: int | None = None,
    unit: Unit | None = None,
) -> Payment | None:
    """Pay the party's open charges (or the designated ones) from their prepayment balance:
    money earmarked for a charge's item first, then general money (only for items that may be
    paid from prepayment). Money earmarked for another item is never touched. Returns the
    payment of channel `prepayment`, or None when nothing could be applied.

    `due_by` pays only charges due on or before that day, `run_id` only a bill run's charges,
    `unit` only that unit's charges (the window's "apply prepayment" button). With `source`
    `auto` (the automatic application when charges fall due, `prepayment_auto_apply`) a
    signed-off day books it on the next open business day instead of refusing.

    Lock order (`locks`): party -> charges -> counters; the party lock makes every use and
    every refund of the party's prepayment wait for each other (the pools are read under it)."""
    require_perm(actor, "payments.take_payment")
    require_estate(actor, party.estate_id)
    day = business_today(today)
    if source == Payment.Source.AUTO:
        day = booking_day(party.estate_id, day)
    else:
        require_day_open(party.estate_id, day)
    lock_party(party.pk)  # lock order: party -> charges (`locks`)
    designated = list(dict.fromkeys(int(i) for i in (charge_ids or [])))
    if designated:
        _check_designated(party, designated)
    charges = [
        c
        for c in _open_charges(party, designated or None)
        if (due_by is None or c.due_date <= due_by)
        and (run_id is None or c.run_id == run_id)
        and (unit is None or c.unit_id == unit.pk)
    ]
    by_id = {c.pk: c for c in charges}
    order = designated or [
        o.id
        for o in calculations.allocation_order(
            _as_open(charges), late_fees_first=_late_fees_first(party.estate_id, day, charges)
        )
    ]
    pools: dict[int | None, Decimal] = {}
    for fee_item_id, total in (
        PrepaymentMovement.objects.filter(party=party)
        .order_by()
        .values("fee_item_id")
        .annotate(s=MoneySum("amount"))
        .values_list("fee_item_id", "s")
    ):
        pools[fee_item_id] = total
    plan: list[tuple[int, Decimal, int | None]] = []
    for cid in order:
        charge = by_id.get(cid)
        if charge is None:
            continue
        need = charge.outstanding
        sources = [charge.fee_item_id]
        if charge.fee_item.prepayment_offset:
            sources.append(None)
        for pool in sources:
            have = pools.get(pool, ZERO)
            if need <= 0 or have <= 0:
                continue
            part = min(need, have)
            plan.append((cid, part, pool))
            pools[pool] = have - part
            need -= part
    if not plan:
        return None
    total = sum((part for _, part, _ in plan), ZERO)
    payment = Payment.objects.create(
        estate_id=party.estate_id,
        party=party,
        unit=unit,
        channel=Payment.Channel.PREPAYMENT,
        source=source,
        amount=total,
        allocated=total,
        business_date=day,
        note="自动冲抵" if source == Payment.Source.AUTO else "",
        created_by=user_or_none(actor),
    )
    merged: dict[int, Decimal] = {}
    for cid, part, __ in plan:
        merged[cid] = merged.get(cid, ZERO) + part
    Allocation.objects.bulk_create(
        [
            Allocation(estate_id=party.estate_id, payment=payment, charge_id=cid, amount=part)
            for cid, part in merged.items()
        ]
    )
    for cid in merged:
        charge_refresh(charge=by_id[cid])
    entry = entry_post(
        estate=party.estate_id,
        date=day,
        memo=f"预存款冲抵 {party.name}"[:200],
        lines=[
            Line(chart.PREPAYMENTS, debit=total, party_id=party.pk),
            Line(chart.RECEIVABLE, credit=total),
        ],
        idempotency_key=f"payment:{payment.pk}",
        source_type="payment",
        source_id=payment.pk,
        actor=actor,
    )
    Payment.objects.filter(pk=payment.pk).update(entry_id=entry.pk)
    payment.entry_id = entry.pk
    used: dict[int | None, Decimal] = {}
    for __, part, pool in plan:
        used[pool] = used.get(pool, ZERO) + part
    insert_many(
        [
            PrepaymentMovement(
                estate_id=party.estate_id,
                party=party,
                fee_item_id=pool,
                kind=PrepaymentMovement.Kind.APPLIED,
                amount=-part,
                date=day,
                memo="冲抵应收",
                source_type="payment",
                source_id=str(payment.pk),
                entry_id=entry.pk,
                idempotency_key=f"payment-applied:{payment.pk}:{pool or 0}",
            )
            for pool, part in used.items()
        ]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.POST,
        subject=payment,
        summary=Summary(gettext_noop("paid from the prepayment balance")),
    )
    return payment


def prepayment_auto_apply(
    *, estate_id: int, as_of: date, run_id: int | None = None, actor=None
) -> list[Payment]:
    """Apply prepayment automatically when charges fall due (DESIGN.md §4, ADR 0012): for
    every party of the estate holding prepayment, pay from it (`prepayment_apply`, source
    `auto`) the charges of bill run `run_id` (right after the run posted), or without a run
    every open charge due on or before `as_of` (the daily job, before late fees are assessed;
    imported opening balances and money kept at the window alike). Earmarked money pays only
    its item, general money any item that may be paid from prepayment; oldest due first.

    Each party is its own transaction (party -> charges -> counters), so a refusal for one
    (say, its charges settled meanwhile) never holds back the others; it is logged. Running
    it again applies nothing twice: what was applied is no longer prepayment. Returns the
    uses of prepayment written."""
    # the system applies it (whoever posted the run or assessed the fees): the audit rows
    # name the `prepayment` system actor, and a cashier's permission is not needed
    del actor
    holding = (
        PrepaymentMovement.objects.filter(estate_id=estate_id)
        .order_by()
        .values("party_id")
        .annotate(s=MoneySum("amount"))
        .filter(s__gt=0)
        .values("party_id")
    )
    due = Charge.objects.filter(
        estate_id=estate_id, status=Charge.Status.OPEN, party_id__in=holding
    )
    due = due.filter(run_id=run_id) if run_id is not None else due.filter(due_date__lte=as_of)
    party_ids = sorted(set(due.values_list("party_id", flat=True)))
    done = []
    for party in Party.objects.filter(pk__in=party_ids).order_by("pk"):
        try:
            used = prepayment_apply(
                actor=AUTO_APPLY,
                party=party,
                source=Payment.Source.AUTO,
                due_by=None if run_id is not None else as_of,
                run_id=run_id,
                # dated the day the charges fell due (a run billed as of the 1st and posted
                # later is paid from prepayment on the 1st), never later than today; a
                # signed-off day moves it to the next open one (`prepayment_apply`)
                today=min(as_of, business_today(None)),
            )
        except DomainError as exc:
            log.warning("prepayment of party %s not applied: %s", party.pk, exc.message)
            continue
        if used is not None:
            done.append(used)
    return done
