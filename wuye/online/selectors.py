"""Reads of online payments for staff, scoped to the user's estates."""

from decimal import Decimal

from django.db.models import QuerySet

from wuye.billing.models import Charge
from wuye.core.money import ZERO, MoneySum
from wuye.registry.models import Party
from wuye.registry.selectors import scope

from .models import (
    DebitBatch,
    InboxNotification,
    PaymentException,
    PaymentOrder,
    TransferStatement,
)


def orders_for(user, *, status: str = "", q: str = "") -> QuerySet[PaymentOrder]:
    qs = scope(PaymentOrder.objects.select_related("party", "estate", "merchant", "payment"), user)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(out_trade_no__icontains=q.strip()) | qs.filter(transaction_id=q.strip())
    return qs.order_by("-created_at", "-id")


def exceptions_for(user, *, status: str = "open") -> QuerySet[PaymentException]:
    """The exception queue; items of unknown orders (no estate) only for all-estate users."""
    qs = scope(PaymentException.objects.select_related("order__party", "estate"), user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def open_exceptions_total(estate) -> Decimal:
    """What the open exceptions of `estate` hold on the suspense account (booked ones)."""
    estate_id = getattr(estate, "pk", estate)
    total = PaymentException.objects.filter(
        estate_id=estate_id, status=PaymentException.Status.OPEN, entry_id__isnull=False
    ).aggregate(s=MoneySum("amount"))["s"]
    return total or ZERO


def inbox_for_order(order: PaymentOrder) -> QuerySet[InboxNotification]:
    return InboxNotification.objects.filter(out_trade_no=order.out_trade_no).order_by(
        "received_at", "id"
    )


def batches_for(user) -> QuerySet[DebitBatch]:
    return scope(DebitBatch.objects.select_related("bank", "estate"), user).order_by(
        "-created_at", "-id"
    )


def open_charges_of(party: Party) -> list[Charge]:
    return list(
        Charge.objects.filter(party=party, status=Charge.Status.OPEN)
        .select_related("fee_item", "unit")
        .order_by("due_date", "period", "pk")
    )


def transfer_statements_for(user, estate=None):
    """The bank statements of the user's estates (of one, if given), newest first."""
    qs = scope(
        TransferStatement.objects.select_related("estate", "uploaded_by").defer("content"), user
    )
    if estate is not None:
        qs = qs.filter(estate=estate)
    return qs.order_by("-uploaded_at", "-id")
