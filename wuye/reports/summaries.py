"""Keeping the summary cells (`wuye.reports.models`) equal to the books.

Posting services call `wuye.billing.events.receivables_changed` inside their transaction;
`mark` (registered in `apps.py`) turns what they name into marks -- (building, period) for
charges, (estate, day) for money -- with an upsert in that same transaction. `refresh` takes
the marks (locked, skipping those a posting still holds), recomputes their cells from the
books with a handful of set-wise queries per period, and deletes the marks, in one
transaction. Readers call `refresh` first (`selectors.fresh`), and the scheduled job every
minute, so a figure is never older than the last commit.

A cell is always recomputed whole from its sources, never adjusted by a delta: a mark
refreshed twice is harmless, and `computed` (the same code over every key) is the full
recomputation the tests compare against.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from wuye.billing.models import Charge, CreditNote, Waiver
from wuye.core.money import ZERO, MoneySum
from wuye.payments.models import Allocation, Payment, PaymentReversal
from wuye.registry.models import Building, Unit

from .models import (
    KIND_GROUPS,
    BuildingCell,
    CollectionCell,
    DirtyCell,
    DirtyDay,
    EstateCell,
    HouseholdCell,
    KindGroup,
    MoneyCell,
    OwingUnit,
)

FEE_KINDS = [k for k, g in KIND_GROUPS.items() if g == KindGroup.FEE]
ARREARS_KINDS = [*FEE_KINDS, "opening"]
PREPAYMENT = Payment.Channel.PREPAYMENT
BATCH = 500  # buildings recomputed per set of queries

# --- marking (inside the posting's transaction) ------------------------------------------


def mark(
    *,
    charge_ids: list[int] = (),
    cells: Iterable[tuple[int, int, str]] = (),
    estate_periods: list[tuple[int, str]] = (),
    money_days: Iterable[tuple[int, date]] = (),
) -> None:
    """Listener of `receivables_changed`: upsert the marks of what changed."""
    cells = set(cells)
    ids = list(charge_ids)
    for i in range(0, len(ids), 900):
        cells.update(
            Charge.objects.filter(pk__in=ids[i : i + 900])
            .order_by()
            .values_list("estate_id", "unit__building_id", "period")
            .distinct()
        )
    for estate_id, period in estate_periods:
        for building_id in Building.objects.filter(estate_id=estate_id).values_list(
            "pk", flat=True
        ):
            cells.add((estate_id, building_id, period))
    if cells:
        DirtyCell.objects.bulk_create(
            [DirtyCell(estate_id=e, building_id=b, period=p) for e, b, p in sorted(cells)],
            update_conflicts=True,
            unique_fields=["building_id", "period"],
            update_fields=["marks"],
        )
    days = sorted(set(money_days))
    if days:
        DirtyDay.objects.bulk_create(
            [DirtyDay(estate_id=e, day=d) for e, d in days],
            update_conflicts=True,
            unique_fields=["estate_id", "day"],
            update_fields=["marks"],
        )


# --- computing cells from the books ------------------------------------------------------


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _local_month(moment) -> str:
    return _month(timezone.localdate(moment))


_C = ("estate_id", "unit__building_id", "fee_item_id", "kind", "due_date")


def _key(row: dict, prefix: str, period: str, month: str) -> tuple:
    return (
        row[f"{prefix}estate_id"],
        row[f"{prefix}unit__building_id"],
        row[f"{prefix}fee_item_id"],
        str(KIND_GROUPS[row[f"{prefix}kind"]]),
        period,
        row[f"{prefix}due_date"],
        month,
    )


def _reversal_days(rows: list[dict]) -> dict[int, date]:
    """The business day of each negative allocation: the approved reversal of its payment
    that reopened its charge, matched in order (a payment refunded twice on one charge)."""
    if not rows:
        return {}
    reversals = defaultdict(list)
    for r in (
        PaymentReversal.objects.filter(
            payment_id__in={r["payment_id"] for r in rows},
            status=PaymentReversal.Status.APPROVED,
        )
        .order_by("decided_at", "id")
        .values("payment_id", "charges", "business_date", "decided_at")
    ):
        day = r["business_date"] or timezone.localdate(r["decided_at"])
        for charge_id in r["charges"] or {}:
            reversals[(r["payment_id"], int(charge_id))].append(day)
    days, seen = {}, defaultdict(int)
    for r in sorted(rows, key=lambda r: r["id"]):
        k = (r["payment_id"], r["charge_id"])
        found = reversals.get(k, [])
        i = seen[k]
        seen[k] += 1
        days[r["id"]] = found[i] if i < len(found) else timezone.localdate(r["created_at"])
    return days


def _cells_of(charges) -> dict[tuple, dict[str, Decimal]]:
    """{cell key: {billed, waived, received, from_balance}} of the charges (a queryset of
    non-cancelled charges of one period)."""
    cells: dict[tuple, dict[str, Decimal]] = defaultdict(
        lambda: {"billed": ZERO, "waived": ZERO, "received": ZERO, "from_balance": ZERO}
    )
    for row in charges.order_by().values(*_C, "period").annotate(s=MoneySum("amount")):
        cells[_key(row, "", row["period"], row["period"])]["billed"] += row["s"]
    c = tuple(f"charge__{f}" for f in _C) + ("charge__period",)
    waivers = Waiver.objects.filter(status=Waiver.Status.APPROVED, charge__in=charges)
    for row in waivers.order_by().values(*c, "decided_at", "requested_at", "amount"):
        month = _local_month(row["decided_at"] or row["requested_at"])
        cells[_key(row, "charge__", row["charge__period"], month)]["waived"] += row["amount"]
    for row in (
        CreditNote.objects.filter(charge__in=charges).order_by().values(*c, "created_at", "amount")
    ):
        month = _local_month(row["created_at"])
        cells[_key(row, "charge__", row["charge__period"], month)]["waived"] += row["amount"]
    allocations = Allocation.objects.filter(charge__in=charges)
    for row in (
        allocations.filter(reverses__isnull=True)
        .order_by()
        .values(*c, "payment__business_date", "payment__channel")
        .annotate(s=MoneySum("amount"))
    ):
        cell = cells[
            _key(row, "charge__", row["charge__period"], _month(row["payment__business_date"]))
        ]
        cell["received"] += row["s"]
        if row["payment__channel"] == PREPAYMENT:
            cell["from_balance"] += row["s"]
    negative = list(
        allocations.filter(reverses__isnull=False)
        .order_by()
        .values(*c, "id", "payment_id", "charge_id", "amount", "created_at", "payment__channel")
    )
    days = _reversal_days(negative)
    for row in negative:
        cell = cells[_key(row, "charge__", row["charge__period"], _month(days[row["id"]]))]
        cell["received"] += row["amount"]
        if row["payment__channel"] == PREPAYMENT:
            cell["from_balance"] += row["amount"]
    return cells


def _households_of(charges) -> dict[tuple, list[int]]:
    """{(estate, building, period): [units billed fees, units owing on them]}."""
    out: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    fees = charges.filter(kind__in=FEE_KINDS).order_by()
    for i, qs in enumerate((fees, fees.filter(outstanding__gt=0))):
        for row in qs.values("estate_id", "unit__building_id", "period").annotate(
            n=Count("unit_id", distinct=True)
        ):
            out[(row["estate_id"], row["unit__building_id"], row["period"])][i] = row["n"]
    return out


def _owing_units_of(charges) -> set[tuple]:
    """{(estate, building, unit, period)} of units owing on fees or opening arrears."""
    return set(
        charges.filter(kind__in=ARREARS_KINDS, outstanding__gt=0)
        .order_by()
        .values_list("estate_id", "unit__building_id", "unit_id", "period")
        .distinct()
    )


GROUP_GROUPS = [str(g) for g in (KindGroup.FEE, KindGroup.OPENING)]


def _buildings_of(buildings: list[int] | None) -> dict[tuple, list]:
    """{(estate, building): [active units, units owing, amount owing]} from the units, the
    owing-unit rows and the collection cells (so: after those are written)."""
    out: dict[tuple, list] = {}
    billed: set[tuple] = set()
    units = Unit.objects.filter(is_active=True)
    owing_units = OwingUnit.objects.all()
    cells = CollectionCell.objects.filter(kind__in=GROUP_GROUPS)
    if buildings is not None:
        units = units.filter(building_id__in=buildings)
        owing_units = owing_units.filter(building_id__in=buildings)
        cells = cells.filter(building_id__in=buildings)
    for row in units.order_by().values("estate_id", "building_id").annotate(n=Count("id")):
        out[(row["estate_id"], row["building_id"])] = [row["n"], 0, ZERO]
    for row in (
        owing_units.order_by()
        .values("estate_id", "building_id")
        .annotate(n=Count("unit_id", distinct=True))
    ):
        out.setdefault((row["estate_id"], row["building_id"]), [0, 0, ZERO])[1] = row["n"]
    for row in (
        cells.order_by()
        .values("estate_id", "building_id")
        .annotate(b=MoneySum("billed"), w=MoneySum("waived"), r=MoneySum("received"))
    ):
        key = (row["estate_id"], row["building_id"])
        out.setdefault(key, [0, 0, ZERO])[2] = row["b"] - row["w"] - row["r"]
        billed.add(key)
    return {k: v for k, v in out.items() if k in billed}  # buildings with charges only


def _estate_cells_of(cells: dict[tuple, dict]) -> dict[tuple, dict]:
    """Building cells summed per (estate, item, kind, period, due date, month)."""
    out: dict[tuple, dict] = defaultdict(
        lambda: {"billed": ZERO, "waived": ZERO, "received": ZERO, "from_balance": ZERO}
    )
    for k, v in cells.items():
        cell = out[(k[0], *k[2:])]
        for name, amount in v.items():
            cell[name] += amount
    return out


def _money_of(payments, reversals) -> dict[tuple, list]:
    """{(estate, day, channel, cashier): [payments, received, prepaid, refunded]}."""
    out: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
    for row in (
        payments.exclude(channel=PREPAYMENT)
        .order_by()
        .values("estate_id", "business_date", "channel", "created_by_id")
        .annotate(n=Count("id"), s=MoneySum("amount"), p=MoneySum("prepaid"))
    ):
        k = (row["estate_id"], row["business_date"], row["channel"], row["created_by_id"] or 0)
        out[k][0] += row["n"]
        out[k][1] += row["s"]
        out[k][2] += row["p"]
    for row in (
        reversals.filter(status=PaymentReversal.Status.APPROVED)
        .exclude(payment__channel=PREPAYMENT)
        .order_by()
        .values(
            "estate_id",
            "business_date",
            "refund_channel",
            "payment__channel",
            "payment__created_by_id",
        )
        .annotate(s=MoneySum("amount"))
    ):
        channel = row["refund_channel"] or row["payment__channel"]
        k = (row["estate_id"], row["business_date"], channel, row["payment__created_by_id"] or 0)
        out[k][3] += row["s"]
    return out


def _live(qs):
    return qs.exclude(status=Charge.Status.CANCELLED)


# --- writing cells ---------------------------------------------------------------------------


def _write_cells(period: str, buildings: list[int]) -> None:
    charges = _live(Charge.objects.filter(period=period, unit__building_id__in=buildings))
    CollectionCell.objects.filter(period=period, building_id__in=buildings).delete()
    HouseholdCell.objects.filter(period=period, building_id__in=buildings).delete()
    OwingUnit.objects.filter(period=period, building_id__in=buildings).delete()
    OwingUnit.objects.bulk_create(
        [
            OwingUnit(estate_id=e, building_id=b, unit_id=u, period=p)
            for e, b, u, p in _owing_units_of(charges)
        ],
        batch_size=1000,
    )
    CollectionCell.objects.bulk_create(
        [
            CollectionCell(
                estate_id=k[0],
                building_id=k[1],
                fee_item_id=k[2],
                kind=k[3],
                period=k[4],
                due_date=k[5],
                month=k[6],
                **v,
            )
            for k, v in _cells_of(charges).items()
        ],
        batch_size=1000,
    )
    HouseholdCell.objects.bulk_create(
        [
            HouseholdCell(
                estate_id=k[0], building_id=k[1], period=k[2], units_billed=v[0], units_owing=v[1]
            )
            for k, v in _households_of(charges).items()
        ],
        batch_size=1000,
    )


def _write_buildings(buildings: list[int]) -> None:
    BuildingCell.objects.filter(building_id__in=buildings).delete()
    BuildingCell.objects.bulk_create(
        [
            BuildingCell(
                estate_id=k[0], building_id=k[1], units_billed=v[0], units_owing=v[1], owing=v[2]
            )
            for k, v in _buildings_of(buildings).items()
        ],
        batch_size=1000,
    )


def _write_estates(estate_id: int, period: str) -> None:
    """The estate's cells of a period, summed from its building cells."""
    EstateCell.objects.filter(estate_id=estate_id, period=period).delete()
    rows = (
        CollectionCell.objects.filter(estate_id=estate_id, period=period)
        .order_by()
        .values("fee_item_id", "kind", "due_date", "month")
        .annotate(
            b=MoneySum("billed"), w=MoneySum("waived"), r=MoneySum("received"),
            f=MoneySum("from_balance"),
        )
    )  # fmt: skip
    EstateCell.objects.bulk_create(
        [
            EstateCell(
                estate_id=estate_id, period=period, fee_item_id=r["fee_item_id"], kind=r["kind"],
                due_date=r["due_date"], month=r["month"], billed=r["b"], waived=r["w"],
                received=r["r"], from_balance=r["f"],
            )
            for r in rows
        ]
    )  # fmt: skip


