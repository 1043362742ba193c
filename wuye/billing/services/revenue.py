"""Deferred revenue (合同负债, issue 11 §15; DESIGN.md §4).

A regular charge raised in a month *before* the month its period starts (a bill run in
advance, months paid ahead at the window) is not revenue yet: it is posted Dr RECEIVABLE,
Cr CONTRACT_LIABILITY. The monthly recognition (`revenue_recognise`: the scheduled job
`billing.recognise_revenue` and `wuye recognise-revenue`) moves what those charges still carry
to their items' revenue once their month has come, in one entry per estate and month.

Decisions (written down here because nobody answers questions):
- Deferred means: kind regular (or a debit note on a regular charge), an item whose
  treatment is revenue, and `period` (the month the billing cycle starts) later than the
  month of `bill_date` (the entry's date). Both are fixed when the charge is raised, so a bill
  run (one entry per estate and item) and each of its charges always agree. Deposits and
  pass-through money are never revenue; ad hoc charges, late fees and opening balances are
  revenue (or their own accounts) when raised.
- A cycle is recognised whole in the month it starts (a quarterly charge in its first month),
  as bill runs have always booked revenue; spreading a cycle over its months is not done.
- What is recognised for a charge is its amount less its credit notes: before recognition a
  credit note posts back to the contract liability (`charges.charge_account`), after it to
  revenue. Waivers are an expense (WAIVERS) either way and do not touch the liability.
- One recognition per estate and month: asking again posts nothing. It takes every deferred
  charge of its month *or earlier* not yet recognised, so a charge dated back into an earlier
  month after that month's recognition is recognised by the next one.
- A closed accounting period (结账) is refused, as is a month that has not begun.
- Cancelling a recognised charge (a run cancelled, a pay-ahead withdrawn after its void) first
  moves it back (`revenue_unrecognise`: Dr revenue, Cr CONTRACT_LIABILITY), then reverses
  its entry as before, so both accounts return to where they were."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, ExtractMonth, ExtractYear, LPad
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.money import MoneySum
from wuye.fees.models import FeeItem
from wuye.ledger.services import Line, entry_post, period_is_closed
from wuye.registry.models import Estate

from ..models import Charge, CreditNote, RevenueRecognition
from ..periods import Period
from ._common import (
    ZERO,
    AuditEvent,
    DomainError,
    audit_record,
    chart,
    ensure_item_account,
    require_estate,
    require_perm,
)

CHUNK = 5000


def deferred_period(item: FeeItem, period: str, bill_date: date) -> bool:
    """Whether a regular charge of `item` for `period` raised on `bill_date` is an advance
    receipt (its period starts after the month it is raised in)."""
    return item.treatment == FeeItem.Treatment.REVENUE and str(period) > f"{bill_date:%Y-%m}"


def is_deferred(charge: Charge) -> bool:
    """Whether `charge` was credited to the contract liability when it was raised."""
    if charge.kind == Charge.Kind.DEBIT_NOTE:
        if not charge.source_id:
            return False
        kind = Charge.objects.filter(pk=charge.source_id).values_list("kind", flat=True).first()
        if kind != Charge.Kind.REGULAR:
            return False
    elif charge.kind != Charge.Kind.REGULAR:
        return False
    return deferred_period(charge.fee_item, charge.period, charge.bill_date)


def item_posting_account(item: FeeItem, period: str, bill_date: date) -> str:
    """The account a regular charge of `item` for `period` raised on `bill_date` is credited
    to: the contract liability when deferred, else the item's own account."""
    account = ensure_item_account(item)  # the revenue it becomes exists from the start
    return chart.CONTRACT_LIABILITY if deferred_period(item, period, bill_date) else account


def _bill_month():
    return Concat(
        Cast(ExtractYear("bill_date"), CharField()),
        Value("-"),
        LPad(Cast(ExtractMonth("bill_date"), CharField()), 2, Value("0")),
        output_field=CharField(),
    )


def deferred_charges(estate_id: int) -> QuerySet[Charge]:
    """The estate's charges that were deferred when raised and are not cancelled."""
    return (
        Charge.objects.filter(estate_id=estate_id, fee_item__treatment=FeeItem.Treatment.REVENUE)
        .filter(
            Q(kind=Charge.Kind.REGULAR)
            | Q(kind=Charge.Kind.DEBIT_NOTE, source__kind=Charge.Kind.REGULAR)
        )
        .exclude(status=Charge.Status.CANCELLED)
        .annotate(bill_month=_bill_month())
        .filter(period__gt=F("bill_month"))
    )


def _credited(charge_ids: list[int]) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for start in range(0, len(charge_ids), CHUNK):
        part = charge_ids[start : start + CHUNK]
        out.update(
            CreditNote.objects.filter(charge_id__in=part)
            .values("charge_id")
            .annotate(s=MoneySum("amount"))
            .order_by()
            .values_list("charge_id", "s")
        )
    return out


def contract_liability_due(estate_id: int) -> Decimal:
    """What the contract liability should hold for the estate: the deferred charges not yet
    recognised, less their credit notes (`wuye billing-check`)."""
    rows = list(
        deferred_charges(estate_id).filter(recognition_id__isnull=True).values_list("pk", "amount")
    )
    credited = _credited([pk for pk, __ in rows])
    return sum((amount - credited.get(pk, ZERO) for pk, amount in rows), ZERO)


def _month(month) -> Period:
    if isinstance(month, date):
        return Period.of(month)
    return Period.parse(month)


