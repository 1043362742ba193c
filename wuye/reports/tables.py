"""The standard tables a Chinese property office prints, each a `Table`: a title, the
definition of its figures, its columns, and a function that yields its rows for a scope and
a date range. The page shows the first rows; the .xlsx export streams them all (audited)."""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.billing.models import Charge, PrepaymentMovement
from wuye.core.masking import mask_phone
from wuye.core.money import ZERO, MoneySum
from wuye.payments.models import Allocation, Payment
from wuye.registry.models import Building, Unit

from . import collection_seam, selectors
from .definitions import DEFINITIONS, bucket_of, month_of, months_of_year, split_kind
from .models import CollectionCell, KindGroup


@dataclass(frozen=True)
class Params:
    """A table's date range (start .. end, business days) and its as-of day."""

    start: date
    end: date
    reveal: bool = False  # debtors' phones unmasked (permission reports.view_debtor_contacts)

    @property
    def months(self) -> tuple[str, str]:
        return month_of(self.start), month_of(self.end)


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    note: str
    columns: list
    rows: Callable[[selectors.Scope, Params], Iterator[list]]


def _d(v) -> Decimal:
    return Decimal(v or 0).quantize(ZERO)


def _cells(scope, p: Params, group: list[str]) -> Iterator[list]:
    """billed (periods in range), waived and received (months in range, split), owed now;
    from the cells plus their pending deltas."""
    first, last = p.months
    qs = scope.cells(kind__in=selectors.ARREARS)
    if "building_id" in group:
        qs = scope.filter(CollectionCell.objects.filter(kind__in=selectors.ARREARS))
    sources = (qs, scope.deltas(kind__in=selectors.ARREARS))
    rows = defaultdict(lambda: defaultdict(Decimal))
    owed: dict[tuple, Decimal] = defaultdict(Decimal)
    with selectors.snapshot():
        for source in sources:
            for r in (
                source.filter(Q(period__range=(first, last)) | Q(month__range=(first, last)))
                .order_by()
                .values(*group, "period", "month")
                .annotate(b=Sum("billed"), w=Sum("waived"), r=Sum("received"))
            ):
                key = tuple(r[g] for g in group)
                cell = rows[key]
                if first <= r["period"] <= last:
                    cell["billed"] += _d(r["b"])
                if first <= r["month"] <= last:
                    cell["waived"] += _d(r["w"])
                    cell[split_kind(r["period"], r["month"])] += _d(r["r"])
            for r in (
                source.order_by()
                .values(*group)
                .annotate(b=Sum("billed"), w=Sum("waived"), r=Sum("received"))
            ):
                owed[tuple(r[g] for g in group)] += _d(r["b"]) - _d(r["w"]) - _d(r["r"])
    for key in sorted(set(rows) | {k for k, v in owed.items() if v}, key=str):
        c = rows.get(key, {})
        yield [
            *key,
            c.get("billed", ZERO),
            c.get("waived", ZERO),
            c.get("current", ZERO),
            c.get("arrears", ZERO),
            c.get("advance", ZERO),
            sum((c.get(k, ZERO) for k in ("current", "arrears", "advance")), ZERO),
            owed.get(key, ZERO),
        ]


MONEY_COLS = [
    _("Receivable (periods in range)"),
    _("Waived"),
    _("Received: current"),
    _("Received: arrears"),
    _("Received: paid ahead"),
    _("Received total"),
    _("Owed now"),
]


def _names(model, ids) -> dict:
    return {o.pk: o for o in model.objects.filter(pk__in=list(ids))}


def fee_summary(scope, p) -> Iterator[list]:
    from wuye.fees.models import FeeItem

    rows = list(_cells(scope, p, ["estate_id", "fee_item_id"]))
    items = _names(FeeItem, {r[1] for r in rows})
    estates = {e.pk: e for e in selectors.estates_of(scope)}
    for r in rows:
        yield [estates[r[0]].name if r[0] in estates else r[0], items[r[1]].name, *r[2:]]


