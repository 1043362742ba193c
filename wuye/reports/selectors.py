"""The figures (README: "Definitions"), read from the summary cells, and the drill-down from
any figure to the households and charges behind it, read from the books.

Every selector takes a `Scope` (the estates a user may see, optionally one estate, building
or fee item) and reads the summary cells plus the deltas postings wrote since the last fold
(`summaries`), in one snapshot: nothing is recomputed on the way, and no charge or payment
is read for a figure."""

import contextlib
import contextvars
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import QuerySet, Sum
from django.http import Http404

from wuye.billing.models import Charge
from wuye.core.money import ZERO, MoneySum
from wuye.registry.models import Building, Estate
from wuye.registry.selectors import estates_for

from .definitions import (
    BUCKETS,
    Rate,
    bucket_due_range,
    bucket_of,
    month_add,
    month_end,
    month_of,
    months_of_year,
    split_kind,
)
from .models import (
    BuildingCell,
    CellDelta,
    CollectionCell,
    CountDelta,
    EstateCell,
    HouseholdCell,
    KindGroup,
    MoneyCell,
    MoneyDelta,
)

FEES = [KindGroup.FEE.value]
ARREARS = [KindGroup.FEE.value, KindGroup.OPENING.value]


@dataclass(frozen=True)
class Scope:
    """Which books a figure covers: estates (a company is all of them), maybe one building
    and one fee item."""

    estate_ids: tuple[int, ...]
    building_id: int | None = None
    fee_item_id: int | None = None
    label: str = ""

    def filter(self, qs: QuerySet, *, items: bool = True) -> QuerySet:
        qs = qs.filter(estate_id__in=self.estate_ids)
        if self.building_id:
            qs = qs.filter(building_id=self.building_id)
        if items and self.fee_item_id:
            qs = qs.filter(fee_item_id=self.fee_item_id)
        return qs

    def cells(self, **filters) -> QuerySet:
        """The collection cells of the scope: per building when it is one building, else
        the estates' sums (far fewer rows, the same money)."""
        if self.building_id:
            return self.filter(CollectionCell.objects.filter(**filters))
        qs = EstateCell.objects.filter(estate_id__in=self.estate_ids, **filters)
        if self.fee_item_id:
            qs = qs.filter(fee_item_id=self.fee_item_id)
        return qs

    def deltas(self, **filters) -> QuerySet:
        """The pending cell deltas of the scope (added to `cells` by every reader)."""
        return self.filter(CellDelta.objects.filter(**filters))

    def charges(self) -> QuerySet:
        qs = Charge.objects.filter(estate_id__in=self.estate_ids)
        if self.building_id:
            qs = qs.filter(unit__building_id=self.building_id)
        if self.fee_item_id:
            qs = qs.filter(fee_item_id=self.fee_item_id)
        return qs

    def params(self) -> dict:
        out = {}
        if len(self.estate_ids) == 1:
            out["estate"] = self.estate_ids[0]
        if self.building_id:
            out["building"] = self.building_id
        if self.fee_item_id:
            out["item"] = self.fee_item_id
        return out


def scope_for(user, *, estate_id=None, building_id=None, fee_item_id=None) -> Scope:
    """The user's scope; another estate's (or an unknown) estate or building is a 404."""
    estates = estates_for(user)
    label = ""
    if estate_id:
        estate = estates.filter(pk=estate_id).first()
        if estate is None:
            raise Http404("estate")
        ids, label = (estate.pk,), estate.name
    else:
        ids = tuple(estates.values_list("pk", flat=True))
    if building_id:
        building = Building.objects.filter(pk=building_id, estate_id__in=ids).first()
        if building is None:
            raise Http404("building")
        ids, label = (building.estate_id,), f"{building.estate.name} {building.name}"
    return Scope(
        estate_ids=ids,
        building_id=int(building_id) if building_id else None,
        fee_item_id=int(fee_item_id) if fee_item_id else None,
        label=label,
    )


_pinned: contextvars.ContextVar = contextvars.ContextVar("reports_pinned", default=None)


