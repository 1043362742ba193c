"""Keeping the summary cells (`wuye.reports.models`) equal to the books, by deltas.

Posting services call `wuye.billing.events.receivables_changed` inside their transaction;
`post` (registered in `apps.py`) writes what changed as append-only deltas in that same
transaction, so the cells plus the pending deltas always equal the books as committed, and
a reader never recomputes anything (docs/adr/0009):

- For charges, each unit keeps a `UnitState`: what the cells hold of each of its charges
  (period, kind group, fee item, due date, owed or not, money per month). `post` locks the
  states of the units it touches (one upsert, units in id order), computes the changed
  charges' contribution from the books, and writes the difference to the state and as
  `CellDelta` rows; the unit's household flags (billed fees for a period, owing on it,
  owing at all) are derived from the whole state before and after, and their changes
  written as `CountDelta` rows. Two postings on one unit wait for each other (the state
  row); postings on different units never do (deltas are inserted, never updated).
- Money newly written by a payment (`payment_ids`: its allocations, which the payment
  reports once) is added to the states as it is, without reading the charges' other
  sources: the window's and the online path's payments cost one read of their allocations.
- Money received and paid back per day: `payment_ids` and `reversal_ids` (reported once,
  when the payment is written and when the reversal is approved) become `MoneyDelta` rows.

A loader that posts thousands of times in one transaction (the demo's year) wraps them in
`batched`: the deltas of the whole block are written once, at its end, equal to their sum.

`refresh` (the job, every minute) folds the pending deltas into the cells. `computed` is the
full recomputation from the books that the tests compare the cells (plus pending deltas)
against; `rebuild` writes it.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from wuye.billing.models import Charge, CreditNote, Waiver
from wuye.core.money import ZERO, MoneySum
from wuye.payments.models import Allocation, Payment, PaymentReversal

from . import collection_seam
from .models import (
    KIND_GROUPS,
    BuildingCell,
    CellDelta,
    CollectionCell,
    CountDelta,
    EstateCell,
    HouseholdCell,
    KindGroup,
    MoneyCell,
    MoneyDelta,
    Recovery,
    UnitState,
)

FEE = KindGroup.FEE.value
OPENING = KindGroup.OPENING.value
GROUP_GROUPS = [FEE, OPENING]  # what households owe (fees and opening arrears)
FEE_KINDS = [k for k, g in KIND_GROUPS.items() if g == KindGroup.FEE]
ARREARS_KINDS = [*FEE_KINDS, "opening"]
PREPAYMENT = Payment.Channel.PREPAYMENT
BATCH = 5000  # ids per IN list
B, W, R, F = range(4)  # billed, waived, received, from_balance

# An entry: [period, group, fee item id, due date (ISO), owed (0/1), {month: [b, w, r, f]}]
P_, G_, I_, D_, O_, M_ = range(6)


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _local_month(moment) -> str:
    return _month(timezone.localdate(moment))


def _chunks(ids: Iterable[int], size: int = BATCH):
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


def _zero4() -> list:
    return [ZERO, ZERO, ZERO, ZERO]


# --- a charge's contribution, from the books -----------------------------------------------


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


def _compute(charges) -> tuple[dict[int, list | None], dict[int, tuple[int, int, int]]]:
    """({charge id: entry, or None when cancelled}, {charge id: (unit, estate, building)})
    of the charges (a queryset), from the books now."""
    entries: dict[int, list | None] = {}
    where: dict[int, tuple[int, int, int]] = {}
    for row in charges.order_by().values(
        "id", "estate_id", "unit_id", "unit__building_id", "fee_item_id", "kind", "period",
        "due_date", "status", "outstanding", "amount",
    ):  # fmt: skip
        cid = row["id"]
        where[cid] = (row["unit_id"], row["estate_id"], row["unit__building_id"])
        if row["status"] == Charge.Status.CANCELLED:
            entries[cid] = None
            continue
        months = defaultdict(_zero4)
        months[row["period"]][B] += row["amount"]
        entries[cid] = [
            row["period"], str(KIND_GROUPS[row["kind"]]), row["fee_item_id"],
            row["due_date"].isoformat(), int(row["outstanding"] > 0), months,
        ]  # fmt: skip
    for ids in _chunks(i for i, e in entries.items() if e is not None):
        for row in (
            Waiver.objects.filter(status=Waiver.Status.APPROVED, charge_id__in=ids)
            .order_by()
            .values("charge_id", "decided_at", "requested_at", "amount")
        ):
            month = _local_month(row["decided_at"] or row["requested_at"])
            entries[row["charge_id"]][M_][month][W] += row["amount"]
        for row in (
            CreditNote.objects.filter(charge_id__in=ids)
            .order_by()
            .values("charge_id", "created_at", "amount")
        ):
            entries[row["charge_id"]][M_][_local_month(row["created_at"])][W] += row["amount"]
        allocations = Allocation.objects.filter(charge_id__in=ids).order_by()
        for row in (
            allocations.filter(reverses__isnull=True)
            .values("charge_id", "payment__business_date", "payment__channel")
            .annotate(s=MoneySum("amount"))
        ):
            cell = entries[row["charge_id"]][M_][_month(row["payment__business_date"])]
            cell[R] += row["s"]
            if row["payment__channel"] == PREPAYMENT:
                cell[F] += row["s"]
        negative = list(
            allocations.filter(reverses__isnull=False).values(
                "id", "payment_id", "charge_id", "amount", "created_at", "payment__channel"
            )
        )
        days = _reversal_days(negative)
        for row in negative:
            cell = entries[row["charge_id"]][M_][_month(days[row["id"]])]
            cell[R] += row["amount"]
            if row["payment__channel"] == PREPAYMENT:
                cell[F] += row["amount"]
    return entries, where


def _flags(state: dict) -> tuple[set, set, bool, bool]:
    """A unit's households flags from its state: (periods billed fees, periods owing fees,
    billed fees or opening arrears at all, owing on them at all)."""
    billed, owing, any_billed, any_owing = set(), set(), False, False
    for e in state.values():
        if e[G_] == FEE:
            billed.add(e[P_])
            if e[O_]:
                owing.add(e[P_])
        if e[G_] in GROUP_GROUPS:
            any_billed = True
            any_owing = any_owing or bool(e[O_])
    return billed, owing, any_billed, any_owing


def _load(text: str) -> dict:
    out = {}
    for cid, e in json.loads(text or "{}").items():
        e[M_] = defaultdict(_zero4, {m: [Decimal(v) for v in vs] for m, vs in e[M_].items()})
        out[cid] = e
    return out


def _dump(state: dict) -> str:
    out = {}
    for cid, e in state.items():
        months = {m: [str(v) for v in vs] for m, vs in sorted(e[M_].items()) if any(vs)}
        out[cid] = [*e[:M_], months]
    return json.dumps(out, separators=(",", ":"), sort_keys=True)


# --- posting: the listener of `receivables_changed` ---------------------------------------


def _lock_states(units: dict[int, tuple[int, int]]) -> dict[int, dict]:
    """Lock (creating when missing) the states of `units` ({unit: (estate, building)}), in
    unit order, and return them as they are now committed: one statement."""
    table = UnitState._meta.db_table
    out = {}
    ordered = sorted(units)
    for i in range(0, len(ordered), 1000):
        part = ordered[i : i + 1000]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
        params = [x for u in part for x in (u, units[u][0], units[u][1], "{}")]
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (unit_id, estate_id, building_id, state) "  # noqa: S608  # nosec B608
                f"VALUES {values} ON CONFLICT (unit_id) DO UPDATE "
                f"SET building_id = excluded.building_id RETURNING unit_id, state",
                params,
            )
            for unit_id, text in cur.fetchall():
                out[unit_id] = _load(text)
    return out


class _Batch:
    """What the postings of a `batched` block named, written as deltas once at its end."""

    def __init__(self) -> None:
        self.charge_ids: set[int] = set()
        self.cells: set[tuple[int, int, str]] = set()
        self.estate_periods: set[tuple[int, str]] = set()
        self.payment_ids: set[int] = set()
        self.reversal_ids: set[int] = set()

    def add(self, *, charge_ids, cells, estate_periods, payment_ids, reversal_ids) -> None:
        self.charge_ids.update(charge_ids)
        self.cells.update(cells)
        self.estate_periods.update(estate_periods)
        self.payment_ids.update(payment_ids)
        self.reversal_ids.update(reversal_ids)

    def flush(self) -> None:
        # Every charge named, and every charge the payments allocated to, is read whole from
        # the books and compared with its state (as a posting compares a charge it names);
        # then the reversals' money, after the payments' (a reversal of a payment of the
        # batch takes back what `post` credited to a collector just before).
        _post(
            charge_ids=self.charge_ids,
            cells=self.cells,
            estate_periods=self.estate_periods,
            payment_ids=self.payment_ids,
            whole=True,
        )
        if self.reversal_ids:
            _post(reversal_ids=self.reversal_ids)


_batch: ContextVar[_Batch | None] = ContextVar("summaries_batch", default=None)


@contextmanager
def batched():
    """One transaction in which the postings' deltas are written once, at its end, instead
    of at each posting: for a loader that posts thousands of times (the demo's year of bill
    runs and payments), where each posting would load and write again the states of the
    units it touches. The deltas written equal the sum of what each posting would have
    written (a charge's delta is its entry in the books now less its state; cells and
    counts add up), so the cells plus the pending deltas equal the books at the commit just
    the same. Inside the block the summaries lag the books; nothing reads them there. A
    block inside another is part of the outer one."""
    if _batch.get() is not None:
        yield
        return
    batch = _Batch()
    with transaction.atomic():
        token = _batch.set(batch)
        try:
            yield
        finally:
            _batch.reset(token)
        batch.flush()


def post(
    *,
    charge_ids: Iterable[int] = (),
    cells: Iterable[tuple[int, int, str]] = (),
    estate_periods: Iterable[tuple[int, str]] = (),
    money_days: Iterable[tuple[int, date]] = (),
    payment_ids: Iterable[int] = (),
    reversal_ids: Iterable[int] = (),
) -> None:
    """Listener of `receivables_changed`: write what changed as deltas (module docstring),
    or, inside `batched`, remember it for the block's end.
    `money_days` alone says nothing the deltas can use (the money comes with `payment_ids`
    and `reversal_ids`); it is accepted for callers that still send it."""
    batch = _batch.get()
    if batch is not None:
        batch.add(
            charge_ids=charge_ids,
            cells=cells,
            estate_periods=estate_periods,
            payment_ids=payment_ids,
            reversal_ids=reversal_ids,
        )
        return
    _post(
        charge_ids=charge_ids,
        cells=cells,
        estate_periods=estate_periods,
        payment_ids=payment_ids,
        reversal_ids=reversal_ids,
    )


def _compute_ids(ids: Iterable[int]) -> tuple[dict, dict]:
    """`_compute` of the charges `ids`, a chunk of ids per statement."""
    entries: dict[int, list | None] = {}
    where: dict[int, tuple[int, int, int]] = {}
    for chunk in _chunks(ids):
        more, more_where = _compute(Charge.objects.filter(pk__in=chunk))
        entries.update(more)
        where.update(more_where)
    return entries, where


def _post(
    *,
    charge_ids: Iterable[int] = (),
    cells: Iterable[tuple[int, int, str]] = (),
    estate_periods: Iterable[tuple[int, str]] = (),
    payment_ids: Iterable[int] = (),
    reversal_ids: Iterable[int] = (),
    whole: bool = False,
) -> None:
    """`post`; `whole`: the charges of the payments' allocations are read whole from the
    books, like the charges named, instead of adding the payments' allocations to them."""
    ids = set(charge_ids)
    for estate_id, building_id, period in set(cells):
        ids.update(
            Charge.objects.filter(
                estate_id=estate_id, unit__building_id=building_id, period=period
            ).values_list("pk", flat=True)
        )
    for estate_id, period in set(estate_periods):
        ids.update(
            Charge.objects.filter(estate_id=estate_id, period=period).values_list("pk", flat=True)
        )
    payment_ids, reversal_ids = sorted(set(payment_ids)), sorted(set(reversal_ids))
    # new money of new payments: added as it is (the allocations are reported once)
    paid: dict[int, list] = defaultdict(list)  # charge: [(month, amount, from balance)]
    fast_where: dict[int, tuple[int, int, int]] = {}
    owed: dict[int, int] = {}
    money: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
    recovered: list[tuple] = []  # (estate, day, staff, payment, amount): collectors' money
    for chunk in _chunks(payment_ids):
        seen = set()
        for row in (
            Payment.objects.filter(pk__in=chunk)
            .annotate(holder=collection_seam.holder())
            .order_by()
            .values_list(
                "id", "estate_id", "business_date", "channel", "created_by_id", "amount",
                "prepaid", "allocated", "holder", "allocations__charge_id", "allocations__amount",
                "allocations__reverses_id", "allocations__charge__unit_id",
                "allocations__charge__estate_id", "allocations__charge__unit__building_id",
                "allocations__charge__outstanding", "allocations__charge__status",
            )
        ):  # fmt: skip
            pid, estate, day, channel, cashier, amount, prepaid, applied, staff, *rest = row
            cid, part, reverses, *c = rest
            if pid not in seen and channel != PREPAYMENT:
                seen.add(pid)
                m = money[(estate, day, channel, cashier or 0)]
                m[0] += 1
                m[1] += amount
                m[2] += prepaid
                if staff is not None and applied > 0:
                    recovered.append((estate, day, staff, pid, applied))
            if cid is None:
                continue
            if whole:
                ids.add(cid)
                continue
            if reverses is not None:
                continue
            paid[cid].append((_month(day), part, channel == PREPAYMENT))
            fast_where[cid] = (c[0], c[1], c[2])
            owed[cid] = int(c[3] > 0 and c[4] != Charge.Status.CANCELLED)
    generic = ids - set(paid)
    entries, where = _compute_ids(generic)
    units = {u: (e, b) for u, e, b in [*where.values(), *fast_where.values()]}
    states = _lock_states(units) if units else {}
    late = [c for c in paid if str(c) not in states[fast_where[c][0]]]
    if late:  # paid before anything reported the charge itself: read it whole
        more, more_where = _compute_ids(late)
        entries.update(more)
        where.update(more_where)
        for c in late:
            paid.pop(c)
    cell_deltas: dict[tuple, list] = defaultdict(_zero4)
    count_deltas: dict[tuple, list] = defaultdict(lambda: [0, 0])
    changed_states: dict[int, str] = {}
    by_unit: dict[int, list[int]] = defaultdict(list)
    for cid in [*entries, *paid]:
        by_unit[(where.get(cid) or fast_where[cid])[0]].append(cid)
    for unit, cids in by_unit.items():
        estate, building = units[unit]
        state = states[unit]
        before = _flags(state)
        for cid in cids:
            key = str(cid)
            old = state.get(key)
            if cid in paid:
                for month, amount, from_balance in paid[cid]:
                    old[M_][month][R] += amount
                    if from_balance:
                        old[M_][month][F] += amount
                    cd = cell_deltas[(estate, building, old[I_], old[G_], old[P_], old[D_], month)]
                    cd[R] += amount
                    if from_balance:
                        cd[F] += amount
                old[O_] = owed[cid]
                continue
            new = entries[cid]
            for entry, sign in ((old, -1), (new, 1)):
                if entry is None:
                    continue
                for month, values in entry[M_].items():
                    cd = cell_deltas[
                        (estate, building, entry[I_], entry[G_], entry[P_], entry[D_], month)
                    ]
                    for j in range(4):
                        cd[j] += sign * values[j]
            if new is None:
                state.pop(key, None)
            else:
                state[key] = new
        after = _flags(state)
        for period in before[0] ^ after[0]:
            count_deltas[(estate, building, period)][0] += 1 if period in after[0] else -1
        for period in before[1] ^ after[1]:
            count_deltas[(estate, building, period)][1] += 1 if period in after[1] else -1
        if before[2] != after[2]:
            count_deltas[(estate, building, "")][0] += 1 if after[2] else -1
        if before[3] != after[3]:
            count_deltas[(estate, building, "")][1] += 1 if after[3] else -1
        changed_states[unit] = _dump(state)
    if reversal_ids:
        reversals = PaymentReversal.objects.filter(pk__in=reversal_ids)
        for k, v in _money_of(None, reversals).items():
            for j in range(4):
                money[k][j] += v[j]
        recovered += _recovered_back(reversals)
    _write(
        changed_states,
        [
            (
                k[0], k[1], k[2], k[3], k[4], date.fromisoformat(k[5]), k[6], v[B], v[W], v[R],
                v[F],
            )
            for k, v in sorted(cell_deltas.items())
            if any(v)
        ],
        [(*k, *v) for k, v in sorted(count_deltas.items()) if any(v)],
        [(*k, *v) for k, v in sorted(money.items())],
        recovered,
    )  # fmt: skip