def _write_days(estate_id: int, days: list[date]) -> None:
    MoneyCell.objects.filter(estate_id=estate_id, day__in=days).delete()
    money = _money_of(
        Payment.objects.filter(estate_id=estate_id, business_date__in=days),
        PaymentReversal.objects.filter(estate_id=estate_id, business_date__in=days),
    )
    MoneyCell.objects.bulk_create(
        [
            MoneyCell(
                estate_id=k[0],
                day=k[1],
                channel=k[2],
                cashier_id=k[3],
                payments=v[0],
                received=v[1],
                prepaid=v[2],
                refunded=v[3],
            )
            for k, v in money.items()
        ]
    )


def _locked(model, limit: int):
    qs = model.objects.order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return list(qs[:limit])


def refresh(*, limit: int = 20_000) -> int:
    """Recompute the marked cells (at most `limit` marks of each kind) and drop the marks.
    Returns how many marks were taken. Cheap (two indexed reads) when nothing is marked."""
    if not DirtyCell.objects.exists() and not DirtyDay.objects.exists():
        return 0
    with transaction.atomic():
        marks = _locked(DirtyCell, limit)
        days = _locked(DirtyDay, limit)
        by_period: dict[str, set[int]] = defaultdict(set)
        for m in marks:
            by_period[m.period].add(m.building_id)
        for period, buildings in sorted(by_period.items()):
            ordered = sorted(buildings)
            for i in range(0, len(ordered), BATCH):
                _write_cells(period, ordered[i : i + BATCH])
        touched = sorted({m.building_id for m in marks})
        for i in range(0, len(touched), BATCH):
            _write_buildings(touched[i : i + BATCH])
        for estate_id, period in sorted({(m.estate_id, m.period) for m in marks}):
            _write_estates(estate_id, period)
        by_estate: dict[int, list[date]] = defaultdict(list)
        for d in days:
            by_estate[d.estate_id].append(d.day)
        for estate_id, estate_days in sorted(by_estate.items()):
            _write_days(estate_id, estate_days)
        DirtyCell.objects.filter(pk__in=[m.pk for m in marks]).delete()
        DirtyDay.objects.filter(pk__in=[d.pk for d in days]).delete()
    return len(marks) + len(days)