def by_building(scope, p) -> Iterator[list]:
    rows = list(_cells(scope, p, ["building_id"]))
    buildings = _names(Building, {r[0] for r in rows})
    for r in rows:
        b = buildings.get(r[0])
        yield [b.estate.name if b else "", b.name if b else r[0], *r[1:]]


def by_item(scope, p) -> Iterator[list]:
    from wuye.fees.models import FeeItem

    rows = list(_cells(scope, p, ["fee_item_id", "kind", "period"]))
    items = _names(FeeItem, {r[0] for r in rows})
    kinds = dict(KindGroup.choices)
    for r in rows:
        yield [items[r[0]].name, str(kinds.get(r[1], r[1])), r[2], *r[3:]]


def _charges(scope, p: Params):
    first, last = p.months
    return (
        scope.charges()
        .exclude(status=Charge.Status.CANCELLED)
        .filter(period__range=(first, last))
        .select_related("unit__building", "party", "fee_item")
        .order_by("unit__building__code", "unit__number", "period", "fee_item_id", "id")
    )


def fee_detail(scope, p) -> Iterator[list]:
    for c in _charges(scope, p).iterator(chunk_size=2000):
        yield [
            c.unit.building.name,
            c.unit.number,
            c.party.name,
            c.fee_item.name,
            c.period,
            c.get_kind_display(),
            c.bill_date,
            c.due_date,
            c.amount,
            c.outstanding,
            c.get_status_display(),
        ]


def _owing(scope, p: Params):
    return (
        scope.charges()
        .exclude(status=Charge.Status.CANCELLED)
        .filter(outstanding__gt=0, due_date__lte=p.end)
        .select_related("unit__building", "party", "fee_item")
        .order_by("unit__building__code", "unit__number", "period", "id")
    )


def arrears_detail(scope, p) -> Iterator[list]:
    for c in _owing(scope, p).iterator(chunk_size=2000):
        yield [
            c.unit.building.name,
            c.unit.number,
            c.party.name,
            c.fee_item.name,
            c.period,
            c.get_kind_display(),
            c.due_date,
            (p.end - c.due_date).days,
            bucket_of(c.due_date, p.end),
            c.outstanding,
        ]


def arrears_list(scope, p) -> Iterator[list]:
    """The unpaid households (internal use): phone masked unless the reader may see it."""
    rows = list(
        _owing(scope, p)
        .order_by()
        .values("unit__building__name", "unit__number", "party_id", "party__name", "party__mobile")
        .annotate(n=Count("id"), o=MoneySum("outstanding"), first=F("unit__number"))
        .annotate(oldest=models_min("period"))
        .order_by("unit__building__name", "unit__number")
    )
    reasons = collection_seam.reasons_of([r["party_id"] for r in rows])
    labels = collection_seam.reason_labels()
    for r in rows:
        phone = r["party__mobile"] if p.reveal else mask_phone(r["party__mobile"])
        yield [
            r["unit__building__name"],
            r["unit__number"],
            r["party__name"],
            phone,
            r["oldest"],
            r["n"],
            r["o"],
            labels.get(reasons.get(r["party_id"], ""), ""),
        ]


def models_min(field: str):
    from django.db.models import Min

    return Min(field)


def _allocations(scope, p: Params):
    qs = Allocation.objects.filter(
        estate_id__in=scope.estate_ids, payment__business_date__range=(p.start, p.end)
    ).exclude(payment__channel=Payment.Channel.PREPAYMENT)
    if scope.building_id:
        qs = qs.filter(charge__unit__building_id=scope.building_id)
    return qs


def payment_detail(scope, p) -> Iterator[list]:
    qs = (
        _allocations(scope, p)
        .select_related(
            "payment__receipt__estate", "charge__unit", "charge__fee_item", "payment__party"
        )
        .order_by("payment__business_date", "payment_id", "id")
    )
    kinds = {"current": _("current"), "arrears": _("arrears"), "advance": _("paid ahead")}
    for a in qs.iterator(chunk_size=2000):
        receipt = getattr(a.payment, "receipt", None)
        day = a.payment.business_date
        yield [
            day,
            receipt.code if receipt else "",
            a.charge.unit.number,
            a.payment.party.name,
            a.charge.fee_item.name,
            a.charge.period,
            str(kinds[split_kind(a.charge.period, month_of(day))]),
            a.amount,
        ]


