from decimal import Decimal

from django.apps import AppConfig


def settled_by_allocations(charge_ids: list[int]) -> dict[int, Decimal]:
    """What payments (and uses of prepayment) have settled on each charge: the sum of its
    allocations, reversals included. Registered with `wuye.billing.outstanding`."""
    from wuye.core.money import MoneySum

    from .models import Allocation

    rows = (
        Allocation.objects.filter(charge_id__in=charge_ids)
        .order_by()
        .values("charge_id")
        .annotate(s=MoneySum("amount"))
        .values_list("charge_id", "s")
    )
    return {charge_id: total for charge_id, total in rows if total}


def refunds_payable_checks(estate_code: str) -> list:
    """`wuye billing-check`: REFUNDS_PAYABLE (其他应付款-待退款) in the ledger = the deposit
    refunds approved and not yet paid out, per estate."""
    from wuye.billing.checks import Check
    from wuye.billing.models import DepositRelease
    from wuye.billing.selectors import checked_estates
    from wuye.core.money import ZERO, MoneySum
    from wuye.ledger import chart
    from wuye.ledger.selectors import account_balance

    owed = dict(
        DepositRelease.objects.filter(
            action=DepositRelease.Action.REFUND,
            status=DepositRelease.Status.APPROVED,
            payout__isnull=True,
        )
        .values("estate_id")
        .annotate(s=MoneySum("amount"))
        .order_by()
        .values_list("estate_id", "s")
    )
    return [
        Check(
            estate=e.code,
            what="refunds payable / refunds approved not paid out",
            ledger=account_balance(e, chart.REFUNDS_PAYABLE),
            subledger=owed.get(e.pk) or ZERO,
        )
        for e in checked_estates(estate_code)
    ]


def statement_lines(party) -> list[dict]:
    """The party's money as statement lines (billing's statement shows them).

    Each payment is a credit of what was received (a use of the prepayment balance credits
    nothing: that money was credited when it came in). Each approved void or refund is its own
    debit, dated the business day it was approved, naming the receipt and the reason; the voided
    payment stays on the statement as the credit it was, so history is not rewritten."""
    from django.utils import timezone
    from django.utils.translation import gettext as _
    from django.utils.translation import pgettext

    from wuye.core.money import format_yuan

    from .models import Payment, PaymentReversal

    lines = []
    for p in (
        Payment.objects.filter(party=party)
        .select_related("receipt__estate")
        .prefetch_related("allocations__charge__fee_item")
        .order_by("received_at", "id")
    ):
        receipt = getattr(p, "receipt", None)
        text = f"{p.get_channel_display()} {receipt.code if receipt else ''}".strip()
        if p.channel == Payment.Channel.PREPAYMENT:
            # what the prepayment paid, and how much (issue 11 §7): the money was credited
            # when it came in, so the line itself moves nothing
            paid = pgettext("list separator", ", ").join(
                a.charge.label for a in p.allocations.all() if a.amount > 0
            )
            text = _("Paid from prepayment %(amount)s: %(charges)s") % {
                "amount": format_yuan(p.amount),
                "charges": paid,
            }
        lines.append(
            {
                "date": p.business_date,
                "kind": "payment",
                "text": text,
                "debit": Decimal("0.00"),
                "credit": p.amount if p.channel != Payment.Channel.PREPAYMENT else Decimal("0.00"),
            }
        )
    reversals = (
        PaymentReversal.objects.filter(payment__party=party, status=PaymentReversal.Status.APPROVED)
        .select_related("payment__receipt__estate")
        .order_by("decided_at", "id")
    )
    for r in reversals:
        receipt = getattr(r.payment, "receipt", None)
        label = _("Void") if r.kind == PaymentReversal.Kind.VOID else _("Refund")
        number = receipt.code if receipt else f"#{r.payment_id}"
        lines.append(
            {
                "date": r.business_date or timezone.localdate(r.decided_at),
                "kind": r.kind,
                "text": f"{label} {number}: {r.reason}",
                "debit": r.amount,
                "credit": Decimal("0.00"),
            }
        )
    return lines


def unit_page_balance(*, unit, user) -> dict:
    """The unit page's balance (registry shows it, see `wuye.registry.events.on_unit_page`):
    what is due, what is open, the payer's prepayment and what is owed after it."""
    from django.utils import timezone

    from .selectors import unit_account

    if not user.has_perm("billing.view_charge"):
        return {}
    account = unit_account(unit, timezone.localdate())
    return {
        "balance": {
            "party": account["party"],
            "arrears": account["arrears"],
            "open_total": account["open_total"],
            "prepayment_total": account["prepayment_total"],
            "owed": account["open_total"] - account["prepayment_total"],
        }
    }


def apply_prepayment_when_due(*, estate_id, as_of, run_id=None, actor=None) -> None:
    """Charges fall due (a bill run posted, the daily late-fee job): pay them from the
    owners' prepayment (`services.prepayment_auto_apply`, ADR 0012)."""
    from .services import prepayment_auto_apply

    prepayment_auto_apply(estate_id=estate_id, as_of=as_of, run_id=run_id, actor=actor)


class PaymentsConfig(AppConfig):
    name = "wuye.payments"
    verbose_name = "payments"

    def ready(self) -> None:
        from wuye.billing import checks, outstanding

        checks.register(refunds_payable_checks)
        outstanding.register(settled_by_allocations)
        outstanding.register_statement_lines(statement_lines)
        from wuye.registry import events

        events.on_unit_page(unit_page_balance)
        from wuye.billing import events as billing_events

        billing_events.on_charges_due(apply_prepayment_when_due)
        from .services import owner_change

        # a change of owner re-splits the charges raised before it (issue 11 §9)
        events.on_relation_started(owner_change.on_relation_started)
