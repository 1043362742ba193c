"""Pure money arithmetic of billing: no database, no clock (pass the dates).

Recurring charge, for one unit, one item and one billing cycle:

    monthly base = gross area x rate   (per m² per month)   or   rate   (per unit per month)
    amount = base x sum over the cycle's months m of
             (billable days of m - vacant days of m x (1 - vacancy rate)) / days in m

rounded once, at the end, with the item's rounding rule (`wuye.core.money.money`). A full
month counts as exactly 1, so a plain monthly charge is `money(area x rate)`. Pro-ration is
by days within each calendar month (a fee start on 16 Feb 2028 bills 14/29 of February).

Late fee (滯納金), simple interest, never compounded:

    accrued = unpaid principal x daily rate x days overdue   (days after due date + grace)
    due now = min(accrued, cap ratio x unpaid principal) - late fee already charged, >= 0
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from wuye.core.money import ROUNDING_UNITS, ZERO, money, split

from .periods import Period

Span = tuple[date, date]  # both days inclusive


def overlap_days(a: Span, b: Span) -> int:
    """Days shared by two inclusive spans (0 when they do not meet)."""
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return max(0, (end - start).days + 1)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in date order."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def monthly_base(*, basis: str, rate: Decimal, area: Decimal | None) -> Decimal:
    """What one full month costs before pro-ration: area x rate, or the rate per unit."""
    if basis == "per_area_month":
        if area is None:
            raise ValueError("a per-m² fee needs the unit's gross area")
        return Decimal(area) * Decimal(rate)
    if basis == "per_unit_month":
        return Decimal(rate)
    raise ValueError(f"not a recurring basis: {basis}")


def cycle_months(cycle_start: Period, months: int) -> list[Span]:
    return [(p.start, p.end) for p in (cycle_start.plus(i) for i in range(months))]


def billable_factor(
    *,
    cycle_start: Period,
    months: int,
    billable: Sequence[Span],
    vacant: Sequence[Span] = (),
    vacancy_rate: Decimal | None = None,
) -> Decimal:
    """How many months' worth of the base a cycle bills (unrounded): billable days over days in
    each month, vacant days counted at `vacancy_rate` (no rate: vacancy changes nothing)."""
    billable = merge_spans(billable)
    vacant = merge_spans(vacant) if vacancy_rate is not None else []
    discount = Decimal(1) - Decimal(vacancy_rate) if vacancy_rate is not None else ZERO
    factor = Decimal(0)
    for month in cycle_months(cycle_start, months):
        dim = (month[1] - month[0]).days + 1
        days = sum(overlap_days(month, span) for span in billable)
        if not days:
            continue
        vacant_days = 0
        for b in billable:
            inside = (max(b[0], month[0]), min(b[1], month[1]))
            if inside[0] > inside[1]:
                continue
            vacant_days += sum(overlap_days(inside, v) for v in vacant)
        if days == dim and not vacant_days:
            factor += 1
        else:
            factor += (Decimal(days) - Decimal(vacant_days) * discount) / Decimal(dim)
    return factor


def recurring_amount(
    *,
    base: Decimal,
    cycle_start: Period,
    months: int,
    billable: Sequence[Span],
    vacant: Sequence[Span] = (),
    vacancy_rate: Decimal | None = None,
    rounding_unit: str = "fen",
    rounding_mode: str = "half_up",
) -> Decimal:
    """The charge for one unit and cycle, rounded once (see the module docstring)."""
    factor = billable_factor(
        cycle_start=cycle_start,
        months=months,
        billable=billable,
        vacant=vacant,
        vacancy_rate=vacancy_rate,
    )
    return money(base * factor, unit=rounding_unit, mode=rounding_mode)


def recurring_parts(
    *,
    base: Decimal,
    cycle_start: Period,
    months: int,
    segments: Sequence[Span],
    vacant: Sequence[Span] = (),
    vacancy_rate: Decimal | None = None,
    rounding_unit: str = "fen",
    rounding_mode: str = "half_up",
) -> list[Decimal]:
    """The charges of one unit and cycle split between payers (a change of owner mid-month):
    the whole is rounded once, then split over the segments' exact amounts by largest
    remainder, so seller's and buyer's parts add up to what the cycle costs (a full month sold
    on the 16th bills exactly one month's fee, never a fen more or less)."""
    exact = [
        base
        * billable_factor(
            cycle_start=cycle_start,
            months=months,
            billable=[segment],
            vacant=vacant,
            vacancy_rate=vacancy_rate,
        )
        for segment in segments
    ]
    whole = money(sum(exact, Decimal(0)), unit=rounding_unit, mode=rounding_mode)
    if len(exact) == 1:
        return [whole]
    return split(whole, exact, step=ROUNDING_UNITS[rounding_unit])


@dataclass(frozen=True)
class Relation:
    """One ownership or payer designation of a unit, as payer segments need it."""

    party_id: int
    is_owner: bool
    is_payer: bool
    start: date
    end: date | None
    order: int = 0  # tie-break among co-owners: lower first


def payer_segments(
    relations: Sequence[Relation], start: date, end: date
) -> list[tuple[int, date, date]]:
    """Split [start, end] by who pays each day: the designated payer, else the first owner.

    Returns [(party_id, from, to), ...] in date order; days nobody pays are left out. A new
    owner therefore pays only from the day they took over (DESIGN.md §4)."""
    cuts = {start, end + timedelta(days=1)}
    for rel in relations:
        for day in (rel.start, (rel.end + timedelta(days=1)) if rel.end else None):
            if day and start < day <= end:
                cuts.add(day)
    points = sorted(cuts)
    segments: list[tuple[int, date, date]] = []
    for seg_start, next_start in zip(points, points[1:], strict=False):
        seg_end = next_start - timedelta(days=1)
        covering = [
            r for r in relations if r.start <= seg_start and (r.end is None or r.end >= seg_end)
        ]
        payers = sorted((r for r in covering if r.is_payer), key=lambda r: (r.start, r.order))
        owners = sorted((r for r in covering if r.is_owner), key=lambda r: (r.start, r.order))
        chosen = (payers or owners or [None])[0]
        if chosen is None:
            continue
        if (
            segments
            and segments[-1][0] == chosen.party_id
            and segments[-1][2] == seg_start - (timedelta(days=1))
        ):
            segments[-1] = (chosen.party_id, segments[-1][1], seg_end)
        else:
            segments.append((chosen.party_id, seg_start, seg_end))
    return segments


def overdue_days(*, due_date: date, as_of: date, grace_days: int = 0) -> int:
    """Days a charge is late on `as_of`: counted from the day after due date + grace days."""
    return max(0, (as_of - (due_date + timedelta(days=grace_days))).days)


@dataclass(frozen=True)
class Clause:
    """A late-fee clause of a service contract, in force from `start` to `end` (inclusive;
    None: open-ended), at `daily_rate` of the unpaid principal."""

    start: date
    end: date | None
    daily_rate: Decimal


def clause_days(
    *, due_date: date, as_of: date, grace_days: int, clauses: Sequence[Clause]
) -> list[tuple[Clause, int]]:
    """Days late on or before `as_of` on which each clause was in force: a day with no clause
    in force earns nothing (a clause signed later never reaches back over earlier days)."""
    first = due_date + timedelta(days=grace_days + 1)
    if first > as_of:
        return []
    out = []
    for clause in clauses:
        end = clause.end or as_of
        days = overlap_days((first, as_of), (clause.start, end))
        if days:
            out.append((clause, days))
    return out


def late_fee_total(
    *,
    principal_unpaid: Decimal,
    due_date: date,
    as_of: date,
    grace_days: int,
    clauses: Sequence[Clause],
    cap_ratio: Decimal = Decimal(1),
) -> tuple[Decimal, int]:
    """(the late fee a principal has earned by `as_of`, the days it was counted for): simple
    interest on the unpaid principal, each day at the rate of the clause then in force, capped
    at `cap_ratio` x principal, rounded once."""
    if principal_unpaid <= 0:
        return ZERO, 0
    counted = clause_days(due_date=due_date, as_of=as_of, grace_days=grace_days, clauses=clauses)
    accrued = sum(
        (Decimal(principal_unpaid) * c.daily_rate * days for c, days in counted), Decimal(0)
    )
    cap = Decimal(principal_unpaid) * Decimal(cap_ratio)
    return money(min(accrued, cap)), sum(days for __, days in counted)


def late_fee_due(
    *,
    principal_unpaid: Decimal,
    daily_rate: Decimal,
    due_date: date,
    as_of: date,
    grace_days: int = 0,
    cap_ratio: Decimal = Decimal(1),
    already_charged: Decimal = ZERO,
) -> Decimal:
    """The late fee to charge now on one principal under one clause always in force (see
    `late_fee_total`), less what was already charged; never negative (a part payment never
    turns into a refund of late fees)."""
    if principal_unpaid <= 0 or daily_rate <= 0:
        return ZERO
    total, __ = late_fee_total(
        principal_unpaid=principal_unpaid,
        due_date=due_date,
        as_of=as_of,
        grace_days=grace_days,
        clauses=[Clause(date.min, None, Decimal(daily_rate))],
        cap_ratio=cap_ratio,
    )
    return max(ZERO, total - Decimal(already_charged))