def _recovered_back(reversals) -> list[tuple]:
    """The part of collectors' recovered money that approved reversals took back: what each
    reversal reopened on charges, from the collector the payment was credited to."""
    rows = list(
        reversals.filter(status=PaymentReversal.Status.APPROVED).values_list(
            "payment_id", "estate_id", "business_date", "charges"
        )
    )
    if not rows:
        return []
    credited = dict(
        Recovery.objects.filter(payment_id__in=[r[0] for r in rows], amount__gt=0).values_list(
            "payment_id", "staff_id"
        )
    )
    out = []
    for payment_id, estate_id, day, charges in rows:
        back = sum((Decimal(v) for v in (charges or {}).values()), ZERO)
        if payment_id in credited and back > 0:
            out.append((estate_id, day, credited[payment_id], payment_id, -back))
    return out


_CELL_COLS = (
    "estate_id", "building_id", "fee_item_id", "kind", "period", "due_date", "month", "billed",
    "waived", "received", "from_balance",
)  # fmt: skip
_COUNT_COLS = ("estate_id", "building_id", "period", "units_billed", "units_owing")
_MONEY_COLS = (
    "estate_id", "day", "channel", "cashier_id", "payments", "received", "prepaid", "refunded",
)  # fmt: skip


def _insert(model, cols: tuple, rows: list[tuple]) -> list[tuple[str, list]]:
    """INSERT statements of `rows` into `model`, at most 500 rows each."""
    out = []
    marks = "(" + ", ".join(["%s"] * len(cols)) + ")"
    for i in range(0, len(rows), 500):
        part = rows[i : i + 500]
        out.append(
            (
                f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "  # noqa: S608
                f"VALUES {', '.join([marks] * len(part))}",
                [x for r in part for x in r],
            )
        )
    return out


