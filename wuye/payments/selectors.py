"""Reads of the window: a unit's account, payments and shifts lists, the daily business report
(營業日報), whether a unit is settled. Staff reads are scoped to the user's estates."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from wuye.billing.models import Charge, PrepaymentMovement, Waiver
from wuye.core.money import ZERO, MoneySum
from wuye.core.names import person_name
from wuye.registry.models import Party, Unit
from wuye.registry.selectors import payer_on, scope, unit_search

from .models import (
    Allocation,
    CashierShift,
    InvoiceRequest,
    Payment,
    PaymentReversal,
    Receipt,
    RefundPayout,
)


def window_search(user, q: str, limit: int = 20) -> list[Unit]:
    """Units matching a unit number, an owner's name or a phone tail (indexed lookups)."""
    if not (q or "").strip():
        return []
    return list(unit_search(user, q=q).order_by("number")[:limit])


def unit_account(unit: Unit, on: date) -> dict:
    """What the window shows for a unit: its payer, the payer's own open charges of the unit
    (oldest due first) and prepayment balances (general and per earmarked item).

    After a change of owner a previous owner's open charges of the unit stay his (issue 11
    §9): they are not shown under the payer's name, only counted in `others_total` (they
    are collected from him). A unit with no payer shows every open charge."""
    party = payer_on(unit, on)
    open_charges = Charge.objects.filter(unit=unit, status=Charge.Status.OPEN)
    others = open_charges.exclude(party=party) if party else open_charges.none()
    if party:
        open_charges = open_charges.filter(party=party)
    charges = list(
        open_charges.select_related("fee_item", "party").order_by("due_date", "period", "id")
    )
    balances = prepayment_balances(party.pk) if party else []
    return {
        "unit": unit,
        "party": party,
        "charges": charges,
        "arrears": sum((c.outstanding for c in charges if c.due_date < on), ZERO),
        "open_total": sum((c.outstanding for c in charges), ZERO),
        "prepayments": balances,
        "prepayment_total": sum((b["amount"] for b in balances), ZERO),
        "others_total": others.aggregate(s=MoneySum("outstanding"))["s"],
    }


def prepayment_balances(party_id: int) -> list[dict]:
    """[{"fee_item": name or "", "fee_item_id": id or None, "amount": Decimal}, ...]."""
    rows = (
        PrepaymentMovement.objects.filter(party_id=party_id)
        .order_by()
        .values("fee_item_id", "fee_item__name")
        .annotate(s=MoneySum("amount"))
    )
    return [
        {"fee_item_id": r["fee_item_id"], "fee_item": r["fee_item__name"] or "", "amount": r["s"]}
        for r in rows
        if r["s"]
    ]


def unit_arrears(unit: Unit, on: date) -> list[Charge]:
    """Open charges of the unit already due on `on` owed by its payer on that day (what
    blocks his settled certificate); a previous owner's debt is his, not the unit's."""
    party = payer_on(unit, on)
    charges = Charge.objects.filter(unit=unit, status=Charge.Status.OPEN, due_date__lte=on)
    if party is not None:
        charges = charges.filter(party=party)
    return list(charges.select_related("fee_item").order_by("due_date", "id"))


def payments_for(
    user,
    *,
    estate_id=None,
    business_date=None,
    party_id=None,
    unit: str = "",
    owner: str = "",
    method: str = "",
    cashier_id=None,
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
) -> QuerySet:
    """Payments of the user's estates, newest first. `unit` matches the unit number (part of
    it: 301 finds 1-1-301), `owner` the payer's name or payment reference, `method` the
    channel, `cashier_id` who took it, `amount_min`/`amount_max` the amount (both ends in)."""
    qs = scope(
        Payment.objects.select_related("party", "unit", "receipt", "created_by", "estate"), user
    )
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    if business_date:
        qs = qs.filter(business_date=business_date)
    if party_id:
        qs = qs.filter(party_id=party_id)
    if unit:
        qs = qs.filter(unit__number__icontains=unit.strip())
    if owner:
        owner = owner.strip()
        qs = qs.filter(
            Q(party__name__icontains=owner)
            | Q(payer_name__icontains=owner)
            | Q(party__payment_ref=owner)
        )
    if method:
        qs = qs.filter(channel=method)
    if cashier_id:
        qs = qs.filter(created_by_id=cashier_id)
    if amount_min is not None:
        qs = qs.filter(amount__gte=amount_min)
    if amount_max is not None:
        qs = qs.filter(amount__lte=amount_max)
    return qs.order_by("-received_at", "-id")