@contextlib.contextmanager
def snapshot():
    """Reads in one snapshot (PostgreSQL: a repeatable-read transaction), so a fold of the
    deltas committing between two reads never counts a delta twice or not at all. Inside a
    transaction already, the caller's."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def fresh() -> None:
    """Kept for callers: the cells plus their deltas are always fresh; nothing to do."""


_FIELDS = ("period", "month", "kind", "due_date", "billed", "waived", "received", "from_balance")


def _read(scope: Scope, **filters) -> list[tuple]:
    """The scope's cells and their pending deltas: one statement (one snapshot)."""
    cells = scope.cells(**filters).order_by().values_list(*_FIELDS)
    return list(cells.union(scope.deltas(**filters).order_by().values_list(*_FIELDS), all=True))


def _cached(name: str, compute):
    """`compute()` once per pinned page (the same figures asked by two selectors)."""
    pin = _pinned.get()
    if pin is None:
        return compute()
    if name not in pin[2]:
        pin[2][name] = compute()
    return pin[2][name]


@contextlib.contextmanager
def pinned(scope: Scope):
    """Within the block, every figure of `scope` is computed from one read of its cells (a
    page of figures is one query for the money, not one per figure), and the other reads
    share its snapshot."""
    with snapshot():
        token = _pinned.set((scope, _read(scope), {}))
        try:
            yield
        finally:
            _pinned.reset(token)


def _rows(scope: Scope, kinds=None, **filters) -> list[tuple]:
    """(period, month, kind, due, billed, waived, received, from_balance) of the scope's cells
    matching `kinds` and simple filters (period, period__in, period__lt, month, month__lte)."""
    pin = _pinned.get()
    if pin is None or pin[0] != scope:
        if kinds is not None:
            filters["kind__in"] = kinds
        return _read(scope, **filters)
    tests = []
    for key, value in filters.items():
        field, _sep, op = key.partition("__")
        i = 0 if field == "period" else 1
        if op == "":
            tests.append(lambda r, i=i, v=value: r[i] == v)
        elif op == "in":
            wanted = set(value)
            tests.append(lambda r, i=i, v=wanted: r[i] in v)
        elif op == "lt":
            tests.append(lambda r, i=i, v=value: r[i] < v)
        elif op == "lte":
            tests.append(lambda r, i=i, v=value: r[i] <= v)
        else:
            raise ValueError(key)
    kinds_set = set(kinds) if kinds is not None else None
    return [
        r for r in pin[1] if (kinds_set is None or r[2] in kinds_set) and all(t(r) for t in tests)
    ]


# --- the grid of sums the rates divide ----------------------------------------------------------


def _grid(scope: Scope, kinds: list[str], **filters) -> dict[tuple[str, str], dict]:
    """{(period, month): {billed, waived, received, from_balance}} of the scope's cells."""
    out: dict[tuple[str, str], dict] = {}
    for period, month, _kind, _due, b, w, r, f in _rows(scope, kinds, **filters):
        cell = out.setdefault(
            (period, month),
            {"billed": ZERO, "waived": ZERO, "received": ZERO, "from_balance": ZERO},
        )
        cell["billed"] += b
        cell["waived"] += w
        cell["received"] += r
        cell["from_balance"] += f
    for cell in out.values():
        for k in cell:
            cell[k] = Decimal(cell[k]).quantize(ZERO)
    return out


def _rate(grid: dict, periods: list[str], received_through: str, as_of_month: str) -> Rate:
    billed = waived = part = ZERO
    wanted = set(periods)
    for (period, month), v in grid.items():
        if period not in wanted:
            continue
        billed += v["billed"]
        if month <= as_of_month:
            waived += v["waived"]
        if month <= received_through:
            part += v["received"]
    return Rate(part=part, whole=billed - waived, billed=billed, waived=waived)


def period_rate(scope: Scope, period: str, as_of: date) -> Rate:
    """当期收缴率 (definitions.DEFINITIONS["collection_rate"])."""
    as_of_month = month_of(as_of)
    grid = _grid(scope, FEES, period=period)
    return _rate(grid, [period], min(period, as_of_month), as_of_month)


def cumulative_rate(scope: Scope, period: str, as_of: date) -> Rate:
    """累计收缴率."""
    as_of_month = month_of(as_of)
    return _rate(_grid(scope, FEES, period=period), [period], as_of_month, as_of_month)


def year_rate(scope: Scope, year: int, as_of: date) -> Rate:
    """年度收缴率: January to the as-of month of `year`, received by the as-of month (of that
    year: last year's figure is as at the same month's end last year)."""
    through = month_of(as_of) if as_of.year == year else f"{year:04d}-{as_of.month:02d}"
    periods = months_of_year(year, int(through[5:7]))
    grid = _grid(scope, FEES, period__in=periods)
    return _rate(grid, periods, through, through)


