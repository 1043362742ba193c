"""Metered charges (水費, 電費, 燃氣費) of a bill run.

For each active item of basis `metered` of an estate, a run bills the consumption the fees app
reports as billable (`fees.selectors.billable_consumption`): unit-meter readings that are ok or
approved and not yet billed, and lines of approved shared-meter apportionments (公攤). Flagged
readings are not billable until approved.

One charge per consumption row: consumption x the rate of the published standard in force on
the reading date for the unit's type, rounded by the item's rule, owed by the unit's payer on
the reading date, described like `2026-12 水费 12.500吨×4.20`. Consumption read up to the end
of the run's period (or the run date, if earlier) is billed in that run.

Nothing is billed twice: the rows are read after the billing-period row lock is taken, and
marked billed (`consumption_mark_billed`, which refuses a row already billed) in the same
transaction as the charges and the ledger entry. Each charge carries the idempotency key of
its consumption row (UNIQUE), the final guard. A re-run finds nothing left to bill.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from wuye.core.money import ROUNDING_UNITS, ZERO, money, split
from wuye.fees.models import FeeItem, FeeStandard
from wuye.fees.selectors import billable_consumption, standard_in_force
from wuye.fees.services.meters import consumption_mark_billed, consumption_unmark_billed
from wuye.registry.models import Estate, Unit, UnitParty

from .. import calculations
from ..events import receivables_changed
from ..models import BillingRun, Charge
from ..periods import Period
from ._common import DomainError
from .runs import ItemPlan, _lock_period, _post_delta

METER_UNIT_LABEL = {"ton": "吨", "kWh": "度", "m³": "m³"}
KEY_PREFIX = {"reading": "meter-reading", "apportionment": "apportionment-line"}


def metered_items(estate_id: int) -> list[FeeItem]:
    return list(
        FeeItem.objects.filter(
            estate_id=estate_id, is_active=True, basis=FeeItem.Basis.METERED
        ).order_by("code")
    )


def metered_plan(estate: Estate, item: FeeItem, period: Period, as_of: date) -> ItemPlan:
    """The run's view of one metered item: consumption read until the period's end (or the run
    date), billed on that day, due `due_days` later."""
    until = min(period.end, as_of)
    return ItemPlan(
        estate=estate,
        item=item,
        cycle=period,
        cycle_end=period.end,
        bill_date=until,
        due_date=until + timedelta(days=item.due_days),
    )


@dataclass
class MeteredCharge:
    key: str  # the idempotency key of the consumption row
    source: str  # "reading" | "apportionment"
    row_id: int
    unit_id: int
    party_id: int
    read_on: date
    consumption: Decimal
    rate: Decimal
    amount: Decimal
    description: str
    apportionment_id: int | None = None  # the shares of one shared reading tie out together


def _rate_text(rate: Decimal) -> str:
    """4.2000 -> "4.20", 0.5230 -> "0.523"."""
    text = f"{rate.normalize():f}"
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _payers_on(unit_ids: list[int], days: dict[int, set[date]]) -> dict[tuple[int, date], int]:
    """{(unit_id, day): party_id} of who pays each unit on each day asked for."""
    rels: dict[int, list[calculations.Relation]] = defaultdict(list)
    rows = UnitParty.objects.filter(unit_id__in=unit_ids).filter(
        Q(is_payer=True) | Q(role=UnitParty.Role.OWNER)
    )
    for unit_id, party_id, role, is_payer, start, end, pk in rows.values_list(
        "unit_id", "party_id", "role", "is_payer", "start_date", "end_date", "id"
    ):
        rels[unit_id].append(
            calculations.Relation(party_id, role == UnitParty.Role.OWNER, is_payer, start, end, pk)
        )
    out = {}
    for unit_id, wanted in days.items():
        for day in wanted:
            segments = calculations.payer_segments(rels.get(unit_id, []), day, day)
            if segments:
                out[(unit_id, day)] = segments[0][0]
    return out


def compute(plan: ItemPlan, skips: dict[str, list[str]]) -> list[MeteredCharge]:
    """The charges of the item's billable consumption (nothing written). Rows that cannot be
    billed yet (no payer, no published standard) are left for a later run and named in
    `skips`."""
    item = plan.item
    rows = billable_consumption(estate_id=plan.estate.pk, fee_item=item, until=plan.bill_date)
    if not rows:
        return []
    unit_ids = sorted({r["unit_id"] for r in rows})
    units = {
        u.pk: u
        for u in Unit.objects.filter(pk__in=unit_ids).only("id", "number", "unit_type", "is_active")
    }
    days: dict[int, set[date]] = defaultdict(set)
    for r in rows:
        days[r["unit_id"]].add(r["read_on"])
    payers = _payers_on(unit_ids, days)
    standards: dict[tuple[str, date], FeeStandard | str] = {}
    label = METER_UNIT_LABEL.get(item.meter_unit, item.meter_unit)
    out = []
    for r in rows:
        unit = units[r["unit_id"]]
        consumption: Decimal = r["consumption"]
        if consumption is None or consumption <= 0:
            continue
        key = (unit.unit_type, r["read_on"])
        if key not in standards:
            try:
                standards[key] = standard_in_force(
                    estate_id=plan.estate.pk, fee_item=item, unit_type=unit.unit_type, on=key[1]
                )
            except DomainError as exc:
                standards[key] = exc.message
        std = standards[key]
        if isinstance(std, str):
            skips[f"no standard in force: {std}"].append(unit.number)
            continue
        party_id = payers.get((unit.pk, r["read_on"]))
        if party_id is None:
            skips["no payer"].append(unit.number)
            continue
        amount = money(consumption * std.rate, unit=item.rounding_unit, mode=item.rounding_mode)
        text = f"{plan.cycle} {item.name} {consumption:f}{label}×{_rate_text(std.rate)}"
        if r["source"] == "apportionment":
            text += " 公摊"
        out.append(
            MeteredCharge(
                key=f"{KEY_PREFIX[r['source']]}:{r['id']}",
                source=r["source"],
                row_id=r["id"],
                unit_id=unit.pk,
                party_id=party_id,
                read_on=r["read_on"],
                consumption=consumption,
                rate=std.rate,
                amount=amount,
                description=text[:200],
                apportionment_id=r.get("apportionment_id"),
            )
        )
    _tie_out_shared(out, item)
    return [c for c in out if c.amount > 0]


def _tie_out_shared(charges: list[MeteredCharge], item: FeeItem) -> None:
    """The shares of one shared meter's reading add up to what the reading costs: the whole
    (sum of consumption x rate) is rounded once and split back over the shares' exact amounts
    by largest remainder (`wuye.core.money.split`), instead of each share rounded on its own
    (10 tons over 3 units at 3.35 would bill 33.51)."""
    groups: dict[int, list[MeteredCharge]] = defaultdict(list)
    for c in charges:
        if c.apportionment_id is not None:
            groups[c.apportionment_id].append(c)
    for shares in groups.values():
        exact = [s.consumption * s.rate for s in shares]
        whole = money(sum(exact, Decimal(0)), unit=item.rounding_unit, mode=item.rounding_mode)
        parts = split(whole, exact, step=ROUNDING_UNITS[item.rounding_unit])
        for share, amount in zip(shares, parts, strict=True):
            share.amount = amount


def _insert(run: BillingRun, plan: ItemPlan, rows: list[MeteredCharge]) -> None:
    """Charges of kind regular, one per consumption row; a unit read twice in a period gets
    parts 1, 2, ... after the parts it already has (the period lock keeps them apart)."""
    have = dict(
        Charge.objects.filter(
            unit_id__in={r.unit_id for r in rows},
            fee_item=plan.item,
            period=str(plan.cycle),
            kind=Charge.Kind.REGULAR,
        )
        .exclude(status=Charge.Status.CANCELLED)
        .values("unit_id")
        .annotate(m=Max("part"))
        .values_list("unit_id", "m")
    )
    now = timezone.now()
    charges = []
    for r in sorted(rows, key=lambda r: (r.unit_id, r.read_on, r.key)):
        have[r.unit_id] = part = have.get(r.unit_id, 0) + 1
        charges.append(
            Charge(
                estate_id=plan.estate.pk,
                unit_id=r.unit_id,
                party_id=r.party_id,
                fee_item_id=plan.item.pk,
                kind=Charge.Kind.REGULAR,
                period=str(plan.cycle),
                period_start=r.read_on,
                period_end=r.read_on,
                part=part,
                amount=r.amount,
                outstanding=r.amount,
                quantity=None,
                rate=r.rate,
                bill_date=plan.bill_date,
                due_date=plan.due_date,
                run=run,
                description=r.description,
                idempotency_key=r.key,
                created_at=now,
            )
        )
    Charge.objects.bulk_create(charges, batch_size=1000)


def bill_item(run: BillingRun, plan: ItemPlan, actor) -> tuple[int, Decimal]:
    """Bill one estate's metered item in one transaction: the charges, the consumption marked
    billed, one ledger entry for what was added. (count, amount) posted."""
    with transaction.atomic():
        _lock_period(plan.estate, plan.cycle)
        rows = compute(plan, defaultdict(list))
        if rows:
            _insert(run, plan, rows)
            consumption_mark_billed(
                reading_ids=[r.row_id for r in rows if r.source == "reading"],
                line_ids=[r.row_id for r in rows if r.source == "apportionment"],
            )
        receivables_changed(estate_periods=[(plan.estate.pk, str(plan.cycle))])
        return _post_delta(run, plan, actor)


def release(charges) -> int:
    """Cancelling `charges` (a queryset, in the caller's transaction): the consumption they
    billed becomes billable again, so a new run bills it once more. Their idempotency keys
    stop blocking a new charge by themselves: the UNIQUE constraint on the key only covers
    charges not cancelled (see `Charge`). Returns the number of consumption rows released."""
    readings, lines = [], []
    wanted = Q(idempotency_key__startswith=f"{KEY_PREFIX['reading']}:") | Q(
        idempotency_key__startswith=f"{KEY_PREFIX['apportionment']}:"
    )
    for key in charges.filter(wanted).values_list("idempotency_key", flat=True):
        prefix, _, row_id = key.partition(":")
        (readings if prefix == KEY_PREFIX["reading"] else lines).append(int(row_id))
    if readings or lines:
        consumption_unmark_billed(reading_ids=readings, line_ids=lines)
    return len(readings) + len(lines)


def plans_of(estate: Estate, period: Period, as_of: date) -> list[ItemPlan]:
    return [metered_plan(estate, item, period, as_of) for item in metered_items(estate.pk)]


def preview_item(plan: ItemPlan) -> dict:
    """The preview row of a metered item, like the recurring ones."""
    skips: dict[str, list[str]] = defaultdict(list)
    rows = compute(plan, skips)
    return {
        "estate": plan.estate.code,
        "item": plan.item.code,
        "item_name": plan.item.name,
        "cycle": f"~{plan.bill_date}",
        "bill_date": str(plan.bill_date),
        "due_date": str(plan.due_date),
        "count": len(rows),
        "amount": str(sum((r.amount for r in rows), ZERO)),
        "skipped": [
            {"reason": reason, "count": len(set(names)), "units": sorted(set(names))[:20]}
            for reason, names in skips.items()
        ],
        "waiting": "",
        "refused": "",
    }