def cashiers_for(user) -> QuerySet:
    """Staff who have taken payments in the user's estates (the payment list's cashier filter)."""
    taken = scope(Payment.objects.all(), user).values("created_by_id")
    return get_user_model().objects.filter(pk__in=taken).order_by("last_name", "first_name", "id")


def shifts_for(user, *, estate_id=None) -> QuerySet:
    qs = scope(CashierShift.objects.select_related("cashier", "estate"), user)
    if estate_id:
        qs = qs.filter(estate_id=estate_id)
    return qs.order_by("-opened_at", "-id")


def reversals_pending(user) -> QuerySet:
    return scope(
        PaymentReversal.objects.filter(status=PaymentReversal.Status.REQUESTED).select_related(
            "payment__party", "payment__receipt", "requested_by"
        ),
        user,
    ).order_by("requested_at", "id")


def invoice_queue(user) -> QuerySet:
    return scope(
        InvoiceRequest.objects.filter(status=InvoiceRequest.Status.REQUESTED).select_related(
            "payment__party", "payment__receipt"
        ),
        user,
    ).order_by("requested_at", "id")


def receipt_by_token(token: str) -> Receipt | None:
    return Receipt.objects.select_related("payment__party", "estate").filter(token=token).first()


def _d(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


# the day report's rows that are no fee item (kept as written in reports frozen before,
# labelled in the reader's language by `report_display`)
PREPAID_ROW = "预存款"
DEPOSITS_PAID_OUT_ROW = "押金退款"
_ROW_LABELS = {
    PREPAID_ROW: gettext_lazy("Prepayment"),
    DEPOSITS_PAID_OUT_ROW: gettext_lazy("Deposit refunds paid out"),
}


def daily_report(*, estate_id: int, business_date: date) -> dict:
    """The daily business report (營業日報) of one estate and day, JSON-safe: money received
    per fee item and method, per cashier, net of the voids and refunds approved that day (a
    receipt voided the day it was issued counts nothing), waivers and small-change
    round-offs, the shifts. Codes, not labels: `report_display` labels them when shown (a
    frozen report reads in the reader's language)."""
    payments = Payment.objects.filter(estate_id=estate_id, business_date=business_date)
    by_method: dict[str, Decimal] = defaultdict(lambda: ZERO)
    by_cashier: dict[str, Decimal] = defaultdict(lambda: ZERO)
    count = 0
    rounded = ZERO
    received = ZERO
    names: dict[int, str] = {}  # user id -> name (staff are named, never by their login)

    def name_of(who: int | None) -> str:
        if who is None:
            return "-"
        if who not in names:
            names[who] = person_name(get_user_model().objects.filter(pk=who).first()) or "-"
        return names[who]

    for channel, who, amount, off in payments.exclude(channel="prepayment").values_list(
        "channel", "created_by", "amount", "rounded_off"
    ):
        by_method[channel] += amount
        by_cashier[name_of(who)] += amount
        received += amount
        rounded += off
        count += 1
    item_method: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for item, channel, amount in Allocation.objects.filter(
        payment__estate_id=estate_id, payment__business_date=business_date, reverses__isnull=True
    ).values_list("charge__fee_item__name", "payment__channel", "amount"):
        item_method[(item, channel)] += amount
    for channel, prepaid in payments.filter(prepaid__gt=0).values_list("channel", "prepaid"):
        item_method[(PREPAID_ROW, channel)] += prepaid
    reversals = PaymentReversal.objects.filter(
        estate_id=estate_id, business_date=business_date, status=PaymentReversal.Status.APPROVED
    ).select_related("payment", "shift")
    voids = refunds = ZERO
    for r in reversals:
        if r.payment.channel == "prepayment":
            continue  # a use of prepayment undone: no money moved
        channel = r.refund_channel or r.payment.channel
        by_method[channel] -= r.amount
        # money handed back at the window leaves the drawer of the shift that paid it back
        # (the shifts close on it); other money is the taking cashier's figure
        by_cashier[name_of(r.shift.cashier_id if r.shift_id else r.payment.created_by_id)] -= (
            r.amount
        )
        if r.kind == PaymentReversal.Kind.VOID:
            voids += r.amount
        else:
            refunds += r.amount
        if r.from_prepayment:
            item_method[(PREPAID_ROW, channel)] -= r.from_prepayment
    # what the voids and refunds of the day took back from charges (`charges` of each)
    taken = [
        (r.payment.channel, int(cid), Decimal(v)) for r in reversals for cid, v in r.charges.items()
    ]
    items = dict(
        Charge.objects.filter(pk__in={cid for __, cid, __ in taken}).values_list(
            "pk", "fee_item__name"
        )
    )
    for channel, cid, amount in taken:
        item_method[(items.get(cid, "-"), channel)] -= amount
    # deposit refunds paid out that day (issue 11 §6): money out of the drawer or the bank
    paid_out = ZERO
    for channel, who, amount in RefundPayout.objects.filter(
        estate_id=estate_id, business_date=business_date
    ).values_list("channel", "paid_by", "amount"):
        by_method[channel] -= amount
        by_cashier[name_of(who)] -= amount
        item_method[(DEPOSITS_PAID_OUT_ROW, channel)] -= amount
        paid_out += amount
    waivers = Waiver.objects.filter(
        estate_id=estate_id, status=Waiver.Status.APPROVED, decided_at__date=business_date
    )
    waived = waivers.aggregate(s=MoneySum("amount"))["s"]
    shifts = CashierShift.objects.filter(estate_id=estate_id, business_date=business_date)
    return {
        "business_date": business_date.isoformat(),
        "payments": count,
        "received": _d(received),
        "total": _d(received - voids - refunds - paid_out),
        "by_method": {k: _d(v) for k, v in sorted(by_method.items()) if v},
        "by_cashier": {k: _d(v) for k, v in sorted(by_cashier.items()) if v},
        "by_item_and_method": [
            {"item": item, "method": channel, "amount": _d(v)}
            for (item, channel), v in sorted(item_method.items())
            if v
        ],
        "voids": _d(voids),
        "refunds": _d(refunds),
        "deposits_paid_out": _d(paid_out),
        "waivers": _d(waived),
        "small_change_rounded_off": _d(rounded),
        "shifts": [
            {
                "cashier": person_name(s.cashier),
                "status": s.status,
                "cash_variance": _d(s.cash_variance) if s.cash_variance is not None else None,
                "pos_variance": _d(s.pos_variance) if s.pos_variance is not None else None,
                "note": s.close_note,
            }
            for s in shifts.select_related("cashier").order_by("opened_at")
        ],
    }


def report_display(report: dict) -> dict:
    """A daily report as shown: payment methods and shift states by their labels in the
    reader's language (the report itself keeps the codes)."""
    methods = dict(Payment.Channel.choices)
    states = dict(CashierShift.Status.choices)
    shown = dict(report)
    shown["by_method"] = [
        {"method": str(methods.get(k, k)), "amount": v} for k, v in report["by_method"].items()
    ]
    shown["by_item_and_method"] = [
        {
            **row,
            "item": str(_ROW_LABELS.get(row["item"], row["item"])),
            "method": str(methods.get(row["method"], row["method"])),
        }
        for row in report["by_item_and_method"]
    ]
    shown["shifts"] = [
        {**row, "status": str(states.get(row["status"], row["status"]))} for row in report["shifts"]
    ]
    shown.setdefault("received", report["total"])
    return shown


def party_units(party: Party) -> QuerySet:
    return Unit.objects.filter(
        Q(relations__party=party) & Q(relations__end_date__isnull=True)
    ).distinct()


def refunds_to_pay_out(user) -> QuerySet:
    """Approved deposit refunds of the user's estates not yet paid out (issue 11 §6), oldest
    decision first."""
    from wuye.billing.models import DepositRelease

    return (
        scope(
            DepositRelease.objects.filter(
                action=DepositRelease.Action.REFUND,
                status=DepositRelease.Status.APPROVED,
                payout__isnull=True,
            ),
            user,
        )
        .select_related("charge__party", "charge__unit", "charge__fee_item")
        .order_by("decided_at", "id")
    )


def refunds_paid_out(user, limit: int = 50) -> list[RefundPayout]:
    """The latest refunds paid out in the user's estates."""
    return list(
        scope(RefundPayout.objects.all(), user)
        .select_related("party", "release__charge__unit", "paid_by")
        .order_by("-paid_at", "-id")[:limit]
    )