def payment_list(scope, p) -> Iterator[list]:
    from wuye.core.names import person_name

    qs = (
        Payment.objects.filter(
            estate_id__in=scope.estate_ids, business_date__range=(p.start, p.end)
        )
        .exclude(channel=Payment.Channel.PREPAYMENT)
        .select_related("receipt__estate", "party", "unit", "created_by")
        .order_by("business_date", "id")
    )
    if scope.building_id:
        qs = qs.filter(unit__building_id=scope.building_id)
    for pay in qs.iterator(chunk_size=2000):
        receipt = getattr(pay, "receipt", None)
        yield [
            pay.business_date,
            receipt.code if receipt else "",
            pay.unit.number if pay.unit else "",
            pay.party.name,
            pay.get_channel_display(),
            pay.amount,
            pay.allocated,
            pay.prepaid,
            person_name(pay.created_by),
            pay.get_status_display(),
        ]


def owner_months(scope, p) -> Iterator[list]:
    year = p.end.year
    months = months_of_year(year)
    paid = defaultdict(lambda: defaultdict(Decimal))
    names = {}
    qs = Payment.objects.filter(estate_id__in=scope.estate_ids, business_date__year=year).exclude(
        channel=Payment.Channel.PREPAYMENT
    )
    if scope.building_id:
        qs = qs.filter(unit__building_id=scope.building_id)
    for r in (
        qs.order_by()
        .values("party_id", "party__name", "business_date__month")
        .annotate(s=MoneySum("amount"))
    ):
        names[r["party_id"]] = r["party__name"]
        paid[r["party_id"]][months[r["business_date__month"] - 1]] += r["s"]
    for pid in sorted(paid, key=lambda i: names[i]):
        row = [paid[pid].get(m, ZERO) for m in months]
        yield [names[pid], *row, sum(row, ZERO)]


def fee_ledger(scope, p) -> Iterator[list]:
    """费用台账: per unit, what each month of the year billed and what is still owed on it."""
    year = p.end.year
    months = months_of_year(year)
    qs = (
        scope.charges()
        .exclude(status=Charge.Status.CANCELLED)
        .filter(period__in=months)
        .order_by()
        .values("unit_id", "unit__number", "unit__building__name", "period")
        .annotate(a=MoneySum("amount"), o=MoneySum("outstanding"))
    )
    units = {}
    billed = defaultdict(dict)
    owed = defaultdict(lambda: ZERO)
    for r in qs:
        units[r["unit_id"]] = (r["unit__building__name"], r["unit__number"])
        billed[r["unit_id"]][r["period"]] = r["a"]
        owed[r["unit_id"]] += r["o"]
    for uid in sorted(units, key=lambda u: units[u]):
        row = [billed[uid].get(m, ZERO) for m in months]
        total = sum(row, ZERO)
        yield [*units[uid], *row, total, total - owed[uid], owed[uid]]


def deposits(scope, p) -> Iterator[list]:
    qs = (
        scope.charges()
        .filter(kind=Charge.Kind.DEPOSIT)
        .exclude(status=Charge.Status.CANCELLED)
        .select_related("unit", "party", "fee_item")
        .annotate(
            released=Sum("releases__amount", filter=Q(releases__status="approved")),
        )
        .order_by("unit__number", "id")
    )
    for c in qs:
        yield [
            c.unit.number,
            c.party.name,
            c.fee_item.name,
            c.bill_date,
            c.amount,
            c.amount - c.outstanding,
            _d(c.released),
            c.description,
        ]


def units_without_fees(scope, p) -> Iterator[list]:
    first, last = p.months
    billed = (
        scope.charges()
        .exclude(status=Charge.Status.CANCELLED)
        .filter(kind__in=["regular"], period__range=(first, last))
        .values("unit_id")
    )
    qs = Unit.objects.filter(estate_id__in=scope.estate_ids, is_active=True).exclude(pk__in=billed)
    if scope.building_id:
        qs = qs.filter(building_id=scope.building_id)
    for u in qs.select_related("building").order_by("building__code", "number"):
        yield [
            u.building.name,
            u.number,
            u.get_unit_type_display(),
            u.gross_area,
            u.get_occupancy_display(),
            u.fee_start_date or "",
        ]


