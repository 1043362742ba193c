"""Printing: receipts (first print and reprints marked as copies) and the fees-settled
certificate, refused while the unit has arrears. Both are audited."""

from datetime import date

from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.registry.models import Unit
from wuye.registry.selectors import payer_on
from wuye.registry.services import require_estate, require_perm

from .. import documents
from ..models import Receipt
from ._common import business_today


@transaction.atomic
def receipt_print(*, actor, receipt: Receipt, verify_url: str, paper: str = "") -> bytes:
    """The receipt PDF; every print after the first is marked as a copy (副本)."""
    require_perm(actor, "payments.view_receipt")
    require_estate(actor, receipt.estate_id)
    Receipt.objects.filter(pk=receipt.pk).update(prints=F("prints") + 1)
    receipt = Receipt.objects.select_related(
        "payment__party", "payment__unit", "payment__created_by", "estate"
    ).get(pk=receipt.pk)
    if not paper:
        cfg = getattr(receipt.estate, "cashier_settings", None)
        paper = cfg.receipt_paper if cfg else "a5"
    content = documents.receipt_pdf(
        receipt, paper=paper, copy=receipt.prints > 1, verify_url=verify_url
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        subject=receipt,
        summary=Summary(
            gettext_noop("receipt %(code)s printed (copy)")
            if receipt.prints > 1
            else gettext_noop("receipt %(code)s printed (original)"),
            code=receipt.code,
        ),
    )
    return content


@transaction.atomic
def settled_certificate(*, actor, unit: Unit, today: date | None = None) -> bytes:
    """物業費結清證明 for `unit` and its payer today, refused while a charge of the payer's
    due by today is open. A previous owner's debt of the unit is his (issue 11 §9): it does
    not refuse the new owner's certificate."""
    require_perm(actor, "payments.take_payment")
    require_estate(actor, unit.estate_id)
    day = business_today(today)
    payer = payer_on(unit, day)
    arrears = Charge.objects.filter(unit=unit, status=Charge.Status.OPEN, due_date__lte=day)
    if payer is not None:
        arrears = arrears.filter(party=payer)
    if arrears.exists():
        owed = sum(c.outstanding for c in arrears)
        raise DomainError(
            _(
                "%(unit)s has arrears of %(owed)s (%(count)s charge(s)); "
                "a settled certificate is issued once they are paid"
            )
            % {"unit": unit, "owed": owed, "count": arrears.count()},
            field="unit",
            code="arrears",
        )
    paid_through = {
        name: period
        for name, period in Charge.objects.filter(
            unit=unit, kind=Charge.Kind.REGULAR, status=Charge.Status.PAID
        )
        .values_list("fee_item__name")
        .annotate(m=Max("period"))
        .order_by()
    }
    content = documents.settled_certificate_pdf(
        unit=unit, party=payer, paid_through=paid_through, today=day
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        subject=unit,
        summary=Summary(
            gettext_noop("fees-settled certificate %(unit)s on %(day)s"), unit=unit.number, day=day
        ),
    )
    return content
