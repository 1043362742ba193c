"""Late fees (滯納金): only where the estate's service contract has a late-fee clause, at its
daily rate, after its grace days, simple and capped (`calculations.late_fee_due`).

Each assessment is logged per (principal charge, date): assessing again on the same day adds
nothing (a UNIQUE constraint). The late fee is a charge of kind `late_fee` pointing at its
principal; all of a day's late fees of an estate post as one entry, Dr RECEIVABLE, Cr
LATE_FEE_INCOME. Late fees are never charged on late fees, deposits or pass-through items.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.money import MoneySum
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate, ServiceContract

from .. import calculations
from ..models import Charge, LateFeeAssessment
from ._common import ZERO, AuditEvent, audit_record, chart, gl_post

PRINCIPAL_KINDS = [
    Charge.Kind.REGULAR,
    Charge.Kind.ADHOC,
    Charge.Kind.OPENING,
    Charge.Kind.DEBIT_NOTE,
]


@dataclass
class LateFeeResult:
    estate: str
    assessed: int = 0
    charges: int = 0
    amount: Decimal = ZERO
    skipped: str = ""


def contract_in_force(estate: Estate, on: date) -> ServiceContract | None:
    return (
        ServiceContract.objects.filter(estate=estate, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .order_by("-start_date", "-id")
        .first()
    )


@transaction.atomic
def late_fee_assess(*, estate: Estate, as_of: date, actor=None) -> LateFeeResult:
    """Assess late fees of `estate` on `as_of` (see the module docstring)."""
    result = LateFeeResult(estate=estate.code)
    contract = contract_in_force(estate, as_of)
    if contract is None or not contract.has_late_fee_clause or not contract.late_fee_daily_rate:
        result.skipped = "the service contract has no late-fee clause"
        return result
    grace = contract.late_fee_grace_days
    rate, cap = contract.late_fee_daily_rate, contract.late_fee_cap_ratio
    principals = (
        Charge.objects.select_for_update()
        .filter(
            estate=estate,
            status=Charge.Status.OPEN,
            kind__in=PRINCIPAL_KINDS,
            due_date__lt=as_of - timedelta(days=grace),
            fee_item__treatment=FeeItem.Treatment.REVENUE,
        )
        .exclude(assessments__as_of=as_of)
        .select_related("fee_item")
        .order_by("id")
    )
    assessments, fees = [], []
    for principal in principals.iterator(chunk_size=2000):
        already = (
            Charge.objects.filter(source=principal, kind=Charge.Kind.LATE_FEE)
            .exclude(status=Charge.Status.CANCELLED)
            .aggregate(s=MoneySum("amount"))["s"]
        )
        days = calculations.overdue_days(due_date=principal.due_date, as_of=as_of, grace_days=grace)
        amount = calculations.late_fee_due(
            principal_unpaid=principal.outstanding,
            daily_rate=rate,
            due_date=principal.due_date,
            as_of=as_of,
            grace_days=grace,
            cap_ratio=cap,
            already_charged=already,
        )
        fee = None
        if amount > 0:
            fee = Charge(
                estate_id=estate.pk,
                unit_id=principal.unit_id,
                party_id=principal.party_id,
                fee_item_id=principal.fee_item_id,
                kind=Charge.Kind.LATE_FEE,
                period=principal.period,
                period_start=principal.period_start,
                period_end=principal.period_end,
                amount=amount,
                outstanding=amount,
                bill_date=as_of,
                due_date=as_of,
                source=principal,
                description=(
                    f"滞纳金 {principal.period} {principal.fee_item.name} "
                    f"{principal.outstanding}×{rate.normalize():f}×{days}天"
                )[:200],
            )
            fees.append(fee)
        assessments.append(
            LateFeeAssessment(
                estate_id=estate.pk,
                principal=principal,
                as_of=as_of,
                principal_unpaid=principal.outstanding,
                days_overdue=days,
                daily_rate=rate,
                cap_ratio=cap,
                amount=amount,
                late_fee=fee,
            )
        )
    Charge.objects.bulk_create(fees, batch_size=1000)
    for a in assessments:
        a.late_fee_id = a.late_fee.pk if a.late_fee is not None else None
    # The UNIQUE (principal, as_of) makes a concurrent second assessment fail as a whole.
    created = LateFeeAssessment.objects.bulk_create(assessments, batch_size=1000)
    result.assessed = len(created)
    result.charges = len(fees)
    result.amount = sum((f.amount for f in fees), ZERO)
    if result.amount > 0:
        first = min(a.pk for a in created) if created and created[0].pk else as_of.isoformat()
        gl_post(
            estate_id=estate.pk,
            day=as_of,
            memo=f"滞纳金 {as_of} ({result.charges})",
            debit=chart.RECEIVABLE,
            credit=chart.LATE_FEE_INCOME,
            amount=result.amount,
            key=f"billing-latefee:{estate.pk}:{as_of}:{first}:{result.charges}",
            source_type="late_fee",
            source_id=as_of.isoformat(),
            actor=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.POST,
            subject_type="billing.latefeeassessment",
            estate_id=estate.pk,
            summary=Summary(
                gettext_noop("late fees %(day)s: %(n)s charges, %(amount)s"),
                day=as_of,
                n=result.charges,
                amount=result.amount,
            ),
        )
    return result


def late_fees_assess_all(*, as_of: date, estate_code: str = "", actor=None) -> list[LateFeeResult]:
    estates = Estate.objects.filter(is_active=True).order_by("code")
    if estate_code:
        estates = estates.filter(code=estate_code)
    return [late_fee_assess(estate=e, as_of=as_of, actor=actor) for e in estates]