def household_rate(scope: Scope, period: str) -> Rate:
    """户收费率 now, of the households billed fees for `period`."""
    billed = owing = 0
    cells, deltas = (
        scope.filter(model.objects.filter(period=period), items=False)
        .order_by()
        .values("period")
        .annotate(b=Sum("units_billed"), o=Sum("units_owing"))
        .values_list("b", "o")
        for model in (HouseholdCell, CountDelta)
    )
    for b, o in cells.union(deltas, all=True):  # one statement: one snapshot
        billed, owing = billed + (b or 0), owing + (o or 0)
    return Rate(part=Decimal(billed - owing), whole=Decimal(billed))


def clearance_rate(scope: Scope, month: str) -> Rate:
    """清缴率 of `month`: received in the month for earlier periods' fees and opening arrears
    ÷ owed on them at the month's start."""
    grid = _grid(scope, ARREARS, period__lt=month, month__lte=month)
    owed = collected = ZERO
    for (_period, m), v in grid.items():
        if m < month:
            owed += v["billed"] - v["waived"] - v["received"]
        else:
            collected += v["received"]
    return Rate(part=collected, whole=owed)


@dataclass
class AgingBucket:
    code: str
    label: str
    amount: Decimal = ZERO


def aging(scope: Scope, as_of: date) -> list[AgingBucket]:
    """What is owed now on fees and opening arrears, by days past the due date on `as_of`."""
    buckets = {code: AgingBucket(code, str(label)) for code, label, _lo, _hi in BUCKETS}
    for _p, _m, _k, due, b, w, r, _f in _rows(scope, ARREARS):
        buckets[bucket_of(due, as_of)].amount += Decimal(b) - Decimal(w) - Decimal(r)
    for b in buckets.values():
        b.amount = Decimal(b.amount).quantize(ZERO)
    return list(buckets.values())


def late_fees_owed(scope: Scope) -> Decimal:
    owed = sum(
        (
            Decimal(b) - Decimal(w) - Decimal(r)
            for *_x, b, w, r, _f in _rows(scope, [KindGroup.LATE_FEE.value])
        ),
        Decimal(0),
    )
    return Decimal(owed).quantize(ZERO)


@dataclass
class Split:
    """Money received in a month, split (definitions.DEFINITIONS["split"])."""

    current: Decimal = ZERO
    arrears: Decimal = ZERO
    advance: Decimal = ZERO
    prepaid: Decimal = ZERO
    late_fees: Decimal = ZERO
    other: Decimal = ZERO  # deposits

    @property
    def prepayment(self) -> Decimal:
        return self.advance + self.prepaid

    @property
    def total(self) -> Decimal:
        return self.current + self.arrears + self.prepayment + self.late_fees + self.other

    def as_dict(self) -> dict:
        return {
            "current": str(self.current),
            "arrears": str(self.arrears),
            "prepayment": str(self.prepayment),
            "advance": str(self.advance),
            "prepaid": str(self.prepaid),
            "late_fees": str(self.late_fees),
            "deposits": str(self.other),
            "total": str(self.total),
        }


def payment_split(scope: Scope, month: str) -> Split:
    """New money received in `month` (not uses of the prepayment balance), split by what it
    paid. Late fees and deposits are their own lines."""
    split = Split()
    for period, _m, kind_group, _d, _b, _w, r, f in _rows(scope, None, month=month):
        new = Decimal(r) - Decimal(f)
        if kind_group == KindGroup.LATE_FEE:
            split.late_fees += new
        elif kind_group == KindGroup.DEPOSIT:
            split.other += new
        else:
            kind = split_kind(period, month)
            setattr(split, kind, getattr(split, kind) + new)
    for name in ("current", "arrears", "advance", "late_fees", "other"):
        setattr(split, name, Decimal(getattr(split, name)).quantize(ZERO))
    if not scope.building_id and not scope.fee_item_id:
        start, end = date(int(month[:4]), int(month[5:7]), 1), month_end(month)
        prepaid = sum((r["prepaid"] for r in _money(scope, start, end, "channel")), ZERO)
        split.prepaid = Decimal(prepaid).quantize(ZERO)
    return split


@dataclass
class TrendPoint:
    month: str
    rate: Rate
    last_year: Rate


