"""Reads of the dunning engine, scoped to the user's estates (ADR 0003): the arrears list
(欠费清单, one row per party with ageing buckets), cases, tasks, contacts, runs."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Max, Min, Q, QuerySet, Value, When

from wuye.billing.models import Charge
from wuye.core.money import FEN, MoneySum
from wuye.registry.selectors import scope

from .models import ArrearsCase, ContactLog, DunningPolicy, DunningRun, Task

# Ageing buckets (账龄) in days overdue: 0-30, 31-90, 91-180, 181-365, over a year.
BUCKETS = [
    ("d30", 0, 30),
    ("d90", 31, 90),
    ("d180", 91, 180),
    ("d365", 181, 365),
    ("over", 366, None),
]
ZERO = Decimal("0.00")
# Half a fen: SQLite sums money as floats (0.10 ten times is 0.9999999999999999), so the
# amount filters compare with this margin; on exact decimals it changes nothing.
HALF_FEN = Decimal("0.005")


@dataclass
class ArrearsFilters:
    estate_id: int | None = None
    building_id: int | None = None
    bucket: str = ""
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    stage: int | None = None
    reason: str = ""
    collector_id: int | None = None
    sort: str = "-total"


SORT_KEYS = {
    "total": "total",
    "oldest": "oldest_due",
    "party": "party__name",
    **{name: name for name, _low, _high in BUCKETS},
}
SORTS = {*SORT_KEYS, *(f"-{k}" for k in SORT_KEYS)}


def arrears_list(user, *, as_of: date, filters: ArrearsFilters | None = None) -> QuerySet:
    """One row per party with overdue open charges: total and each ageing bucket, the oldest
    period, the last contact, and the case's stage, reason and collector. A values() queryset
    (rows are dicts); `arrears_totals` sums it."""
    f = filters or ArrearsFilters()
    charges = scope(
        Charge.objects.filter(status=Charge.Status.OPEN, outstanding__gt=0, due_date__lt=as_of),
        user,
    )
    if f.estate_id:
        charges = charges.filter(estate_id=f.estate_id)
    if f.building_id:
        charges = charges.filter(unit__building_id=f.building_id)
    money = DecimalField(max_digits=14, decimal_places=2)
    buckets = {}
    for name, low, high in BUCKETS:
        latest = date.fromordinal(as_of.toordinal() - low)
        cond = Q(due_date__lte=latest)
        if high is not None:
            cond &= Q(due_date__gte=date.fromordinal(as_of.toordinal() - high))
        buckets[name] = MoneySum(
            Case(When(cond, then=F("outstanding")), default=Value(ZERO), output_field=money)
        )
    rows = charges.values("party_id", "party__name", "estate_id").annotate(
        total=MoneySum("outstanding"), oldest=Min("period"), oldest_due=Min("due_date"), **buckets
    )
    open_case = ArrearsCase.objects.exclude(status="closed")
    if f.stage is not None or f.reason or f.collector_id:
        cases = open_case
        if f.stage is not None:
            cases = cases.filter(stage_number=f.stage)
        if f.reason:
            cases = cases.filter(reason=f.reason)
        if f.collector_id:
            cases = cases.filter(assignee_id=f.collector_id)
        rows = rows.filter(party_id__in=cases.values("party_id"))
    if f.bucket in {b[0] for b in BUCKETS}:
        rows = rows.filter(**{f"{f.bucket}__gt": HALF_FEN})
    if f.min_amount is not None:
        rows = rows.filter(total__gt=Decimal(f.min_amount) - HALF_FEN)
    if f.max_amount is not None:
        rows = rows.filter(total__lt=Decimal(f.max_amount) + HALF_FEN)
    sort = f.sort if f.sort in SORTS else "-total"
    key = SORT_KEYS[sort.lstrip("-")]
    return rows.order_by(("-" if sort.startswith("-") else "") + key, "party_id")


def arrears_details(rows: list[dict]) -> list[dict]:
    """Add the case (stage, reason, collector, status) and the last contact to a page of rows."""
    party_ids = [r["party_id"] for r in rows]
    cases = {
        c.party_id: c
        for c in ArrearsCase.objects.filter(party_id__in=party_ids)
        .exclude(status="closed")
        .select_related("assignee", "stage")
    }
    contacts = dict(
        ContactLog.objects.filter(party_id__in=party_ids)
        .values("party_id")
        .annotate(last=Max("at"))
        .values_list("party_id", "last")
    )
    for row in rows:
        case = cases.get(row["party_id"])
        row["case"] = case
        row["last_contact"] = contacts.get(row["party_id"])
    return rows


def arrears_totals(rows: QuerySet) -> dict[str, Decimal]:
    """The list's totals, each to the fen (the rows are `MoneySum`s, exact on every database)."""
    totals = {"total": ZERO, **{name: ZERO for name, _l, _h in BUCKETS}, "parties": 0}
    for row in rows:
        totals["parties"] += 1
        for key in ["total", *[b[0] for b in BUCKETS]]:
            totals[key] += row[key] or ZERO
    for key in ["total", *[b[0] for b in BUCKETS]]:
        totals[key] = totals[key].quantize(FEN)
    return totals


def cases_for(user) -> QuerySet[ArrearsCase]:
    return scope(ArrearsCase.objects.select_related("party", "stage", "assignee"), user)


def tasks_for(user, *, mine: bool = False, status: str = "open") -> QuerySet[Task]:
    qs = scope(Task.objects.select_related("case__party"), user)
    if status:
        qs = qs.filter(status=status)
    if mine:
        roles = list(user.groups.values_list("name", flat=True))
        qs = qs.filter(Q(assignee=user) | Q(assignee__isnull=True, role__in=roles))
    return qs


def contacts_for(user) -> QuerySet[ContactLog]:
    return scope(ContactLog.objects.select_related("party", "staff"), user)


def runs_for(user) -> QuerySet[DunningRun]:
    qs = DunningRun.objects.all()
    ids = scope(DunningPolicy.objects.all(), user).values_list("estate_id", flat=True)
    return qs.filter(Q(estate_id__in=ids) | Q(estate__isnull=True))


def policies_for(user) -> QuerySet[DunningPolicy]:
    return scope(DunningPolicy.objects.prefetch_related("stages__actions"), user)


@dataclass
class Priority:
    """The workbench's priority score of a task's case (documented in the README)."""

    score: Decimal
    parts: dict = field(default_factory=dict)


def priority(case: ArrearsCase, *, as_of: date) -> Priority:
    """amount / 100 (one point per 100 元, at most 50) + days overdue / 3 (at most 40)
    + 15 per broken promise + 1 per day since the last contact (at most 30; never contacted
    counts 30). Larger first: big, old debts of people who broke their word and whom nobody
    has called lately."""
    amount = min(Decimal(case.amount) / 100, Decimal(50))
    days = (as_of - case.oldest_due_date).days if case.oldest_due_date else 0
    age = min(Decimal(days) / 3, Decimal(40))
    broken = Decimal(15 * case.broken_promises)
    if case.last_contact_at:
        quiet = min(Decimal((as_of - case.last_contact_at.date()).days), Decimal(30))
    else:
        quiet = Decimal(30)
    parts = {"amount": amount, "age": age, "broken": broken, "quiet": quiet}
    return Priority(score=sum(parts.values()).quantize(Decimal("0.1")), parts=parts)
