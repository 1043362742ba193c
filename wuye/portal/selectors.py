"""What an owner sees (their own parties only) and what staff see of owners' requests
(estate-scoped)."""

from django.db.models import QuerySet

from wuye.billing.models import Charge
from wuye.core.money import ZERO
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


def requests_for(user, *, status: str = "", kind: str = "") -> QuerySet[OwnerRequest]:
    qs = scope(OwnerRequest.objects.select_related("party", "unit", "estate", "handled_by"), user)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-pk")