def rebuild(*, estate_id: int | None = None) -> None:
    """Drop and recompute every cell (of one estate): after a restore, or to check."""
    with transaction.atomic():
        charges = _live(Charge.objects.all())
        payments = Payment.objects.all()
        if estate_id is not None:
            charges = charges.filter(estate_id=estate_id)
            payments = payments.filter(estate_id=estate_id)
        keys = charges.order_by().values_list("unit__building_id", "period").distinct()
        for building_id, period in keys:
            DirtyCell.objects.get_or_create(
                building_id=building_id,
                period=period,
                defaults={"estate_id": Building.objects.get(pk=building_id).estate_id},
            )
        for e, d in payments.order_by().values_list("estate_id", "business_date").distinct():
            DirtyDay.objects.get_or_create(estate_id=e, day=d)
        for e, d in (
            PaymentReversal.objects.filter(business_date__isnull=False)
            .order_by()
            .values_list("estate_id", "business_date")
            .distinct()
        ):
            DirtyDay.objects.get_or_create(estate_id=e, day=d)
        scope = Q() if estate_id is None else Q(estate_id=estate_id)
        for model in (CollectionCell, EstateCell, HouseholdCell, BuildingCell, MoneyCell):
            model.objects.filter(scope).delete()
        OwingUnit.objects.filter(scope).delete()
    while refresh():
        pass