@transaction.atomic
def revenue_recognise(*, estate: Estate, month, actor=None, today: date | None = None):
    """Recognise the estate's deferred fees whose period starts in `month` (a Period,
    "YYYY-MM" or a date in it) or earlier: one entry dated the month's first day, Dr
    CONTRACT_LIABILITY, Cr each item's revenue; the charges marked. Idempotent per estate
    and month (again: the recognition already made, nothing posted). Refused for a month that
    has not begun or is closed (结账). `actor` None is the system (scheduler, CLI); staff need
    `billing.recognise_revenue`. Lock order: the month's recognition row, then the charges
    in primary-key order."""
    if actor is not None:
        require_perm(actor, "billing.recognise_revenue")
    require_estate(actor, estate.pk)
    p = _month(month)
    today = today or timezone.localdate()
    if p.start > today:
        raise DomainError(
            _("%(month)s has not begun; its fees are recognised from its first day") % {"month": p},
            field="month",
        )
    if period_is_closed(estate.pk, p.start):
        raise DomainError(
            _("the accounting period %(month)s is closed; post it in an open month") % {"month": p},
            field="month",
            code="period_closed",
        )
    RevenueRecognition.objects.bulk_create(
        [RevenueRecognition(estate=estate, month=p.start)], ignore_conflicts=True
    )
    rec = RevenueRecognition.objects.select_for_update().get(estate=estate, month=p.start)
    if rec.done_at is not None:
        return rec
    rows = list(
        deferred_charges(estate.pk)
        .filter(recognition_id__isnull=True, period__lte=str(p))
        .select_for_update(no_key=True, of=("self",))
        .order_by("pk")
        .values_list("pk", "fee_item_id", "amount")
    )
    credited = _credited([pk for pk, __, __ in rows])
    by_item: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for pk, item_id, amount in rows:
        by_item[item_id] += amount - credited.get(pk, ZERO)
    items = FeeItem.objects.in_bulk([i for i, v in by_item.items() if v > 0])
    lines = []
    for item_id in sorted(items):
        amount = by_item[item_id]
        lines.append(Line(chart.CONTRACT_LIABILITY, debit=amount))
        lines.append(Line(ensure_item_account(items[item_id]), credit=amount))
    total = sum((v for v in by_item.values() if v > 0), ZERO)
    if lines:
        entry = entry_post(
            estate=estate.pk,
            date=p.start,
            memo=f"{p} 确认收入 (合同负债转收入)",
            lines=lines,
            idempotency_key=f"revenue-recognition:{estate.pk}:{p}",
            source_type="revenue_recognition",
            source_id=rec.pk,
            actor=actor,
        )
        rec.entry_id = entry.pk
    ids = [pk for pk, __, __ in rows]
    for start in range(0, len(ids), CHUNK):
        Charge.objects.filter(pk__in=ids[start : start + CHUNK]).update(recognition_id=rec.pk)
    rec.amount, rec.charges, rec.done_at = total, len(ids), timezone.now()
    rec.created_by = actor if getattr(actor, "pk", None) else None
    rec.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.POST,
        subject=rec,
        estate_id=estate.pk,
        summary=Summary(
            gettext_noop("%(month)s revenue recognised: %(amount)s (%(n)s charges)"),
            month=str(p),
            amount=total,
            n=len(ids),
        ),
    )
    return rec


def revenue_recognise_all(*, month=None, today: date | None = None, estate_code: str = ""):
    """The scheduled job: recognise `month` (default: this month) for every estate, each in
    its own transaction; a refused estate (its month closed) is reported, not fatal.
    Returns [(estate code, recognition or the refusal's message)]."""
    today = today or timezone.localdate()
    p = _month(month or today)
    estates = Estate.objects.order_by("code")
    if estate_code:
        estates = estates.filter(code=estate_code)
    out = []
    for estate in estates:
        try:
            out.append((estate.code, revenue_recognise(estate=estate, month=p, today=today)))
        except DomainError as exc:
            out.append((estate.code, exc.message))
    return out


def revenue_unrecognise(*, charges: list[Charge], day: date, actor, key: str):
    """Move recognised deferred charges that are being cancelled back to the contract
    liability (Dr revenue, Cr CONTRACT_LIABILITY) so that reversing their entries leaves
    both accounts as they were. The caller holds the charges' locks and has refused charges
    with credit notes (what was recognised is then their whole amount). None if none was
    recognised."""
    done = [c for c in charges if c.recognition_id is not None]
    if not done:
        return None
    # never dated before the recognition it undoes
    months = RevenueRecognition.objects.filter(pk__in={c.recognition_id for c in done})
    day = max([day, *months.values_list("month", flat=True)])
    by_account: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for charge in done:
        by_account[ensure_item_account(charge.fee_item)] += charge.amount
    lines = []
    for account in sorted(by_account):
        lines.append(Line(account, debit=by_account[account]))
        lines.append(Line(chart.CONTRACT_LIABILITY, credit=by_account[account]))
    return entry_post(
        estate=done[0].estate_id,
        date=day,
        memo="撤销已确认收入 (转回合同负债)",
        lines=lines,
        idempotency_key=key,
        source_type="revenue_unrecognise",
        source_id=done[0].pk,
        actor=actor,
    )


__all__ = [
    "contract_liability_due",
    "deferred_charges",
    "deferred_period",
    "is_deferred",
    "item_posting_account",
    "revenue_recognise",
    "revenue_recognise_all",
    "revenue_unrecognise",
]