def _write(states: dict[int, str], cells: list, counts: list, money: list, recovered: list) -> None:
    """The states and the deltas of one posting. On PostgreSQL, a posting of a few units is
    one statement (data-modifying CTEs); a big one (a bill run) a statement per 500 rows."""
    table = UnitState._meta.db_table
    statements = [
        *_insert(CellDelta, _CELL_COLS, cells),
        *_insert(CountDelta, _COUNT_COLS, counts),
        *_insert(MoneyDelta, _MONEY_COLS, money),
        *_insert(Recovery, ("estate_id", "day", "staff_id", "payment_id", "amount"), recovered),
    ]
    ordered = sorted(states.items())
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            if ordered:
                cur.executemany(
                    f"UPDATE {table} SET state = %s WHERE unit_id = %s",  # noqa: S608  # nosec B608
                    [(text, unit) for unit, text in ordered],
                )
            for sql, params in statements:
                cur.execute(sql, params)
        return
    for i in range(0, len(ordered), 500):
        part = ordered[i : i + 500]
        values = ", ".join(["(%s::bigint, %s::text)"] * len(part))
        statements.insert(
            0,
            (
                f"UPDATE {table} t SET state = v.state FROM (VALUES {values}) "  # noqa: S608
                f"AS v (unit_id, state) WHERE t.unit_id = v.unit_id",
                [x for unit, text in part for x in (unit, text)],
            ),
        )
    with connection.cursor() as cur:
        if 1 < len(statements) <= 6:
            heads = ", ".join(f"w{i} AS ({sql})" for i, (sql, _p) in enumerate(statements[:-1]))
            cur.execute(
                f"WITH {heads} {statements[-1][0]}",
                [x for _sql, params in statements for x in params],
            )
        else:
            for sql, params in statements:
                cur.execute(sql, params)