def expiring_prepayments(scope, p) -> Iterator[list]:
    """Prepayment balances that cover less than two more months of the party's fees."""
    balances = (
        PrepaymentMovement.objects.filter(estate_id__in=scope.estate_ids)
        .order_by()
        .values("party_id", "party__name")
        .annotate(b=MoneySum("amount"))
        .filter(b__gt=0)
    )
    month = month_of(p.end)
    monthly = dict(
        Charge.objects.filter(
            estate_id__in=scope.estate_ids,
            period=month,
            kind=Charge.Kind.REGULAR,
            party_id__in=[r["party_id"] for r in balances],
        )
        .exclude(status=Charge.Status.CANCELLED)
        .order_by()
        .values("party_id")
        .annotate(s=MoneySum("amount"))
        .values_list("party_id", "s")
    )
    for r in balances:
        fee = monthly.get(r["party_id"], ZERO)
        months = (r["b"] / fee).quantize(Decimal("0.1")) if fee else None
        if months is None or months < 2:
            yield [r["party__name"], r["b"], fee, months if months is not None else "—"]


def by_method(scope, p) -> Iterator[list]:
    from wuye.payments.models import Payment as P

    labels = dict(P.Channel.choices)
    for r in selectors.channel_mix(scope, p.start, p.end):
        yield [
            str(labels.get(r["channel"], r["channel"])),
            r["payments"],
            r["received"],
            r["prepaid"],
            r["refunded"],
            r["net"],
        ]


def by_cashier(scope, p) -> Iterator[list]:
    for r in selectors.by_cashier(scope, p.start, p.end):
        yield [
            r["cashier"] or _("(online, bank, system)"),
            r["payments"],
            r["received"],
            r["refunded"],
            r["net"],
        ]


def disputes(scope, p) -> Iterator[list]:
    for r in collection_seam.disputes(scope.estate_ids, p.start, p.end):
        yield [
            r["label"], r["raised"], r["resolved"], r["median_hours"], r["longest_hours"],
            r["open"], r["overdue_work_orders"],
        ]  # fmt: skip


def _months_cols(year_label=True):
    return [f"{m:02d}" for m in range(1, 13)]