# --- the full recomputation the tests compare against -----------------------------------------


def computed() -> dict[str, dict]:
    """Every cell computed from the books now, in the shape of `stored`."""
    charges = _live(Charge.objects.all())
    cells = {k: v for k, v in _cells_of(charges).items() if any(v.values())}
    estates = {k: v for k, v in _estate_cells_of(cells).items() if any(v.values())}
    households = {k: tuple(v) for k, v in _households_of(charges).items()}
    owing = _owing_units_of(charges)
    # buildings: active units, distinct units owing, what the cells say is owed
    buildings: dict[tuple, list] = {}
    for row in (
        Unit.objects.filter(is_active=True)
        .order_by()
        .values("estate_id", "building_id")
        .annotate(n=Count("id"))
    ):
        buildings[(row["estate_id"], row["building_id"])] = [row["n"], 0, ZERO]
    per_building = defaultdict(set)
    for e, b, u, _p in owing:
        per_building[(e, b)].add(u)
    for key, units in per_building.items():
        buildings.setdefault(key, [0, 0, ZERO])[1] = len(units)
    for k, v in cells.items():
        if k[3] in GROUP_GROUPS:
            buildings.setdefault((k[0], k[1]), [0, 0, ZERO])[2] += (
                v["billed"] - v["waived"] - v["received"]
            )
    with_cells = {(k[0], k[1]) for k, v in cells.items() if k[3] in GROUP_GROUPS}
    buildings = {k: tuple(v) for k, v in buildings.items() if k in with_cells}
    money = {
        k: tuple(v)
        for k, v in _money_of(Payment.objects.all(), PaymentReversal.objects.all()).items()
    }
    return {
        "cells": cells, "estates": estates, "households": households, "owing": owing,
        "buildings": buildings, "money": money,
    }  # fmt: skip