def _money_of(payments, reversals) -> dict[tuple, list]:
    """{(estate, day, channel, cashier): [payments, received, prepaid, refunded]}."""
    out: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
    if payments is not None:
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
    if reversals is not None:
        for row in (
            reversals.filter(status=PaymentReversal.Status.APPROVED)
            .exclude(payment__channel=PREPAYMENT)
            .order_by()
            .values(
                "estate_id", "business_date", "refund_channel", "payment__channel",
                "payment__created_by_id",
            )
            .annotate(s=MoneySum("amount"))
        ):  # fmt: skip
            channel = row["refund_channel"] or row["payment__channel"]
            k = (
                row["estate_id"], row["business_date"], channel,
                row["payment__created_by_id"] or 0,
            )  # fmt: skip
            out[k][3] += row["s"]
    return out


# --- folding the deltas into the cells (the job) -------------------------------------------


def _taken(model, fields: list[str], limit: int) -> list[tuple]:
    qs = model.objects.order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return list(qs.values_list("id", *fields)[:limit])


def _add(model, keys: list[str], sums: list[str], rows: dict[tuple, list], conflict) -> None:
    """Upsert `rows` ({key: sums}) into `model`, adding to what is there, in key order;
    `conflict`: the columns of its unique key."""
    if not rows:
        return
    table = model._meta.db_table
    q = connection.ops.quote_name
    cols = [q(c) for c in (*keys, *sums)]
    sets = ", ".join(f"{q(s)} = {table}.{q(s)} + excluded.{q(s)}" for s in sums)
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(cols))}) "
        f"ON CONFLICT ({', '.join(q(k) for k in conflict)}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cur:
        cur.executemany(sql, [(*k, *v) for k, v in sorted(rows.items())])