TABLES = [
    Table(
        "fee-summary",
        _("Fee summary (费用汇总表)"),
        _(
            "Per estate and fee item: receivable of the periods in the range, waivers and money "
            "received in the range split by what it paid, and what is owed now."
        ),
        [_("Estate"), _("Fee item"), *MONEY_COLS],
        fee_summary,
    ),
    Table(
        "by-building",
        _("Fees by building (楼栋费用表)"),
        _("Per building, the same figures as the fee summary."),
        [_("Estate"), _("Building"), *MONEY_COLS],
        by_building,
    ),
    Table(
        "by-item",
        _("Fees by item (费用分项表)"),
        _("Per fee item, kind and period, the same figures as the fee summary."),
        [_("Fee item"), _("Kind"), _("Period"), *MONEY_COLS],
        by_item,
    ),
    Table(
        "fee-detail",
        _("Fee detail (费用明细表)"),
        _("Every charge of the periods in the range."),
        [
            _("Building"),
            _("Unit"),
            _("Payer"),
            _("Fee item"),
            _("Period"),
            _("Kind"),
            _("Bill date"),
            _("Due"),
            _("Amount"),
            _("Outstanding"),
            _("Status"),
        ],
        fee_detail,
    ),
    Table(
        "arrears-detail",
        _("Arrears detail (欠费明细表)"),
        _(
            "Every charge due by the end of the range with something unpaid, with its days "
            "overdue and aging bucket."
        ),
        [
            _("Building"),
            _("Unit"),
            _("Payer"),
            _("Fee item"),
            _("Period"),
            _("Kind"),
            _("Due"),
            _("Days overdue"),
            _("Aging"),
            _("Outstanding"),
        ],
        arrears_detail,
    ),
    Table(
        "arrears-list",
        _("Unpaid households (欠费清单, internal)"),
        _(
            "Households with charges due and unpaid by the end of the range, with the reason from"
            " their arrears case. For internal use only: phone numbers are masked unless your "
            "role may see them; every export is audited."
        ),
        [
            _("Building"),
            _("Unit"),
            _("Owner"),
            _("Phone"),
            _("Oldest period"),
            _("Charges"),
            _("Outstanding"),
            _("Reason"),
        ],
        arrears_list,
    ),
    Table(
        "payment-detail",
        _("Payment detail (收款明细表)"),
        _(
            "Every amount applied to a charge by money received in the range (not uses of the "
            "prepayment balance), and whether it paid the current period, arrears or ahead."
        ),
        [
            _("Business date"),
            _("Receipt"),
            _("Unit"),
            _("Payer"),
            _("Fee item"),
            _("Period"),
            _("Paid for"),
            _("Amount"),
        ],
        payment_detail,
    ),
    Table(
        "payment-list",
        _("Payment list (收款清单)"),
        _("Every payment received in the range."),
        [
            _("Business date"),
            _("Receipt"),
            _("Unit"),
            _("Payer"),
            _("Method"),
            _("Amount"),
            pgettext_lazy("payment column", "Applied to charges"),
            _("To prepayment"),
            _("Cashier"),
            _("Status"),
        ],
        payment_list,
    ),
    Table(
        "owner-months",
        _("Payments per owner by month"),
        _("Money received from each owner in each month of the year of the range's end."),
        [_("Owner"), *_months_cols(), _("Total")],
        owner_months,
    ),
    Table(
        "fee-ledger",
        _("Yearly fee ledger (费用台账)"),
        _("Per unit, what each month of the year billed, paid and still owes."),
        [_("Building"), _("Unit"), *_months_cols(), _("Billed"), _("Paid"), _("Owed")],
        fee_ledger,
    ),
    Table(
        "deposits",
        _("Deposits (押金)"),
        _("Deposits raised, paid and released."),
        [
            _("Unit"),
            _("Payer"),
            _("Fee item"),
            _("Bill date"),
            _("Amount"),
            _("Paid"),
            _("Released"),
            _("Description"),
        ],
        deposits,
    ),
    Table(
        "units-without-fees",
        _("Units without fees"),
        _("Active units with no regular charge in the periods of the range."),
        [_("Building"), _("Unit"), _("Type"), _("Area"), _("Occupancy"), _("Fee start")],
        units_without_fees,
    ),
    Table(
        "expiring-prepayments",
        _("Expiring prepayments"),
        _(
            "Prepayment balances that cover less than two months of the owner's fees of the "
            "range's last month."
        ),
        [_("Owner"), _("Balance"), _("Monthly fees"), _("Months covered")],
        expiring_prepayments,
    ),
    Table(
        "by-method",
        _("Received by payment method"),
        _(
            "Payments by method on their business day in the range, less voids and refunds "
            "approved in it."
        ),
        [_("Method"), _("Payments"), _("Received"), _("To prepayment"), _("Refunded"), _("Net")],
        by_method,
    ),
    Table(
        "by-cashier",
        _("Received per cashier"),
        _(
            "Payments each cashier took in the range, less voids and refunds of them approved in "
            "it."
        ),
        [_("Cashier"), _("Payments"), _("Received"), _("Refunded"), _("Net")],
        by_cashier,
    ),
    Table(
        "disputes",
        _("Service disputes (服务争议)"),
        DEFINITIONS["disputes"],
        [
            _("Category"),
            pgettext_lazy("disputes counted", "Raised"),
            pgettext_lazy("disputes counted", "Resolved"),
            _("Median hours to resolve"),
            _("Longest (hours)"),
            _("Open"),
            _("Work orders past their promised deadline"),
        ],
        disputes,
    ),
]
BY_NAME = {t.name: t for t in TABLES}
