"""What an owner sees (their own parties only) and what staff see of owners' requests
(estate-scoped)."""

from datetime import date

from django.db.models import QuerySet

from wuye.billing.models import Charge
from wuye.billing.selectors import Statement, party_statement
from wuye.core.money import ZERO
from wuye.online.models import PaymentOrder
from wuye.payments.models import Payment, Receipt
from wuye.registry.models import Party, UnitParty
from wuye.registry.selectors import scope

from .models import OwnerRequest


def owner_units(parties: list[Party]) -> list[UnitParty]:
    return list(
        UnitParty.objects.filter(party__in=parties, end_date__isnull=True)
        .select_related("unit__building", "unit__estate", "party")
        .order_by("unit__estate_id", "unit__number")
    )


def owner_open_charges(parties: list[Party]) -> list[Charge]:
    return list(
        Charge.objects.filter(party__in=parties, status=Charge.Status.OPEN, outstanding__gt=0)
        .select_related("fee_item", "unit", "estate")
        .order_by("estate_id", "due_date", "period", "pk")
    )


def owner_statement(parties: list[Party], limit: int = 200) -> dict:
    charges = list(
        Charge.objects.filter(party__in=parties)
        .exclude(status=Charge.Status.CANCELLED)
        .select_related("fee_item", "unit")
        .order_by("-period_start", "-pk")[:limit]
    )
    payments = list(
        Payment.objects.filter(party__in=parties, status=Payment.Status.POSTED)
        .exclude(channel=Payment.Channel.PREPAYMENT)
        .select_related("receipt")
        .order_by("-received_at", "-pk")[:limit]
    )
    return {
        "charges": charges,
        "payments": payments,
        "open_total": sum((c.outstanding for c in charges if c.is_open), ZERO),
    }


def owner_receipts(parties: list[Party]) -> QuerySet[Receipt]:
    return (
        Receipt.objects.filter(payment__party__in=parties)
        .select_related("payment", "estate")
        .order_by("-issued_at", "-pk")
    )


def owner_requests(parties: list[Party]) -> QuerySet[OwnerRequest]:
    return OwnerRequest.objects.filter(party__in=parties).order_by("-created_at", "-pk")


def owner_charge(parties: list[Party], pk: int) -> Charge | None:
    """One of the owner's charges, whatever its state (None for anybody else's)."""
    return (
        Charge.objects.filter(party__in=parties, pk=pk)
        .select_related("fee_item", "unit", "estate")
        .first()
    )


def owner_accounts(parties: list[Party], *, start: date | None = None) -> list[Statement]:
    """Each of the owner's parties' statement of account with its running balance (billing's
    `party_statement`: charges, waivers, credit notes, cancellations and payments by date)."""
    return [party_statement(party, start=start) for party in parties]


def owner_receipt(parties: list[Party], pk: int) -> Receipt | None:
    """One of the owner's receipts, with what its PDF prints (None for anybody else's)."""
    return (
        owner_receipts(parties)
        .select_related("payment__party", "payment__unit", "payment__created_by")
        .filter(pk=pk)
        .first()
    )


def owner_orders(parties: list[Party]) -> QuerySet[PaymentOrder]:
    return (
        PaymentOrder.objects.filter(party__in=parties)
        .select_related("merchant", "payment__receipt__estate")
        .prefetch_related("lines")
        .order_by("-created_at", "-pk")
    )


def owner_order(parties: list[Party], out_trade_no: str) -> PaymentOrder | None:
    return owner_orders(parties).filter(out_trade_no=out_trade_no).first()


def requests_for(user, *, status: str = "", kind: str = "") -> QuerySet[OwnerRequest]:
    qs = scope(OwnerRequest.objects.select_related("party", "unit", "estate", "handled_by"), user)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-pk")