def monthly_trend(scope: Scope, year: int, as_of: date) -> list[TrendPoint]:
    """Each month's collection rate of `year` (to the as-of month) against the same month of
    the year before."""
    last = month_of(as_of) if as_of.year == year else f"{year:04d}-12"
    months = [m for m in months_of_year(year) if m <= last]
    previous = [month_add(m, -12) for m in months]
    grid = _grid(scope, FEES, period__in=months + previous)
    return [
        TrendPoint(
            month=m,
            rate=_rate(grid, [m], m, month_of(as_of)),
            last_year=_rate(grid, [p], p, month_add(month_of(as_of), -12)),
        )
        for m, p in zip(months, previous, strict=True)
    ]


@dataclass
class BuildingArrears:
    building_id: int
    name: str
    estate: str
    owing: Decimal
    units_owing: int
    units_billed: int


def _building_deltas(scope: Scope) -> dict[int, list]:
    """{building: [households, owing, amount owing]} of the pending deltas of the scope."""
    return _cached("buildings", lambda: _building_deltas_of(scope))


def _building_deltas_of(scope: Scope) -> dict[int, list]:
    out: dict[int, list] = defaultdict(lambda: [0, 0, ZERO])
    for row in (
        scope.filter(CountDelta.objects.filter(period=""), items=False)
        .order_by()
        .values("building_id")
        .annotate(b=Sum("units_billed"), o=Sum("units_owing"))
    ):
        out[row["building_id"]][0] += row["b"] or 0
        out[row["building_id"]][1] += row["o"] or 0
    for row in (
        scope.filter(CellDelta.objects.filter(kind__in=ARREARS), items=False)
        .order_by()
        .values("building_id")
        .annotate(b=MoneySum("billed"), w=MoneySum("waived"), r=MoneySum("received"))
    ):
        out[row["building_id"]][2] += row["b"] - row["w"] - row["r"]
    return out


def arrears_by_building(scope: Scope, limit: int = 20) -> list[BuildingArrears]:
    """The buildings owing most: the stored top `limit` plus the buildings with pending
    deltas, ranked again with the deltas added."""
    with snapshot():
        deltas = _building_deltas(scope)
        cells = scope.filter(BuildingCell.objects.all(), items=False)
        rows = {
            c.building_id: [c.units_billed, c.units_owing, c.owing]
            for c in [
                *cells.filter(owing__gt=0).order_by("-owing", "building_id")[: limit + len(deltas)],
                *cells.filter(building_id__in=list(deltas)),
            ]
        }
    for building_id, d in deltas.items():
        row = rows.setdefault(building_id, [0, 0, ZERO])
        for j in range(3):
            row[j] += d[j]
    ranked = sorted(
        ((b, r) for b, r in rows.items() if r[2] > 0), key=lambda br: (-br[1][2], br[0])
    )[:limit]
    names = {
        b.pk: b
        for b in Building.objects.filter(pk__in=[b for b, _r in ranked]).select_related("estate")
    }
    return [
        BuildingArrears(
            building_id=b,
            name=names[b].name if b in names else str(b),
            estate=names[b].estate.name if b in names else "",
            owing=r[2],
            units_owing=r[1],
            units_billed=r[0],
        )
        for b, r in ranked
    ]


def owing_households(scope: Scope) -> Rate:
    """Households owing now (part) of households billed (whole)."""
    with snapshot():
        row = scope.filter(BuildingCell.objects.all(), items=False).aggregate(
            b=Sum("units_billed"), o=Sum("units_owing"), s=MoneySum("owing")
        )
        billed, owing, amount = row["b"] or 0, row["o"] or 0, row["s"]
        for d in _building_deltas(scope).values():
            billed, owing, amount = billed + d[0], owing + d[1], amount + d[2]
    return Rate(part=Decimal(owing), whole=Decimal(billed), billed=amount)


def _m(value) -> Decimal:
    """Money from a union's sums (SQLite may hand back floats): exactly two places."""
    return Decimal(str(value or 0)).quantize(ZERO)


