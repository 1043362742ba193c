from decimal import Decimal

from django.apps import AppConfig


def settled_by_allocations(charge_ids: list[int]) -> dict[int, Decimal]:
    """What payments (and uses of prepayment) have settled on each charge: the sum of its
    allocations, reversals included. Registered with `wuye.billing.outstanding`."""
    from django.db.models import Sum

    from .models import Allocation

    rows = (
        Allocation.objects.filter(charge_id__in=charge_ids)
        .order_by()
        .values("charge_id")
        .annotate(s=Sum("amount"))
        .values_list("charge_id", "s")
    )
    return {charge_id: total for charge_id, total in rows if total}


def statement_lines(party) -> list[dict]:
    """The party's payments as statement lines (billing's statement shows them)."""
    from .models import Payment

    lines = []
    for p in Payment.objects.filter(party=party).select_related("receipt").order_by("received_at"):
        receipt = getattr(p, "receipt", None)
        text = f"{p.get_channel_display()} {receipt.code if receipt else ''}".strip()
        if p.is_voided:
            text += " (void)"
        lines.append(
            {
                "date": p.business_date,
                "kind": "payment",
                "text": text,
                "debit": Decimal("0.00"),
                "credit": p.amount if p.channel != "prepayment" else Decimal("0.00"),
            }
        )
    return lines


class PaymentsConfig(AppConfig):
    name = "wuye.payments"
    verbose_name = "payments"

    def ready(self) -> None:
        from wuye.billing import outstanding

        outstanding.register(settled_by_allocations)
        outstanding.register_statement_lines(statement_lines)