def _delete(model, ids: list[int]) -> None:
    for chunk in _chunks(ids):
        model.objects.filter(pk__in=chunk).delete()


def refresh(*, limit: int = 20_000) -> int:
    """Fold pending deltas (at most `limit` of each kind, oldest first; deltas another fold
    holds are skipped) into the cells and drop them. Returns how many were folded."""
    if not (
        CellDelta.objects.exists() or CountDelta.objects.exists() or MoneyDelta.objects.exists()
    ):
        return 0
    c_fields = [
        "estate_id", "building_id", "fee_item_id", "kind", "period", "due_date", "month",
        "billed", "waived", "received", "from_balance",
    ]  # fmt: skip
    with transaction.atomic():
        cells = _taken(CellDelta, c_fields, limit)
        counts = _taken(
            CountDelta, ["estate_id", "building_id", "period", "units_billed", "units_owing"], limit
        )
        money = _taken(
            MoneyDelta,
            ["estate_id", "day", "channel", "cashier_id", "payments", "received", "prepaid",
             "refunded"],
            limit,
        )  # fmt: skip
        by_cell: dict[tuple, list] = defaultdict(_zero4)
        by_estate: dict[tuple, list] = defaultdict(_zero4)
        buildings: dict[tuple, list] = defaultdict(lambda: [0, 0, ZERO])
        for _id, e, b, i, g, p, d, m, *v in cells:
            for target in (by_cell[(e, b, i, g, p, d, m)], by_estate[(e, i, g, p, d, m)]):
                for j in range(4):
                    target[j] += v[j]
            if g in GROUP_GROUPS:
                buildings[(e, b)][2] += v[B] - v[W] - v[R]
        households: dict[tuple, list] = defaultdict(lambda: [0, 0])
        for _id, e, b, p, n_billed, n_owing in counts:
            target = households[(e, b, p)] if p else buildings[(e, b)]
            target[0] += n_billed
            target[1] += n_owing
        days: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
        for _id, e, d, ch, cashier, *v in money:
            for j in range(4):
                days[(e, d, ch, cashier)][j] += v[j]
        money_cols = ["billed", "waived", "received", "from_balance"]
        _add(
            CollectionCell,
            ["estate_id", "building_id", "fee_item_id", "kind", "period", "due_date", "month"],
            money_cols,
            by_cell,
            ["building_id", "period", "fee_item_id", "kind", "due_date", "month"],
        )
        _add(
            EstateCell,
            ["estate_id", "fee_item_id", "kind", "period", "due_date", "month"],
            money_cols,
            by_estate,
            ["estate_id", "period", "fee_item_id", "kind", "due_date", "month"],
        )
        _add(
            HouseholdCell,
            ["estate_id", "building_id", "period"],
            ["units_billed", "units_owing"],
            households,
            ["building_id", "period"],
        )
        _add(
            BuildingCell,
            ["estate_id", "building_id"],
            ["units_billed", "units_owing", "owing"],
            buildings,
            ["building_id"],
        )
        _add(
            MoneyCell,
            ["estate_id", "day", "channel", "cashier_id"],
            ["payments", "received", "prepaid", "refunded"],
            days,
            ["estate_id", "day", "channel", "cashier_id"],
        )
        _delete(CellDelta, [r[0] for r in cells])
        _delete(CountDelta, [r[0] for r in counts])
        _delete(MoneyDelta, [r[0] for r in money])
    return len(cells) + len(counts) + len(money)


# --- the full recomputation, and writing it ------------------------------------------------


