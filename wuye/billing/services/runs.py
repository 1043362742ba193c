"""Bill runs: preview, post (set-wise), resume, cancel; billing periods; fee stops.

How a run bills one estate and one recurring fee item for the cycle starting in the run's
period (quarterly items only in Jan/Apr/Jul/Oct, etc.):

1. *Plain* units -- the whole cycle billable, one payer throughout, no vacancy discount, no
   paid-up-to date or fee stop touching the cycle -- are billed by ONE `INSERT ... SELECT ...
   WHERE NOT EXISTS` per (item, standard), under the billing period's row lock, computing
   area x rate in SQL with integer arithmetic (exact on SQLite too), rounded with the item's
   rule.
2. The other units (fee start or change of payer inside the cycle, vacancy, paid-up-to, fee
   stop) go through `calculations.recurring_amount` in Python, a few thousand at a time.
3. In the same transaction, ONE journal entry per estate and item (Dr RECEIVABLE, Cr the item's
   account) for the sum of the charges the run created and had not posted yet -- computed from
   the database after the insert, so a resumed run posts only the delta.

Charges are unique per (unit, item, period, part) while not cancelled: running again adds
nothing. A mid-period change of owner or payer splits the cycle by days (part 1, 2, ...).
Bill date: an advance item `advance_days` before the cycle starts, an arrears item the day
after it ends; items whose bill date is after the run date wait. Due = bill date + due_days.
The rate is the published standard in force on the cycle's first day, for the whole cycle.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.money import ROUNDING_UNITS, ZERO, MoneySum
from wuye.fees.models import FeeItem, FeeStandard, VacancyDiscount
from wuye.fees.selectors import recurring_items, standard_in_force, vacancy_spans
from wuye.ledger.models import JournalEntry
from wuye.ledger.services import entry_reverse
from wuye.registry.models import Estate, Unit, UnitParty

from .. import calculations
from ..events import charges_due, receivables_changed
from ..models import BillingPeriod, BillingRun, Charge, FeeStop, PaidUpTo, RunPosting
from ..periods import Period
from . import revenue
from ._common import (
    AuditEvent,
    DomainError,
    audit_record,
    chart,
    gl_post,
    require_estate,
    require_perm,
)

PYTHON_BATCH = 2000
SAMPLE = 20  # units named per skip reason in a preview
logger = logging.getLogger(__name__)


# --- planning ------------------------------------------------------------


@dataclass
class ItemPlan:
    """What a run does for one estate and fee item."""

    estate: Estate
    item: FeeItem
    cycle: Period
    cycle_end: date
    bill_date: date
    due_date: date
    # standard id -> (standard, [unit types it covers])
    groups: dict[int, tuple[FeeStandard, list[str]]] = field(default_factory=dict)
    no_standard: dict[str, str] = field(default_factory=dict)  # unit type -> reason
    waiting: str = ""  # why the item is not billed in this run (not yet billable)
    refused: str = ""  # why the run must not post (no published standard at all)


def bill_date_of(item: FeeItem, cycle: Period) -> date:
    if item.timing == FeeItem.Timing.ADVANCE:
        return cycle.start - timedelta(days=item.advance_days)
    return cycle.cycle_end(item.months) + timedelta(days=1)


def active_unit_types(estate: Estate) -> dict[str, int]:
    """{unit type: active units} of the estate. One pass over its units (`order_by()`: the
    model's default ordering would otherwise join the DISTINCT/GROUP BY and sort them all)."""
    rows = (
        Unit.objects.filter(estate=estate, is_active=True)
        .order_by()
        .values_list("unit_type")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def plan_estate(
    estate: Estate, period: Period, as_of: date, unit_types: list[str] | None = None
) -> list[ItemPlan]:
    """The recurring items billed in `period`: cycle months only, bill date reached, with the
    published standard of each unit type (`unit_types`: the estate's, if known already)."""
    if unit_types is None:
        unit_types = sorted(active_unit_types(estate))
    plans = []
    for item in recurring_items(estate.pk):
        if not period.is_cycle_start(item.months):
            continue
        bill_date = bill_date_of(item, period)
        plan = ItemPlan(
            estate=estate,
            item=item,
            cycle=period,
            cycle_end=period.cycle_end(item.months),
            bill_date=bill_date,
            due_date=bill_date + timedelta(days=item.due_days),
        )
        if bill_date > as_of:
            plan.waiting = f"{item.name} ({item.code}): not billable before {bill_date}"
        for unit_type in unit_types:
            try:
                std = standard_in_force(
                    estate_id=estate.pk, fee_item=item, unit_type=unit_type, on=period.start
                )
            except DomainError as exc:
                plan.no_standard[unit_type] = exc.message
                continue
            plan.groups.setdefault(std.pk, (std, []))[1].append(unit_type)
        if unit_types and not plan.groups:
            plan.refused = next(iter(plan.no_standard.values()))
        plans.append(plan)
    return plans


# --- the set-wise SQL ---------------------------------------------------------------

_STEP = {"fen": 10_000, "jiao": 100_000, "yuan": 1_000_000}  # in millionths of a yuan


def _round_sql(expr: str, item: FeeItem) -> str:
    """`expr` in millionths of a yuan (an integer) rounded to the item's unit, in fen."""
    step = _STEP[item.rounding_unit]
    per_fen = step // 10_000
    if item.rounding_mode == "up":
        return f"((({expr}) + {step - 1}) / {step}) * {per_fen}"
    if item.rounding_mode == "down":
        return f"(({expr}) / {step}) * {per_fen}"
    return f"((({expr}) + {step // 2}) / {step}) * {per_fen}"


def _fen_to_money_sql(expr: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(({expr}) AS NUMERIC(14, 2)) / 100"
    return f"CAST(({expr}) AS REAL) / 100"


def _fence() -> str:
    """Keeps PostgreSQL from inlining a subquery into its outer query, which would copy an
    output expression into every place that uses it: the amount is NUMERIC arithmetic, and
    computing it once per row instead of three times is seconds at a million rows. (SQLite
    has no bare OFFSET; it evaluates the subquery's columns once anyway.)"""
    return "OFFSET 0" if connection.vendor == "postgresql" else ""


# Who pays each unit, set-wise, in ONE pass over its payer and owner relations: the one
# designated payer on the cycle's first day, else the one owner (`np`/`pp`, `no`/`op`), and
# how many of them start or end inside the cycle (`nc`). Units with two designated payers or
# co-owners (and no payer) are "ambiguous"; they and the units with a change inside the cycle
# are billed in Python (`calculations.payer_segments`), like any other non-plain unit. One
# aggregate, not a second NOT EXISTS over the relations: the planner guesses that one returns
# a row or two and may rescan it per unit (a nested loop), which is quadratic when many
# relations change in a month.
_CANDIDATES = """
    SELECT unit_id,
      COUNT(CASE WHEN is_payer AND cov THEN 1 END) AS np,
      MIN(CASE WHEN is_payer AND cov THEN party_id END) AS pp,
      COUNT(CASE WHEN is_owner AND cov THEN 1 END) AS no,
      MIN(CASE WHEN is_owner AND cov THEN party_id END) AS op,
      COUNT(CASE WHEN chg THEN 1 END) AS nc
    FROM (
      SELECT unit_id, party_id, is_payer, role = 'owner' AS is_owner,
        start_date <= %s AND (end_date IS NULL OR end_date >= %s) AS cov,
        (start_date > %s AND start_date <= %s) OR (end_date >= %s AND end_date < %s) AS chg
      FROM registry_unitparty
      WHERE estate_id = %s AND (is_payer OR role = 'owner')
    ) r
    GROUP BY unit_id"""


def _candidates_params(plan: ItemPlan) -> list:
    start, end = plan.cycle.start, plan.cycle_end
    return [start, start, start, end, start, end, plan.estate.pk]


def _plain_select(
    plan: ItemPlan, std: FeeStandard, unit_types: list[str], *, only_new: bool
) -> tuple[str, list]:
    """SELECT of (unit_id, party_id, quantity, fen) for the plain units of one standard: fen
    is the rounded amount in fen, an integer."""
    item, start, end = plan.item, plan.cycle.start, plan.cycle_end
    rate_millis = int(std.rate * 10_000)  # rate has 4 places: exact
    if std.rate * 10_000 != rate_millis:
        raise DomainError(
            _("%(item)s: rate %(rate)s has more than 4 places")
            % {"item": item.name, "rate": std.rate}
        )
    if item.basis == FeeItem.Basis.PER_AREA_MONTH:
        # m² in hundredths, an integer: exact on PostgreSQL (NUMERIC(10, 2)); SQLite keeps
        # areas as floats (89.29 * 100 = 8928.999...), so it rounds first
        cents = (
            "ROUND(gross_area * 100)" if connection.vendor != "postgresql" else "gross_area * 100"
        )
        raw = f"CAST({cents} AS BIGINT) * CAST({rate_millis} AS BIGINT) * {item.months}"
        area_cond = "AND u.gross_area IS NOT NULL"
        quantity = "u.gross_area"
    else:
        raw = f"CAST({rate_millis * 100 * item.months} AS BIGINT)"
        area_cond = ""
        quantity = "CAST(NULL AS DECIMAL(12, 2))"
    fen = _round_sql(raw, item)
    placeholders = ", ".join(["%s"] * len(unit_types))
    vacancy_cond = ""
    if std.vacancy_rate is not None:
        vacancy_cond = """
          AND NOT EXISTS (SELECT 1 FROM fees_vacancydiscount v
                          WHERE v.unit_id = u.id AND v.status = 'approved'
                            AND v.start_date <= %s AND (v.end_date IS NULL OR v.end_date >= %s))"""
    new_cond = ""
    if only_new:
        new_cond = """
          AND NOT EXISTS (SELECT 1 FROM billing_charge c
                          WHERE c.unit_id = u.id AND c.fee_item_id = %s AND c.period = %s
                            AND c.kind = 'regular' AND c.status <> 'cancelled')"""
    sql = f"""
        SELECT unit_id, party_id, quantity, fen FROM (
         SELECT unit_id, party_id, quantity, {fen} AS fen FROM (
          SELECT u.id AS unit_id, {quantity} AS quantity, u.gross_area AS gross_area,
            CASE WHEN c.nc > 0 THEN NULL WHEN c.np = 1 THEN c.pp
                 WHEN c.np = 0 AND c.no = 1 THEN c.op END AS party_id
          FROM registry_unit u
          JOIN ({_CANDIDATES}) c ON c.unit_id = u.id
          WHERE u.estate_id = %s AND u.is_active AND u.unit_type IN ({placeholders})
            {area_cond}
            AND (COALESCE(u.fee_start_date, u.handover_date) IS NULL
                 OR COALESCE(u.fee_start_date, u.handover_date) <= %s)
            AND NOT EXISTS (SELECT 1 FROM billing_paidupto p
                            WHERE p.unit_id = u.id AND p.fee_item_id = %s AND p.paid_to >= %s)
            AND NOT EXISTS (SELECT 1 FROM billing_feestop s
                            WHERE s.unit_id = u.id AND s.fee_item_id = %s AND s.from_date <= %s)
            {vacancy_cond}
            {new_cond}
        ) plain
        WHERE party_id IS NOT NULL {_fence()}
        ) priced"""  # noqa: S608 - only numbers and fixed names are formatted
    params = [*_candidates_params(plan), plan.estate.pk, *unit_types, start]
    params += [item.pk, start, item.pk, end]
    if std.vacancy_rate is not None:
        params += [end, start]
    if only_new:
        params += [item.pk, str(plan.cycle)]
    return sql, params


def _tune(cursor) -> None:
    """PostgreSQL, for the rest of the transaction: no JIT (compiling costs seconds and wins
    nothing here), room to hash a million rows, and no nested loops. The statements of a run
    join whole sets; a nested loop only pays for a handful of rows, and the planner picks one
    when statistics are missing or stale -- an estate imported minutes ago, the charges of the
    run just made -- then rescans the inner side per row, or walks the charges this very
    statement is inserting: quadratic (a 1M-unit run without statistics had not finished
    after 13 minutes). Hash and merge joins stay linear whatever the estimates."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL enable_nestloop = off")


def _insert_plain(
    run: BillingRun, plan: ItemPlan, std: FeeStandard, unit_types: list[str]
) -> tuple[int, Decimal] | None:
    """A plain INSERT of the units not billed yet (NOT EXISTS): the caller holds the billing
    period's row lock, so no other run inserts these rows meanwhile, and the UNIQUE constraint
    stays the final guard (a violation fails the run, it never bills twice). Cheaper than ON
    CONFLICT, whose speculative insertion costs as much as the insert itself on a re-run.

    Returns (charges, amount) inserted -- on PostgreSQL from the statement itself (RETURNING),
    which spares reading a million charges back; None elsewhere (the caller sums them)."""
    select, params = _plain_select(plan, std, unit_types, only_new=True)
    amount = _fen_to_money_sql("fen")
    now = timezone.now()
    sql = f"""
        INSERT INTO billing_charge (estate_id, unit_id, party_id, fee_item_id, kind, period,
            period_start, period_end, part, amount, outstanding, quantity, rate, bill_date,
            due_date, status, run_id, description, created_at)
        SELECT %s, unit_id, party_id, %s, 'regular', %s, %s, %s, 1, amount, amount,
            quantity, %s, %s, %s, 'open', %s, '', %s
        FROM (SELECT unit_id, party_id, quantity, {amount} AS amount
              FROM ({select}) s WHERE fen > 0 {_fence()}) a"""  # noqa: S608
    head = [plan.estate.pk, plan.item.pk, str(plan.cycle), plan.cycle.start, plan.cycle_end]
    head += [std.rate, plan.bill_date, plan.due_date, run.pk, now]
    pg = connection.vendor == "postgresql"
    if pg:
        sql = f"WITH ins AS ({sql} RETURNING amount) SELECT COUNT(*), SUM(amount) FROM ins"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*head, *params])
        if not pg:
            return None
        n, total = cursor.fetchone()
    return n, total or ZERO


def _all_billed(plan: ItemPlan, unit_types: list[str]) -> bool:
    """Every active unit of these types already has its regular charge of the cycle, so
    nothing is left to bill (a re-run): two counts instead of working out every unit's payer
    again only to find each one billed. Part 1 stands for the unit (UNIQUE while not
    cancelled); a unit whose part 1 was skipped (zero) only makes the check say no. Counts,
    not NOT EXISTS: right after a big run the charges' statistics are stale, and the planner
    may rescan the new charges once per unit. Only asked once a run has posted this item and
    period (and was not cancelled), so a first run does not pay for counting."""
    posted = RunPosting.objects.filter(
        run__period=str(plan.cycle),
        estate=plan.estate,
        fee_item=plan.item,
        reversal_id__isnull=True,
    )
    if not posted.exists():
        return False
    billed = (
        Charge.objects.filter(
            fee_item=plan.item,
            period=str(plan.cycle),
            kind=Charge.Kind.REGULAR,
            part=1,
            unit__estate=plan.estate,
            unit__is_active=True,
            unit__unit_type__in=unit_types,
        )
        .exclude(status=Charge.Status.CANCELLED)
        .count()
    )
    if not billed:
        return False
    units = Unit.objects.filter(estate=plan.estate, is_active=True, unit_type__in=unit_types)
    return billed >= units.count()


# --- the units billed one by one ----------------------------------------------------


def _exceptional_unit_ids(plan: ItemPlan, std: FeeStandard, unit_types: list[str]) -> list[int]:
    """Units of the estate whose cycle is not plain for this item (see the module docstring)."""
    start, end, item = plan.cycle.start, plan.cycle_end, plan.item
    units = Unit.objects.filter(estate=plan.estate, is_active=True, unit_type__in=unit_types)
    ids = set(
        units.annotate(start=Coalesce("fee_start_date", "handover_date"))
        .filter(start__gt=start, start__lte=end)
        .values_list("id", flat=True)
    )
    with connection.cursor() as cursor:  # a change of payer inside the cycle, or ambiguous
        cursor.execute(
            f"SELECT unit_id FROM ({_CANDIDATES}) c"  # noqa: S608 - a fixed query  # table/column names from the models, values bound  # nosec B608
            " WHERE c.nc > 0 OR c.np > 1 OR (c.np = 0 AND c.no > 1)",
            _candidates_params(plan),
        )
        ids |= {row[0] for row in cursor.fetchall()}
    if std.vacancy_rate is not None:
        ids |= set(
            VacancyDiscount.objects.filter(
                estate=plan.estate,
                status=VacancyDiscount.Status.APPROVED,
                start_date__lte=end,
            )
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
            .values_list("unit_id", flat=True)
        )
    ids |= set(
        PaidUpTo.objects.filter(estate=plan.estate, fee_item=item, paid_to__gte=start).values_list(
            "unit_id", flat=True
        )
    )
    ids |= set(
        FeeStop.objects.filter(estate=plan.estate, fee_item=item, from_date__lte=end).values_list(
            "unit_id", flat=True
        )
    )
    wanted = set(units.filter(id__in=ids).values_list("id", flat=True)) if ids else set()
    return sorted(wanted)


def _relations(unit_ids: list[int]) -> dict[int, list[calculations.Relation]]:
    rels: dict[int, list[calculations.Relation]] = defaultdict(list)
    rows = UnitParty.objects.filter(unit_id__in=unit_ids).filter(
        Q(is_payer=True) | Q(role=UnitParty.Role.OWNER)
    )
    for r in rows.values_list(
        "unit_id", "party_id", "role", "is_payer", "start_date", "end_date", "id"
    ):
        unit_id, party_id, role, is_payer, start, end, pk = r
        rels[unit_id].append(
            calculations.Relation(party_id, role == UnitParty.Role.OWNER, is_payer, start, end, pk)
        )
    return rels


@dataclass
class UnitCharge:
    unit_id: int
    party_id: int
    part: int
    start: date
    end: date
    amount: Decimal
    quantity: Decimal | None
    description: str


def _compute_units(
    plan: ItemPlan, std: FeeStandard, unit_ids: list[int], skips: dict[str, list[str]]
) -> list[UnitCharge]:
    """The charges of non-plain units, computed one by one with the pure calculation."""
    item, start, end = plan.item, plan.cycle.start, plan.cycle_end
    units = {
        u.pk: u
        for u in Unit.objects.filter(pk__in=unit_ids).only(
            "id", "number", "gross_area", "fee_start_date", "handover_date"
        )
    }
    rels = _relations(unit_ids)
    vacancies = vacancy_spans(unit_ids, start, end) if std.vacancy_rate is not None else {}
    paid = dict(
        PaidUpTo.objects.filter(unit_id__in=unit_ids, fee_item=item).values_list(
            "unit_id", "paid_to"
        )
    )
    stops = dict(
        FeeStop.objects.filter(unit_id__in=unit_ids, fee_item=item).values_list(
            "unit_id", "from_date"
        )
    )
    billed = set(
        Charge.objects.filter(
            unit_id__in=unit_ids, fee_item=item, period=str(plan.cycle), kind=Charge.Kind.REGULAR
        )
        .exclude(status=Charge.Status.CANCELLED)
        .values_list("unit_id", flat=True)
    )
    out: list[UnitCharge] = []
    for unit_id in unit_ids:
        unit = units[unit_id]
        if unit_id in billed:
            continue  # never add a part to a unit already billed for this cycle
        area = unit.gross_area
        if item.basis == FeeItem.Basis.PER_AREA_MONTH and area is None:
            skips["no gross area"].append(unit.number)
            continue
        first = max(d for d in (start, unit.fee_start_date or unit.handover_date) if d)
        if unit_id in paid:
            first = max(first, paid[unit_id] + timedelta(days=1))
        last = end
        if unit_id in stops:
            last = min(last, stops[unit_id] - timedelta(days=1))
        if first > last:
            continue  # nothing billable in this cycle (paid up, stopped, not started)
        segments = calculations.payer_segments(rels.get(unit_id, []), first, last)
        if not segments:
            skips["no payer"].append(unit.number)
            continue
        base = calculations.monthly_base(basis=item.basis, rate=std.rate, area=area)
        vacant = vacancies.get(unit_id, [])
        amounts = calculations.recurring_parts(
            base=base,
            cycle_start=plan.cycle,
            months=item.months,
            segments=[(seg_start, seg_end) for __, seg_start, seg_end in segments],
            vacant=vacant,
            vacancy_rate=std.vacancy_rate,
            rounding_unit=item.rounding_unit,
            rounding_mode=item.rounding_mode,
        )
        for part, ((party_id, seg_start, seg_end), amount) in enumerate(
            zip(segments, amounts, strict=True), start=1
        ):
            if amount <= 0:
                continue
            what = f"{area}㎡×{std.rate.normalize():f}" if area is not None else ""
            text = f"{plan.cycle} {item.name} {what} {seg_start:%m-%d}~{seg_end:%m-%d}"
            if vacant:
                text += f" 空置{std.vacancy_rate.normalize():f}"
            out.append(
                UnitCharge(
                    unit_id,
                    party_id,
                    part,
                    seg_start,
                    seg_end,
                    amount,
                    area if item.basis == FeeItem.Basis.PER_AREA_MONTH else None,
                    " ".join(text.split())[:200],
                )
            )
    return out


def _insert_units(
    run: BillingRun | None,
    plan: ItemPlan,
    std: FeeStandard,
    rows: list[UnitCharge],
    *,
    ignore_conflicts: bool = True,
) -> None:
    """Insert the charges of non-plain units. A run holds the period lock and passes
    `ignore_conflicts=False`: like the plain insert, a UNIQUE violation then fails the run
    (never bills twice), and every row given is a row inserted, counted as such."""
    now = timezone.now()
    Charge.objects.bulk_create(
        [
            Charge(
                estate_id=plan.estate.pk,
                unit_id=r.unit_id,
                party_id=r.party_id,
                fee_item_id=plan.item.pk,
                kind=Charge.Kind.REGULAR,
                period=str(plan.cycle),
                period_start=r.start,
                period_end=r.end,
                part=r.part,
                amount=r.amount,
                outstanding=r.amount,
                quantity=r.quantity,
                rate=std.rate,
                bill_date=plan.bill_date,
                due_date=plan.due_date,
                run=run,
                description=r.description,
                created_at=now,
            )
            for r in rows
        ],
        ignore_conflicts=ignore_conflicts,
        batch_size=1000,
    )


# --- posting to the ledger ----------------------------------------------------------


def _post_delta(
    run: BillingRun, plan: ItemPlan, actor, added: tuple[int, Decimal] | None = None
) -> tuple[int, Decimal]:
    """Post what the run created for (estate, item) and has not posted yet; (count, amount).

    `added`: the charges this transaction inserted, when the caller knows them exactly. Each
    transaction posts what it inserts, so that is the same delta, without summing the run's
    charges again; None: made minus posted, from the database."""
    if added is not None:
        count, amount = added
    else:
        made = Charge.objects.filter(run=run, fee_item=plan.item, estate=plan.estate).aggregate(
            n=Count("id"), s=MoneySum("amount")
        )
        done = RunPosting.objects.filter(run=run, fee_item=plan.item, estate=plan.estate).aggregate(
            n=Coalesce(Sum("charges"), 0), s=MoneySum("amount")
        )
        count, amount = made["n"] - done["n"], made["s"] - done["s"]
    if amount <= 0:
        return 0, ZERO
    # An advance bill (its cycle starts after the month it is raised in) is a contract
    # liability until its month (services.revenue); its charges say the same one by one.
    account = revenue.item_posting_account(plan.item, str(plan.cycle), plan.bill_date)
    entry = gl_post(
        estate_id=plan.estate.pk,
        day=plan.bill_date,
        memo=f"{plan.cycle} {plan.item.name} 计费 (run {run.pk})",
        debit=chart.RECEIVABLE,
        credit=account,
        amount=amount,
        key=f"billing-run:{run.pk}:{plan.estate.pk}:{plan.item.pk}:{run.attempts}",
        source_type="billing_run",
        source_id=run.pk,
        actor=actor,
    )
    RunPosting.objects.create(
        run=run,
        estate=plan.estate,
        fee_item=plan.item,
        amount=amount,
        charges=count,
        entry_id=entry.pk,
    )
    return count, amount


# --- preview ------------------------------------------------------------


def _estates_of(run: BillingRun) -> list[Estate]:
    if run.estate_id:
        return [run.estate]
    return list(Estate.objects.filter(is_active=True).order_by("code"))


def _unit_names(qs, limit: int = SAMPLE) -> list[str]:
    return list(qs.order_by("number").values_list("number", flat=True)[:limit])


def _preview_item(plan: ItemPlan) -> dict:
    """Totals and skipped units of one estate and item, without writing anything."""
    item = plan.item
    row = {
        "estate": plan.estate.code,
        "item": item.code,
        "item_name": item.name,
        "cycle": f"{plan.cycle.start}~{plan.cycle_end}",
        "bill_date": str(plan.bill_date),
        "due_date": str(plan.due_date),
        "count": 0,
        "amount": "0.00",
        "skipped": [],
        "waiting": plan.waiting,
        "refused": plan.refused,
    }
    if plan.waiting or plan.refused:
        return row
    count, amount = 0, ZERO
    skips: dict[str, list[str]] = defaultdict(list)
    for std, unit_types in plan.groups.values():
        select, params = _plain_select(plan, std, unit_types, only_new=True)
        with transaction.atomic(), connection.cursor() as cursor:
            _tune(cursor)
            cursor.execute(f"SELECT COUNT(*), SUM(fen) FROM ({select}) s WHERE fen > 0", params)  # noqa: S608  # table/column names from the models, values bound  # nosec B608
            n, fen = cursor.fetchone()
        count += n or 0
        amount += (Decimal(int(fen or 0)) / 100).quantize(Decimal("0.01"))
        ids = _exceptional_unit_ids(plan, std, unit_types)
        for i in range(0, len(ids), PYTHON_BATCH):
            for r in _compute_units(plan, std, ids[i : i + PYTHON_BATCH], skips):
                count += 1
                amount += r.amount
        units = Unit.objects.filter(estate=plan.estate, is_active=True, unit_type__in=unit_types)
        if item.basis == FeeItem.Basis.PER_AREA_MONTH:
            no_area = units.filter(gross_area__isnull=True)
            skips["no gross area"] = _unit_names(no_area, 10**6)
        payer = UnitParty.objects.filter(
            Q(is_payer=True) | Q(role=UnitParty.Role.OWNER),
            unit=OuterRef("pk"),
            start_date__lte=plan.cycle_end,
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=plan.cycle.start))
        no_payer = units.exclude(Exists(payer))
        skips["no payer"] = sorted(set(skips["no payer"]) | set(_unit_names(no_payer, 10**6)))
    for unit_type, reason in plan.no_standard.items():
        qs = Unit.objects.filter(estate=plan.estate, is_active=True, unit_type=unit_type)
        n = qs.count()
        if n:
            row["skipped"].append(
                {"reason": f"no standard in force: {reason}", "count": n, "units": _unit_names(qs)}
            )
    for reason, names in skips.items():
        if names:
            names = sorted(set(names))
            row["skipped"].append({"reason": reason, "count": len(names), "units": names[:SAMPLE]})
    row["count"], row["amount"] = count, str(amount)
    return row


def _check_period_open(estate: Estate, period: Period) -> None:
    closed = BillingPeriod.objects.filter(
        estate=estate, period=str(period), status=BillingPeriod.Status.CLOSED
    ).exists()
    if closed:
        raise DomainError(
            _("%(estate)s: period %(period)s is closed; no more runs for it")
            % {"estate": estate.name, "period": period},
            field="period",
        )


def _transition(run: BillingRun, status: str) -> None:
    if status not in BillingRun.TRANSITIONS[run.status]:
        raise DomainError(
            _("a %(status)s run cannot become %(new_status)s")
            % {"status": run.get_status_display(), "new_status": status}
        )
    run.status = status


@transaction.atomic
def billing_run_create(
    *, actor, estate: Estate | None, period: str, as_of: date | None = None
) -> BillingRun:
    """A draft run of `estate` (None: every estate) for `period` ("2026-12")."""
    require_perm(actor, "billing.add_billingrun")
    if estate is None:
        require_perm(actor, "registry.access_all_estates")
    else:
        require_estate(actor, estate.pk)
    p = Period.parse(period)
    for est in [estate] if estate else Estate.objects.filter(is_active=True):
        _check_period_open(est, p)
    run = BillingRun.objects.create(
        estate=estate,
        period=str(p),
        as_of=as_of or timezone.localdate(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=run, estate_id=run.estate_id)
    return run


def billing_run_preview(*, run: BillingRun, actor=None) -> dict:
    """Totals per estate and fee item, units skipped and why -- nothing written but the
    preview itself on the run. {"items": [...], "count", "amount", "refused": [...]}."""
    if run.estate_id and actor is not None:
        require_estate(actor, run.estate_id)
    period = Period.parse(run.period)
    items, refused = [], []
    for estate in _estates_of(run):
        _check_period_open(estate, period)
        for plan in plan_estate(estate, period, run.as_of):
            row = _preview_item(plan)
            items.append(row)
            if plan.refused:
                refused.append(plan.refused)
        items.extend(metered.preview_item(p) for p in metered.plans_of(estate, period, run.as_of))
    preview = {
        "period": run.period,
        "items": items,
        "count": sum(r["count"] for r in items),
        "amount": str(sum((Decimal(r["amount"]) for r in items), ZERO)),
        "refused": refused,
    }
    with transaction.atomic():
        locked = BillingRun.objects.select_for_update().get(pk=run.pk)
        if locked.status in (BillingRun.Status.DRAFT, BillingRun.Status.PREVIEWED):
            locked.status = BillingRun.Status.PREVIEWED
            locked.preview = preview
            locked.save(update_fields=["status", "preview"])
            run.status, run.preview = locked.status, preview
    return preview


# --- posting ------------------------------------------------------------


def _lock_period(estate: Estate, period: Period) -> BillingPeriod:
    BillingPeriod.objects.bulk_create(
        [BillingPeriod(estate=estate, period=str(period))], ignore_conflicts=True
    )
    bp = BillingPeriod.objects.select_for_update().get(estate=estate, period=str(period))
    if bp.status == BillingPeriod.Status.CLOSED:
        raise DomainError(
            _("%(estate)s: period %(period)s is closed; no more runs for it")
            % {"estate": estate.name, "period": period},
            field="period",
        )
    return bp


def _bill_item(run: BillingRun, plan: ItemPlan, actor) -> tuple[int, Decimal]:
    """One estate and item, in one transaction: plain units set-wise, the rest one by one,
    then the ledger entry for what was added."""
    with transaction.atomic():
        _lock_period(plan.estate, plan.cycle)
        with connection.cursor() as cursor:
            _tune(cursor)
        skips: dict[str, list[str]] = defaultdict(list)
        count, amount, exact = 0, ZERO, True
        for std, unit_types in plan.groups.values():
            if _all_billed(plan, unit_types):
                continue
            plain = _insert_plain(run, plan, std, unit_types)
            if plain is None:
                exact = False
            else:
                count, amount = count + plain[0], amount + plain[1]
            ids = _exceptional_unit_ids(plan, std, unit_types)
            for i in range(0, len(ids), PYTHON_BATCH):
                rows = _compute_units(plan, std, ids[i : i + PYTHON_BATCH], skips)
                _insert_units(run, plan, std, rows, ignore_conflicts=False)
                count += len(rows)
                amount += sum((r.amount for r in rows), ZERO)
        receivables_changed(estate_periods=[(plan.estate.pk, str(plan.cycle))])
        return _post_delta(run, plan, actor, (count, amount) if exact else None)


def _progress(run: BillingRun, **fields) -> None:
    BillingRun.objects.filter(pk=run.pk).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)


@contextmanager
def _heartbeat(run_pk: int):
    """While the body runs, a thread writes the run's heartbeat every HEARTBEAT_SECONDS on a
    connection of its own (an item's transaction can take minutes); it dies with the process,
    which is how a killed run is told from a slow one (BillingRun.is_stalled)."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(BillingRun.HEARTBEAT_SECONDS):
                try:
                    BillingRun.objects.filter(pk=run_pk, status=BillingRun.Status.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:  # busy (SQLite) or a blip: the next beat tries again
                    logger.warning("billing run %s: heartbeat not written", run_pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"billing-run-{run_pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def billing_run_post(
    *,
    run: BillingRun,
    actor=None,
    progress: Callable[[BillingRun], None] | None = None,
) -> BillingRun:
    """Bill the run (or resume a failed or killed one). One transaction per estate and fee
    item; progress is recorded on the run after each. Refused: a closed period, an item with
    no published standard (the message names it), a cancelled run."""
    if actor is not None:
        require_perm(actor, "billing.add_billingrun")
        if run.estate_id:
            require_estate(actor, run.estate_id)
    period = Period.parse(run.period)
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status == BillingRun.Status.RUNNING and not run.is_stalled():
            raise DomainError(_("the run is still running"), code="running")
        _transition(run, BillingRun.Status.RUNNING)
        estates = _estates_of(run)
        plans, active = [], {}
        for estate in estates:
            _check_period_open(estate, period)
            types = active_unit_types(estate)
            active[estate.pk] = sum(types.values())
            plans.extend(plan_estate(estate, period, run.as_of, sorted(types)))
        refused = [p.refused for p in plans if p.refused]
        if refused:
            raise DomainError("; ".join(refused), field="fee_standard", code="no_standard")
        plans = [p for p in plans if not p.waiting and p.groups]
        for estate in estates:
            plans.extend(metered.plans_of(estate, period, run.as_of))
        run.units_total = sum(active.get(p.estate.pk, 0) for p in plans)
        run.units_done = 0
        run.attempts += 1
        run.error = ""
        run.started_at = run.started_at or timezone.now()
        run.heartbeat_at = timezone.now()
        run.started_by = run.started_by or (actor if getattr(actor, "pk", None) else None)
        run.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.POST,
            subject=run,
            estate_id=run.estate_id,
            summary=Summary(
                gettext_noop("billing run %(period)s attempt %(n)s"),
                period=run.period,
                n=run.attempts,
            ),
        )
    with _heartbeat(run.pk):
        _bill_plans(run, plans, active, actor, progress)
    _progress(run, status=BillingRun.Status.POSTED, finished_at=timezone.now())
    # The run's charges fall due: the payments app pays them from the owners' prepayment
    # (each owner in a transaction of its own; the run stays posted whatever happens there).
    for estate in estates:
        charges_due(
            estate_id=estate.pk,
            as_of=min(run.as_of, timezone.localdate()),
            run_id=run.pk,
            actor=actor,
        )
    return run


def _bill_plans(run: BillingRun, plans, active: dict, actor, progress) -> None:
    try:
        # What a resumed run had already billed; then each item adds what it posted (the
        # charges it created), instead of summing all the run's charges after every item.
        totals = Charge.objects.filter(run=run).aggregate(n=Count("id"), s=MoneySum("amount"))
        created, amount = totals["n"], totals["s"]
        for plan in plans:
            if plan.item.basis == FeeItem.Basis.METERED:
                n, added = metered.bill_item(run, plan, actor)
            else:
                n, added = _bill_item(run, plan, actor)
            created, amount = created + n, amount + added
            _progress(
                run,
                units_done=run.units_done + active.get(plan.estate.pk, 0),
                charges_created=created,
                total_amount=amount,
                heartbeat_at=timezone.now(),
            )
            if progress:
                progress(run)
    except Exception as exc:
        _progress(run, status=BillingRun.Status.FAILED, error=str(exc)[:2000])
        raise


# --- cancelling ------------------------------------------------------------


@transaction.atomic
def billing_run_cancel(*, run: BillingRun, actor, reason: str) -> BillingRun:
    """Cancel a run (supervisor): reverse its ledger entries and mark its charges cancelled,
    outstanding 0 -- nothing is deleted -- and release the metered consumption they billed, so
    a new run bills it again. Refused once any of its charges holds an allocation (even one a
    void has since reversed), is waived, credited or carries a late fee."""
    require_perm(actor, "billing.cancel_billingrun")
    if run.estate_id:
        require_estate(actor, run.estate_id)
    if not (reason or "").strip():
        raise DomainError(_("say why the run is cancelled"), field="reason")
    run = BillingRun.objects.select_for_update().get(pk=run.pk)
    if run.status == BillingRun.Status.RUNNING:
        raise DomainError(_("the run is still running; wait for it to finish or fail"))
    _transition(run, BillingRun.Status.CANCELLED)
    charges = Charge.objects.filter(run=run).exclude(status=Charge.Status.CANCELLED)
    # Lock, then check, then cancel: a payment allocating to one of these charges either
    # committed before the lock (its allocation is seen below and the cancel is refused) or
    # waits for the commit and then finds the charge cancelled. Charges are locked in primary
    # key order (DESIGN.md §4: charges after party and unit, which are not needed here).
    list(charges.select_for_update().order_by("pk").values_list("pk", flat=True))
    touched = charges.filter(
        Q(allocations__isnull=False)  # any allocation, even one since reversed by a void
        | Q(outstanding__lt=F("amount"))
        | Q(status__in=[Charge.Status.PAID, Charge.Status.WAIVED])
        | Q(waivers__isnull=False)
        | Q(credit_notes__isnull=False)
        | Q(derived__isnull=False)
    )
    if touched.exists():
        first = touched.select_related("unit").first()
        raise DomainError(
            _(
                "charges of this run are already paid, waived or carry late fees "
                "(e.g. unit %(unit)s); correct them one by one instead"
            )
            % {"unit": first.unit.number},
            code="run_touched",
        )
    today = timezone.localdate()
    recognised = list(charges.filter(recognition_id__isnull=False).select_related("fee_item"))
    if recognised:
        # Their month's recognition moved them to revenue: move them back before the run's
        # entries (credited to the contract liability) are reversed.
        revenue.revenue_unrecognise(
            charges=recognised,
            day=today,
            actor=actor,
            key=f"billing-run-cancel-unrecognise:{run.pk}",
        )
    for posting in RunPosting.objects.filter(run=run, reversal_id__isnull=True):
        entry = JournalEntry.objects.get(pk=posting.entry_id)
        reversal = entry_reverse(
            entry=entry,
            date=max(today, entry.date),
            memo=f"撤销计费 run {run.pk}: {reason}"[:200],
            actor=actor,
            idempotency_key=f"billing-run-cancel:{posting.pk}",
        )
        RunPosting.objects.filter(pk=posting.pk).update(reversal_id=reversal.pk)
    metered.release(charges)  # before the update: `charges` excludes cancelled ones
    cancelled = sorted(set(charges.values_list("estate_id", "period")))
    charges.update(status=Charge.Status.CANCELLED, outstanding=ZERO, cancelled_at=timezone.now())
    receivables_changed(estate_periods=cancelled)
    run.cancelled_by = actor if getattr(actor, "pk", None) else None
    run.cancelled_at = timezone.now()
    run.error = reason.strip()[:2000]
    run.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REVERSE,
        subject=run,
        estate_id=run.estate_id,
        summary=Summary(gettext_noop("cancelled: %(reason)s"), reason=reason[:200]),
    )
    return run


# --- periods and fee stops ----------------------------------------------------------


@transaction.atomic
def billing_period_close(*, actor, estate: Estate, period: str) -> BillingPeriod:
    """Close a billing period: no run may bill it afterwards."""
    require_perm(actor, "billing.change_billingperiod")
    require_estate(actor, estate.pk)
    p = Period.parse(period)
    bp = _lock_period(estate, p)
    bp.status = BillingPeriod.Status.CLOSED
    bp.closed_by = actor if getattr(actor, "pk", None) else None
    bp.closed_at = timezone.now()
    bp.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=bp, estate_id=estate.pk)
    return bp


@transaction.atomic
def unit_fee_stop(*, actor, unit: Unit, fee_item: FeeItem, from_date: date, reason: str) -> FeeStop:
    """Stop billing `fee_item` for `unit` from `from_date` (sold back, merged, demolished).
    Charges already raised stay; correct them with a credit note if needed."""
    require_perm(actor, "billing.stop_fee")
    require_estate(actor, unit.estate_id)
    if fee_item.estate_id != unit.estate_id:
        raise DomainError(_("the fee item belongs to another estate"), field="fee_item")
    if not (reason or "").strip():
        raise DomainError(_("say why the fee stops"), field="reason")
    stop, created = FeeStop.objects.get_or_create(
        unit=unit,
        fee_item=fee_item,
        defaults={
            "estate_id": unit.estate_id,
            "from_date": from_date,
            "reason": reason.strip()[:255],
            "created_by": actor if getattr(actor, "pk", None) else None,
        },
    )
    if not created and stop.from_date != from_date:
        raise DomainError(
            _("%(unit)s already stops %(item)s from %(date)s")
            % {"unit": unit, "item": fee_item.name, "date": stop.from_date},
            field="from_date",
        )
    if created:
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=stop)
    return stop


def item_rounding_step(item: FeeItem) -> Decimal:
    return ROUNDING_UNITS[item.rounding_unit]


from . import metered  # noqa: E402 - metered builds on the plans and posting above
