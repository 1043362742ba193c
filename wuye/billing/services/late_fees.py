"""Late fees (滯納金): only where the estate's service contract has a late-fee clause, at its
daily rate, after its grace days, simple and capped (`calculations.late_fee_total`).

- Only for days that have passed: an as-of after today is refused (page, CLI, task alike).
- Only for days a clause was in force: each late day earns the rate of the contract clause in
  force that day, and nothing on a day no contract had one (a new clause never reaches back).
- Grace days and the cap are the clause in force on the as-of day's.
- Below the estate's minimum (`Estate.late_fee_minimum`) nothing is assessed on a charge.
- One line per overdue charge: a principal's late fee so far is one charge with its days and
  total. When it grows and the earlier late-fee charge is untouched (nothing allocated,
  waived or credited), that charge is cancelled and replaced by one for the new total (the
  assessment row records which: `replaced`); once part of it was paid or waived, the growth
  is a new charge. The subledger and the ledger move by the increase only.

Each assessment is logged per (principal charge, date): assessing again on the same day adds
nothing (a UNIQUE constraint). A late fee is a charge of kind `late_fee` pointing at its
principal; all of a day's late fees of an estate post as one entry, Dr RECEIVABLE, Cr
LATE_FEE_INCOME, for what the day added. Late fees are never charged on late fees, deposits
or pass-through items. Lock order: the principals, then their late fees (charges, by id).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate, ServiceContract

from .. import calculations
from ..events import charges_due, receivables_changed
from ..models import Charge, LateFeeAssessment
from ._common import ZERO, AuditEvent, DomainError, audit_record, chart, gl_post

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


def late_fee_clauses(estate: Estate) -> list[calculations.Clause]:
    """The estate's late-fee clauses with the days each was in force; where contracts overlap,
    the later-starting one rules from its start (as `contract_in_force` picks it)."""
    contracts = list(ServiceContract.objects.filter(estate=estate).order_by("start_date", "id"))
    clauses = []
    for n, c in enumerate(contracts):
        end = c.end_date
        later = [d.start_date for d in contracts[n + 1 :] if d.start_date > c.start_date]
        if later:
            cut = min(later) - timedelta(days=1)
            end = cut if end is None else min(end, cut)
        if c.has_late_fee_clause and c.late_fee_daily_rate and (end is None or end >= c.start_date):
            clauses.append(calculations.Clause(c.start_date, end, c.late_fee_daily_rate))
    return clauses


def _check_as_of(as_of: date, today: date | None) -> None:
    today = today or timezone.localdate()
    if as_of > today:
        raise DomainError(
            _(
                "late fees are assessed only for days that have passed: %(as_of)s is after "
                "today (%(today)s)"
            )
            % {"as_of": as_of, "today": today},
            field="as_of",
            code="future",
        )


def _touched(fees: list[Charge]) -> set[int]:
    """The ids of late-fee charges that can no longer be replaced: something allocated,
    waived or credited on them (they are locked by the caller)."""
    ids = [f.pk for f in fees]
    if not ids:
        return set()
    return set(
        Charge.objects.filter(pk__in=ids)
        .filter(
            Q(outstanding__lt=F("amount"))
            | Q(allocations__isnull=False)
            | Q(waivers__isnull=False)
            | Q(credit_notes__isnull=False)
        )
        .values_list("pk", flat=True)
    )


def _text(principal: Charge, unpaid: Decimal, days: int, total: Decimal) -> str:
    """滞纳金 2026-12 物业服务费 欠费250.60 逾期26天 合计1.95"""
    return (
        f"滞纳金 {principal.period} {principal.fee_item.name} 欠费{unpaid} 逾期{days}天 合计{total}"
    )[:200]


def late_fee_assess(
    *, estate: Estate, as_of: date, actor=None, today: date | None = None
) -> LateFeeResult:
    """Assess late fees of `estate` on `as_of` (see the module docstring). First the charges
    due by `as_of` are told to fall due (`events.charges_due`: the payments app applies the
    owners' prepayment to them, each owner in a transaction of its own), so no late fee is
    charged on what prepayment pays (DESIGN.md §4)."""
    _check_as_of(as_of, today)
    charges_due(estate_id=estate.pk, as_of=as_of, actor=actor)
    return _late_fee_assess(estate=estate, as_of=as_of, actor=actor, today=today)


@transaction.atomic
def _late_fee_assess(*, estate: Estate, as_of: date, actor, today: date | None) -> LateFeeResult:
    _check_as_of(as_of, today)
    result = LateFeeResult(estate=estate.code)
    contract = contract_in_force(estate, as_of)
    if contract is None or not contract.has_late_fee_clause or not contract.late_fee_daily_rate:
        result.skipped = _("the service contract has no late-fee clause")
        return result
    grace = contract.late_fee_grace_days
    rate, cap = contract.late_fee_daily_rate, contract.late_fee_cap_ratio
    clauses = late_fee_clauses(estate)
    minimum = estate.late_fee_minimum or ZERO
    principals = list(
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
    # Their late fees so far, locked after them (charges by id: DESIGN.md §4).
    fees_of: dict[int, list[Charge]] = {}
    for fee in (
        Charge.objects.select_for_update()
        .filter(source_id__in=[p.pk for p in principals], kind=Charge.Kind.LATE_FEE)
        .exclude(status=Charge.Status.CANCELLED)
        .order_by("id")
    ):
        fees_of.setdefault(fee.source_id, []).append(fee)
    touched = _touched([f for group in fees_of.values() for f in group])
    assessments, fees, replaced = [], [], []
    now = timezone.now()
    for principal in principals:
        earlier = fees_of.get(principal.pk, [])
        already = sum((f.amount for f in earlier), ZERO)
        total, days = calculations.late_fee_total(
            principal_unpaid=principal.outstanding,
            due_date=principal.due_date,
            as_of=as_of,
            grace_days=grace,
            clauses=clauses,
            cap_ratio=cap,
        )
        if total < minimum:
            total = ZERO
        amount = max(ZERO, total - already)
        fee = old = None
        if amount > 0:
            untouched = [
                f for f in earlier if f.status == Charge.Status.OPEN and f.pk not in touched
            ]
            old = untouched[-1] if untouched else None
            line = old.amount + amount if old is not None else amount
            fee = Charge(
                estate_id=estate.pk,
                unit_id=principal.unit_id,
                party_id=principal.party_id,
                fee_item_id=principal.fee_item_id,
                kind=Charge.Kind.LATE_FEE,
                period=principal.period,
                period_start=principal.period_start,
                period_end=principal.period_end,
                amount=line,
                outstanding=line,
                bill_date=as_of,
                due_date=as_of,
                source=principal,
                description=_text(principal, principal.outstanding, days, already + amount),
            )
            fees.append(fee)
            if old is not None:
                replaced.append(old.pk)
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
                replaced=old,
            )
        )
    if replaced:
        Charge.objects.filter(pk__in=replaced).update(
            status=Charge.Status.CANCELLED, outstanding=ZERO, cancelled_at=now
        )
    Charge.objects.bulk_create(fees, batch_size=1000)
    receivables_changed(charge_ids=[f.pk for f in fees])
    for a in assessments:
        a.late_fee_id = a.late_fee.pk if a.late_fee is not None else None
    # The UNIQUE (principal, as_of) makes a concurrent second assessment fail as a whole.
    created = LateFeeAssessment.objects.bulk_create(assessments, batch_size=1000)
    result.assessed = len(created)
    result.charges = len(fees)
    result.amount = sum((a.amount for a in assessments), ZERO)
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
                gettext_noop("late fees %(day)s: %(n)s charges, %(amount)s (%(replaced)s replaced)")
                if replaced
                else gettext_noop("late fees %(day)s: %(n)s charges, %(amount)s"),
                day=as_of,
                n=result.charges,
                amount=result.amount,
                replaced=len(replaced),
            ),
        )
    return result


def late_fees_assess_all(
    *, as_of: date, estate_code: str = "", actor=None, today: date | None = None
) -> list[LateFeeResult]:
    _check_as_of(as_of, today)
    estates = Estate.objects.filter(is_active=True).order_by("code")
    if estate_code:
        estates = estates.filter(code=estate_code)
    return [late_fee_assess(estate=e, as_of=as_of, actor=actor, today=today) for e in estates]