def _aggregate(entries: dict, where: dict) -> dict[str, dict]:
    """The cells of the entries ({charge: entry}, live charges only), keyed as `stored`."""
    cells: dict[tuple, list] = defaultdict(_zero4)
    households: dict[tuple, list] = defaultdict(lambda: [0, 0])
    buildings: dict[tuple, list] = defaultdict(lambda: [0, 0, ZERO])
    owing: set[tuple] = set()
    per_unit: dict[int, dict] = defaultdict(dict)
    for cid, e in entries.items():
        unit, estate, building = where[cid]
        per_unit[unit][str(cid)] = e
        for month, v in e[M_].items():
            key = (estate, building, e[I_], e[G_], e[P_], date.fromisoformat(e[D_]), month)
            for j in range(4):
                cells[key][j] += v[j]
            if e[G_] in GROUP_GROUPS:
                buildings[(estate, building)][2] += v[B] - v[W] - v[R]
        if e[G_] in GROUP_GROUPS and e[O_]:
            owing.add((estate, building, unit, e[P_]))
    for state in per_unit.values():
        _u, estate, building = where[int(next(iter(state)))]
        billed, owed, any_billed, any_owing = _flags(state)
        for period in billed:
            households[(estate, building, period)][0] += 1
        for period in owed:
            households[(estate, building, period)][1] += 1
        buildings[(estate, building)][0] += int(any_billed)
        buildings[(estate, building)][1] += int(any_owing)
    estates: dict[tuple, list] = defaultdict(_zero4)
    for k, v in cells.items():
        for j in range(4):
            estates[(k[0], *k[2:])][j] += v[j]
    return {
        "cells": _nonzero(cells), "estates": _nonzero(estates),
        "households": _nonzero(households), "buildings": _nonzero(buildings), "owing": owing,
        "states": per_unit,
    }  # fmt: skip


def _nonzero(rows: dict) -> dict:
    return {k: tuple(v) for k, v in rows.items() if any(v)}


def computed() -> dict[str, dict]:
    """Every cell computed from the books now, in the shape of `stored`."""
    entries, where = _compute(Charge.objects.all())
    live = {c: e for c, e in entries.items() if e is not None}
    out = _aggregate(live, where)
    out.pop("states")
    out["money"] = _nonzero(_money_of(Payment.objects.all(), PaymentReversal.objects.all()))
    return out


def stored() -> dict[str, dict]:
    """Every stored cell plus the pending deltas, keyed as `computed` keys them."""
    cells: dict[tuple, list] = defaultdict(_zero4)
    estates: dict[tuple, list] = defaultdict(_zero4)
    buildings: dict[tuple, list] = defaultdict(lambda: [0, 0, ZERO])
    households: dict[tuple, list] = defaultdict(lambda: [0, 0])
    money: dict[tuple, list] = defaultdict(lambda: [0, ZERO, ZERO, ZERO])
    m4 = ("billed", "waived", "received", "from_balance")
    key7 = ("estate_id", "building_id", "fee_item_id", "kind", "period", "due_date", "month")
    for model in (CollectionCell, CellDelta):
        for row in model.objects.values_list(*key7, *m4):
            for j in range(4):
                cells[row[:7]][j] += row[7 + j]
    for row in EstateCell.objects.values_list(*key7[:1], *key7[2:], *m4):
        for j in range(4):
            estates[row[:6]][j] += row[6 + j]
    for row in CellDelta.objects.values_list(*key7[:1], *key7[2:], *m4):
        for j in range(4):
            estates[row[:6]][j] += row[6 + j]
    for row in CellDelta.objects.filter(kind__in=GROUP_GROUPS).values_list(
        "estate_id", "building_id", "billed", "waived", "received"
    ):
        buildings[row[:2]][2] += row[2] - row[3] - row[4]
    for row in HouseholdCell.objects.values_list(
        "estate_id", "building_id", "period", "units_billed", "units_owing"
    ):
        households[row[:3]][0] += row[3]
        households[row[:3]][1] += row[4]
    for row in BuildingCell.objects.values_list(
        "estate_id", "building_id", "units_billed", "units_owing", "owing"
    ):
        for j in range(3):
            buildings[row[:2]][j] += row[2 + j]
    for row in CountDelta.objects.values_list(
        "estate_id", "building_id", "period", "units_billed", "units_owing"
    ):
        target = households[row[:3]] if row[2] else buildings[row[:2]]
        target[0] += row[3]
        target[1] += row[4]
    fields = ("estate_id", "day", "channel", "cashier_id", "payments", "received", "prepaid")
    for model in (MoneyCell, MoneyDelta):
        for row in model.objects.values_list(*fields, "refunded"):
            for j in range(4):
                money[row[:4]][j] += row[4 + j]
    owing = set()
    for s in UnitState.objects.all():
        for e in _load(s.state).values():
            if e[G_] in GROUP_GROUPS and e[O_]:
                owing.add((s.estate_id, s.building_id, s.unit_id, e[P_]))
    return {
        "cells": _nonzero(cells), "estates": _nonzero(estates),
        "households": _nonzero(households), "buildings": _nonzero(buildings), "owing": owing,
        "money": _nonzero(money),
    }  # fmt: skip


def pending() -> int:
    """How many deltas wait to be folded."""
    return CellDelta.objects.count() + CountDelta.objects.count() + MoneyDelta.objects.count()