def _money(scope: Scope, start: date, end: date, by: str) -> list[dict]:
    sums: dict = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
    cells, deltas = (
        model.objects.filter(estate_id__in=scope.estate_ids, day__gte=start, day__lte=end)
        .order_by()
        .values(by)
        .annotate(
            n=Sum("payments"), r=MoneySum("received"), p=MoneySum("prepaid"),
            x=MoneySum("refunded"),
        )
        .values_list(by, "n", "r", "p", "x")
        for model in (MoneyCell, MoneyDelta)
    )  # fmt: skip
    for key, n, r, p, x in cells.union(deltas, all=True):  # one statement: one snapshot
        cell = sums[key]
        cell[0] += n or 0
        cell[1] += _m(r)
        cell[2] += _m(p)
        cell[3] += _m(x)
    return [
        {
            by: key,
            "payments": v[0],
            "received": v[1],
            "prepaid": v[2],
            "refunded": v[3],
            "net": v[1] - v[3],
        }
        for key, v in sorted(sums.items())
    ]


def channel_mix(scope: Scope, start: date, end: date) -> list[dict]:
    """Received by method (definitions.DEFINITIONS["channels"])."""
    return _money(scope, start, end, "channel")


def by_cashier(scope: Scope, start: date, end: date) -> list[dict]:
    from django.contrib.auth import get_user_model

    from wuye.core.names import person_name

    rows = _money(scope, start, end, "cashier_id")
    users = get_user_model().objects.in_bulk([r["cashier_id"] for r in rows if r["cashier_id"]])
    for r in rows:
        user = users.get(r["cashier_id"])
        r["cashier"] = person_name(user) if user else ""
    return rows


def estates_of(scope: Scope) -> list[Estate]:
    return list(Estate.objects.filter(pk__in=scope.estate_ids).order_by("code"))


# --- drill-down: the households and charges behind a figure --------------------------------------


@dataclass
class Drill:
    """What a figure counts, as filters on charges (all optional)."""

    period: str = ""
    periods_before: str = ""  # periods before this month (arrears)
    kinds: list[str] = field(default_factory=lambda: list(ARREARS))
    bucket: str = ""
    owing: bool = True
    as_of: date | None = None

    def params(self) -> dict:
        out = {"kinds": ",".join(self.kinds), "owing": "1" if self.owing else "0"}
        if self.period:
            out["period"] = self.period
        if self.periods_before:
            out["before"] = self.periods_before
        if self.bucket:
            out["bucket"] = self.bucket
        return out


def _kinds_of(groups: list[str]) -> list[str]:
    from .models import KIND_GROUPS

    return [k for k, g in KIND_GROUPS.items() if g in groups]


def drill_charges(scope: Scope, drill: Drill) -> QuerySet:
    """The (not cancelled) charges behind a figure, with unit, building, party and item."""
    qs = (
        scope.charges()
        .exclude(status=Charge.Status.CANCELLED)
        .filter(kind__in=_kinds_of(drill.kinds))
    )
    if drill.period:
        qs = qs.filter(period=drill.period)
    if drill.periods_before:
        qs = qs.filter(period__lt=drill.periods_before)
    if drill.owing:
        qs = qs.filter(outstanding__gt=0)
    if drill.bucket:
        earliest, latest = bucket_due_range(drill.bucket, drill.as_of or date.today())
        if earliest:
            qs = qs.filter(due_date__gte=earliest)
        if latest:
            qs = qs.filter(due_date__lte=latest)
    return qs.select_related("unit__building", "party", "fee_item", "estate").order_by(
        "unit__building__code", "unit__number", "period", "fee_item_id", "id"
    )


@dataclass
class Household:
    unit_id: int
    unit: str
    building: str
    party_id: int
    party: str
    charges: int = 0
    amount: Decimal = ZERO
    outstanding: Decimal = ZERO
    oldest: str = ""


def drill_households(charges: QuerySet, limit: int = 500) -> list[Household]:
    """The charges grouped by household (unit and who owes)."""
    rows = (
        charges.order_by()
        .values("unit_id", "unit__number", "unit__building__name", "party_id", "party__name")
        .annotate(n=Sum(1), a=MoneySum("amount"), o=MoneySum("outstanding"))
        .order_by("-o", "unit__number")[:limit]
    )
    oldest = defaultdict(str)
    out = []
    for r in rows:
        out.append(
            Household(
                unit_id=r["unit_id"],
                unit=r["unit__number"],
                building=r["unit__building__name"],
                party_id=r["party_id"],
                party=r["party__name"],
                charges=r["n"],
                amount=r["a"],
                outstanding=r["o"],
                oldest=oldest[r["unit_id"]],
            )
        )
    return out
