"""The suspense account (待查明款項): money received that could not be posted to an owner.

When a provider took money the books cannot simply post (the exception queue), it is booked at
once, in the same transaction that queues it:

    Dr CLEARING_<channel>        amount      the money is at the provider, as any payment's
        Cr SUSPENSE_<channel>    amount      whose it is, nobody knows yet

and moved out once staff decide (`exceptions.py`), each with its own entry:

    credited to the owner   the owner's payment (Dr CLEARING, Cr RECEIVABLE / PREPAYMENTS, as
                            every payment) and Dr SUSPENSE, Cr CLEARING: net Dr SUSPENSE
    refunded                Dr SUSPENSE, Cr CLEARING (the provider gave it back)
    written off             Dr SUSPENSE, Cr OTHER_INCOME (two people, a reason)

So the suspense account of a channel always equals its open exceptions (`suspense_check`),
and the clearing account shows every yuan the provider holds. One sub-account per channel
(docs/adr/0011-suspense-per-channel.md).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count

from wuye.core.money import ZERO, MoneySum
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.ledger.services import Line, entry_post
from wuye.payments.services._common import CHANNEL_ACCOUNTS, booking_day
from wuye.registry.models import Estate

from ..models import PaymentException

SUSPENSE_ACCOUNTS = {
    "wechat": chart.SUSPENSE_WECHAT,
    "alipay": chart.SUSPENSE_ALIPAY,
}


def _accounts(provider: str) -> tuple[str, str]:
    """(clearing, suspense) of a provider's channel."""
    return CHANNEL_ACCOUNTS[provider], SUSPENSE_ACCOUNTS[provider]


def suspense_book(item: PaymentException, *, actor=None) -> None:
    """Book the item's money on the suspense account (Dr clearing, Cr suspense), once; dated
    the estate's next open business day (`payments.booking_day`). Items without an estate or
    an amount (an unknown merchant) cannot be booked: `suspense_check` lists them."""
    if item.entry_id or item.estate_id is None or not item.amount:
        return
    day = booking_day(item.estate_id)
    clearing, suspense = _accounts(item.provider)
    entry = entry_post(
        estate=item.estate_id,
        date=day,
        memo=f"待查明款项 {item.get_provider_display()} {item.transaction_id}"[:200],
        lines=[Line(clearing, debit=item.amount), Line(suspense, credit=item.amount)],
        idempotency_key=f"suspense-in:{item.pk}",
        source_type="payment_exception",
        source_id=item.pk,
        actor=actor,
    )
    item.entry_id = entry.pk
    item.business_date = day
    PaymentException.objects.filter(pk=item.pk).update(entry_id=entry.pk, business_date=day)


def suspense_move_out(
    item: PaymentException, *, to: str, memo: str, actor=None, day: date | None = None
) -> int:
    """Dr suspense, Cr `to` (the channel's clearing account, or OTHER_INCOME) for the item's
    amount; returns the entry's id."""
    __, suspense = _accounts(item.provider)
    day = day or booking_day(item.estate_id)
    entry = entry_post(
        estate=item.estate_id,
        date=day,
        memo=memo[:200],
        lines=[Line(suspense, debit=item.amount), Line(to, credit=item.amount)],
        idempotency_key=f"suspense-out:{item.pk}",
        source_type="payment_exception",
        source_id=item.pk,
        actor=actor,
    )
    return entry.pk


@dataclass(frozen=True)
class SuspenseCheck:
    """One estate and channel: the suspense account against the open exceptions."""

    estate: str
    channel: str
    ledger: Decimal
    open_items: Decimal
    unbooked: int  # open items not on the suspense account (queued before it existed)

    @property
    def ok(self) -> bool:
        return self.ledger == self.open_items and not self.unbooked


def suspense_check(estate_code: str = "") -> list[SuspenseCheck]:
    """Per estate and channel: suspense balance = the open exceptions' amounts."""
    estates = Estate.objects.order_by("code")
    if estate_code:
        estates = estates.filter(code=estate_code)
    open_items = PaymentException.objects.filter(status=PaymentException.Status.OPEN)
    sums = {
        (row["estate_id"], row["provider"]): row["s"]
        for row in open_items.filter(entry_id__isnull=False)
        .values("estate_id", "provider")
        .annotate(s=MoneySum("amount"))
        .order_by()
    }
    unbooked = {
        (row["estate_id"], row["provider"]): row["n"]
        for row in open_items.filter(entry_id__isnull=True)
        .values("estate_id", "provider")
        .annotate(n=Count("id"))
        .order_by()
    }
    out = []
    for estate in estates:
        for provider, account in SUSPENSE_ACCOUNTS.items():
            out.append(
                SuspenseCheck(
                    estate=estate.code,
                    channel=provider,
                    ledger=account_balance(estate, account),
                    open_items=sums.get((estate.pk, provider)) or ZERO,
                    unbooked=unbooked.get((estate.pk, provider), 0),
                )
            )
    return out