def rebuild(*, estate_id: int | None = None) -> None:
    """Drop and recompute every cell and unit state (of one estate) from the books: after a
    restore, or to check. Run it while nothing posts to those estates (it replaces what a
    posting in flight would add to)."""
    scope = Q() if estate_id is None else Q(estate_id=estate_id)
    with transaction.atomic():
        for model in (
            CollectionCell, EstateCell, HouseholdCell, BuildingCell, MoneyCell, CellDelta,
            CountDelta, MoneyDelta, UnitState,
        ):  # fmt: skip
            model.objects.filter(scope).delete()
        if connection.vendor == "postgresql":
            _rebuild_pg(estate_id)
            return
        charges = Charge.objects.filter(scope).exclude(status=Charge.Status.CANCELLED)
        units = sorted(set(charges.order_by().values_list("unit_id", flat=True).distinct()))
        totals: dict[str, dict] = {
            "cells": defaultdict(_zero4), "estates": defaultdict(_zero4),
            "households": defaultdict(lambda: [0, 0]),
            "buildings": defaultdict(lambda: [0, 0, ZERO]),
        }  # fmt: skip
        for chunk in _chunks(units, 2000):
            entries, where = _compute(charges.filter(unit_id__in=chunk))
            part = _aggregate(entries, where)
            for name, rows in totals.items():
                for k, v in part[name].items():
                    for j in range(len(v)):
                        rows[k][j] += v[j]
            UnitState.objects.bulk_create(
                [
                    UnitState(
                        unit_id=unit, estate_id=where[int(next(iter(st)))][1],
                        building_id=where[int(next(iter(st)))][2], state=_dump(st),
                    )
                    for unit, st in part["states"].items()
                ],
                batch_size=1000,
            )  # fmt: skip
        CollectionCell.objects.bulk_create(
            [
                CollectionCell(
                    estate_id=k[0], building_id=k[1], fee_item_id=k[2], kind=k[3], period=k[4],
                    due_date=k[5], month=k[6], billed=v[B], waived=v[W], received=v[R],
                    from_balance=v[F],
                )
                for k, v in totals["cells"].items()
            ],
            batch_size=1000,
        )  # fmt: skip
        EstateCell.objects.bulk_create(
            [
                EstateCell(
                    estate_id=k[0], fee_item_id=k[1], kind=k[2], period=k[3], due_date=k[4],
                    month=k[5], billed=v[B], waived=v[W], received=v[R], from_balance=v[F],
                )
                for k, v in totals["estates"].items()
            ],
            batch_size=1000,
        )  # fmt: skip
        HouseholdCell.objects.bulk_create(
            [
                HouseholdCell(
                    estate_id=k[0], building_id=k[1], period=k[2], units_billed=v[0],
                    units_owing=v[1],
                )
                for k, v in totals["households"].items()
            ],
            batch_size=1000,
        )  # fmt: skip
        BuildingCell.objects.bulk_create(
            [
                BuildingCell(
                    estate_id=k[0], building_id=k[1], units_billed=v[0], units_owing=v[1],
                    owing=v[2],
                )
                for k, v in totals["buildings"].items()
            ],
            batch_size=1000,
        )  # fmt: skip
        money = _money_of(Payment.objects.filter(scope), PaymentReversal.objects.filter(scope))
        MoneyCell.objects.bulk_create(
            [
                MoneyCell(
                    estate_id=k[0], day=k[1], channel=k[2], cashier_id=k[3], payments=v[0],
                    received=v[1], prepaid=v[2], refunded=v[3],
                )
                for k, v in money.items()
            ],
            batch_size=1000,
        )  # fmt: skip


_GROUP_SQL = (
    "CASE c.kind "
    + " ".join(f"WHEN '{kind}' THEN '{group.value}'" for kind, group in KIND_GROUPS.items())
    + " END"
)