def stored() -> dict[str, dict]:
    """Every stored cell, keyed as `computed` keys them."""
    cells = {
        (c.estate_id, c.building_id, c.fee_item_id, c.kind, c.period, c.due_date, c.month): {
            "billed": c.billed,
            "waived": c.waived,
            "received": c.received,
            "from_balance": c.from_balance,
        }
        for c in CollectionCell.objects.all()
    }
    cells = {k: v for k, v in cells.items() if any(v.values())}
    estates = {
        (c.estate_id, c.fee_item_id, c.kind, c.period, c.due_date, c.month): {
            "billed": c.billed,
            "waived": c.waived,
            "received": c.received,
            "from_balance": c.from_balance,
        }
        for c in EstateCell.objects.all()
    }
    estates = {k: v for k, v in estates.items() if any(v.values())}
    owing = set(OwingUnit.objects.values_list("estate_id", "building_id", "unit_id", "period"))
    households = {
        (h.estate_id, h.building_id, h.period): (h.units_billed, h.units_owing)
        for h in HouseholdCell.objects.all()
    }
    buildings = {
        (b.estate_id, b.building_id): (b.units_billed, b.units_owing, b.owing)
        for b in BuildingCell.objects.all()
    }
    money = {
        (m.estate_id, m.day, m.channel, m.cashier_id): (
            m.payments,
            m.received,
            m.prepaid,
            m.refunded,
        )
        for m in MoneyCell.objects.all()
    }
    return {
        "cells": cells, "estates": estates, "households": households, "owing": owing,
        "buildings": buildings, "money": money,
    }  # fmt: skip