def _rebuild_pg(estate_id: int | None) -> None:
    """`rebuild` set-wise on PostgreSQL (a million units in minutes): the same cells and
    states in SQL for every charge without reversed money, then those few through `post`
    (the matching of reversals to days is `_reversal_days`'), then folded."""
    from django.conf import settings

    where, params = ("AND c.estate_id = %s", [estate_id]) if estate_id is not None else ("", [])
    hard = (
        "EXISTS (SELECT 1 FROM payments_allocation n WHERE n.charge_id = c.id "
        "AND n.reverses_id IS NOT NULL)"
    )
    live = f"c.status <> 'cancelled' {where} AND NOT {hard}"
    tz = settings.TIME_ZONE
    statements = [
        (
            f"""CREATE TEMP TABLE r_c ON COMMIT DROP AS
            SELECT c.id, c.estate_id, c.unit_id, u.building_id, c.fee_item_id,
                {_GROUP_SQL} AS grp, c.period, c.due_date,
                CASE WHEN c.outstanding > 0 THEN 1 ELSE 0 END AS owed
            FROM billing_charge c JOIN registry_unit u ON u.id = c.unit_id WHERE {live}""",  # noqa: S608
            params,
        ),
        ("CREATE INDEX ON r_c (id)", []),
        (
            f"""CREATE TEMP TABLE r_cm ON COMMIT DROP AS
            SELECT charge_id, month, SUM(b) AS b, SUM(w) AS w, SUM(r) AS r, SUM(f) AS f FROM (
                SELECT c.id AS charge_id, c.period AS month, c.amount AS b, 0 AS w, 0 AS r,
                    0 AS f
                FROM billing_charge c WHERE {live}
                UNION ALL
                SELECT w.charge_id, to_char(COALESCE(w.decided_at, w.requested_at)
                    AT TIME ZONE %s, 'YYYY-MM'), 0, w.amount, 0, 0
                FROM billing_waiver w JOIN billing_charge c ON c.id = w.charge_id
                WHERE w.status = 'approved' AND {live}
                UNION ALL
                SELECT n.charge_id, to_char(n.created_at AT TIME ZONE %s, 'YYYY-MM'), 0,
                    n.amount, 0, 0
                FROM billing_creditnote n JOIN billing_charge c ON c.id = n.charge_id
                WHERE {live}
                UNION ALL
                SELECT a.charge_id, to_char(p.business_date, 'YYYY-MM'), 0, 0, a.amount,
                    CASE WHEN p.channel = %s THEN a.amount ELSE 0 END
                FROM payments_allocation a JOIN payments_payment p ON p.id = a.payment_id
                JOIN billing_charge c ON c.id = a.charge_id
                WHERE a.reverses_id IS NULL AND {live}
            ) parts GROUP BY charge_id, month""",  # noqa: S608
            [*params, tz, *params, tz, *params, PREPAYMENT, *params],
        ),
        (
            """INSERT INTO reports_collectioncell (estate_id, building_id, fee_item_id, kind,
                period, due_date, month, billed, waived, received, from_balance)
            SELECT c.estate_id, c.building_id, c.fee_item_id, c.grp, c.period, c.due_date,
                m.month, SUM(m.b), SUM(m.w), SUM(m.r), SUM(m.f)
            FROM r_cm m JOIN r_c c ON c.id = m.charge_id
            GROUP BY c.estate_id, c.building_id, c.fee_item_id, c.grp, c.period, c.due_date,
                m.month""",
            [],
        ),
        (
            """INSERT INTO reports_unitstate (unit_id, estate_id, building_id, state)
            SELECT c.unit_id, MIN(c.estate_id), MIN(c.building_id),
                json_object_agg(c.id::text, json_build_array(c.period, c.grp, c.fee_item_id,
                    to_char(c.due_date, 'YYYY-MM-DD'), c.owed,
                    COALESCE(mm.months, '{}'::json)))::text
            FROM r_c c LEFT JOIN (
                SELECT charge_id, json_object_agg(month, json_build_array(b::text, w::text,
                    r::text, f::text)) AS months
                FROM r_cm GROUP BY charge_id
            ) mm ON mm.charge_id = c.id
            GROUP BY c.unit_id""",
            [],
        ),
        (
            """INSERT INTO reports_householdcell (estate_id, building_id, period, units_billed,
                units_owing)
            SELECT estate_id, building_id, period, COUNT(DISTINCT unit_id),
                COUNT(DISTINCT unit_id) FILTER (WHERE owed = 1)
            FROM r_c WHERE grp = 'fee' GROUP BY estate_id, building_id, period""",
            [],
        ),
        (
            """INSERT INTO reports_buildingcell (estate_id, building_id, units_billed,
                units_owing, owing)
            SELECT c.estate_id, c.building_id, COUNT(DISTINCT c.unit_id),
                COUNT(DISTINCT c.unit_id) FILTER (WHERE c.owed = 1), COALESCE(MIN(x.owing), 0)
            FROM r_c c LEFT JOIN (
                SELECT building_id, SUM(billed - waived - received) AS owing
                FROM reports_collectioncell WHERE kind IN ('fee', 'opening')
                GROUP BY building_id
            ) x ON x.building_id = c.building_id
            WHERE c.grp IN ('fee', 'opening') GROUP BY c.estate_id, c.building_id""",
            [],
        ),
        (
            f"""INSERT INTO reports_moneycell (estate_id, day, channel, cashier_id, payments,
                received, prepaid, refunded)
            SELECT estate_id, day, channel, cashier, SUM(n), SUM(s), SUM(p), SUM(x) FROM (
                SELECT c.estate_id, c.business_date AS day, c.channel,
                    COALESCE(c.created_by_id, 0) AS cashier, COUNT(*) AS n,
                    SUM(c.amount) AS s, SUM(c.prepaid) AS p, 0 AS x
                FROM payments_payment c WHERE c.channel <> %s {where}
                GROUP BY 1, 2, 3, 4
                UNION ALL
                SELECT c.estate_id, c.business_date,
                    COALESCE(NULLIF(c.refund_channel, ''), p.channel),
                    COALESCE(p.created_by_id, 0), 0, 0, 0, SUM(c.amount)
                FROM payments_paymentreversal c JOIN payments_payment p ON p.id = c.payment_id
                WHERE c.status = 'approved' AND p.channel <> %s {where}
                GROUP BY 1, 2, 3, 4
            ) t GROUP BY estate_id, day, channel, cashier""",  # noqa: S608
            [PREPAYMENT, *params, PREPAYMENT, *params],
        ),
    ]
    with connection.cursor() as cur:
        for sql, args in statements:
            cur.execute(sql, args)
        cur.execute(
            f"""SELECT c.id FROM billing_charge c WHERE c.status <> 'cancelled' {where}
            AND {hard}""",  # noqa: S608  # nosec B608
            params,
        )
        reversed_money = [r[0] for r in cur.fetchall()]
    _estate_cells_from_buildings(estate_id)
    if reversed_money:
        post(charge_ids=reversed_money)
    while refresh():
        pass


def _estate_cells_from_buildings(estate_id: int | None) -> None:
    where, params = ("WHERE estate_id = %s", [estate_id]) if estate_id is not None else ("", [])
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO reports_estatecell (estate_id, fee_item_id, kind, period, due_date,
                month, billed, waived, received, from_balance)
            SELECT estate_id, fee_item_id, kind, period, due_date, month, SUM(billed),
                SUM(waived), SUM(received), SUM(from_balance)
            FROM reports_collectioncell {where}
            GROUP BY estate_id, fee_item_id, kind, period, due_date, month""",  # noqa: S608  # nosec B608
            params,
        )
