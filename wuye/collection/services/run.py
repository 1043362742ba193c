"""The dunning run (催收批处理): daily, per estate, set-wise.

For an estate and a day `as_of`:
1. Promises: a pending promise is kept once what its case owed when it was made (the charges
   in the case by that day; months falling due later do not count against it) has fallen by
   the promised amount (the follow-up closes); one whose date has passed unkept is broken: a
   follow-up task, a broken-promise count for the priority score, and the case moves on to
   the next stage if the case qualifies for it (approval, reason).
2. Figures, from the open overdue charges (due before `as_of`): what each party owes net of
   its prepayment balance (money received and not yet applied; earmarked money only against
   its own item, then general money, oldest first), and the due date of the oldest charge
   the credit does not cover -- the age of the debt. A party whose credit covers everything
   is not chased.
3. Cases: a party without an open case gets one; the stage is the last one whose day is
   reached (a stage needing approval or a reason only when the case has it), never back.
   Parties with an active hold keep their stage and are sent nothing.
4. Actions of a stage are emitted when the case enters it, and again every `repeat_days`;
   never twice on one day (`actions_on`), and every message and task carries a dedupe key
   (case, stage, day, action), so running the same day again emits nothing new.
5. Every overdue charge of a party joins its open case (INSERT ... SELECT); a case whose
   charges are all settled closes (its open tasks are cancelled).
6. Cases without progress (a staff contact, a promise, a reason, a payment) for the
   policy's days escalate to a supervisor by themselves.

Each estate is one transaction; the run row records counts per stage and phase timings.

Set-wise: steps 2-5 are a handful of statements per estate over temporary tables (see
"2. figures" below), not a model instance per party: cases are opened with INSERT ...
SELECT and advanced with UPDATE ... FROM, tasks and charge links are INSERT ... SELECT,
messages are rendered from plain rows and written with COPY (outbox.OutboxWriter). On
PostgreSQL the netting is SQL too; SQLite (the portable path) nets in Python, `net_left`.
The bench is W3 (bench/w3_dunning_run.py)."""

import gc
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from wuye.audit.services import SYSTEM, audit_record
from wuye.billing.models import Charge, PrepaymentMovement
from wuye.core.money import MoneySum
from wuye.notifications.services import NO_HOLDINGS, Holdings, holdings_from
from wuye.registry.models import Estate
from wuye.registry.services import require_estate, require_perm

from ..models import (
    ActionKind,
    ArrearsCase,
    CaseStatus,
    DunningPolicy,
    DunningRun,
    DunningStage,
    Escalation,
    Hold,
    PromiseToPay,
    Task,
)
from .contacts import contacts_from_outbox
from .outbox import OutboxWriter, recipient
from .policies import policy_default

log = logging.getLogger(__name__)
CHUNK = 5000
ZERO = Decimal("0.00")


def dunning_run(
    *,
    as_of: date,
    estate_id: int | None = None,
    actor=None,
    progress: Callable[[str], None] | None = None,
) -> DunningRun:
    """Run the dunning engine for one estate (or every active estate) on `as_of`."""
    actor = actor or SYSTEM
    require_perm(actor, "collection.run_dunning")
    if estate_id is not None:
        require_estate(actor, estate_id)
        estates = list(Estate.objects.filter(pk=estate_id))
    else:
        estates = list(Estate.objects.filter(is_active=True).order_by("pk"))
    run = DunningRun.objects.create(
        estate_id=estate_id, as_of=as_of, created_by=actor if actor.pk else None
    )
    counts: dict = {"by_stage": {}, "emitted": 0}
    try:
        for estate in estates:
            with transaction.atomic():
                _run_estate(estate, as_of, counts)
            if progress:
                progress(estate.code)
    except Exception as exc:
        run.status = DunningRun.Status.FAILED
        run.error = repr(exc)[:2000]
        run.counts = counts
        run.finished_at = timezone.now()
        run.save()
        raise
    run.status = DunningRun.Status.DONE
    run.counts = counts
    run.finished_at = timezone.now()
    run.save()
    if actor is not SYSTEM:
        audit_record(
            actor=actor,
            action="collection.dunning_run",
            subject=run,
            estate_id=estate_id,
            after={"as_of": as_of, "emitted": counts["emitted"]},
        )
    return run


def _add(counts: dict, key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


# --- 1. promises ---------------------------------------------------------------------------
def case_owed(case_ids) -> dict[int, Decimal]:
    """What each case's charges still have outstanding (not netted)."""
    from ..models import CaseCharge

    rows = (
        CaseCharge.objects.filter(case_id__in=list(case_ids), charge__status=Charge.Status.OPEN)
        .values("case_id")
        .annotate(owed=MoneySum("charge__outstanding"))
        .values_list("case_id", "owed")
    )
    owed = {case_id: ZERO for case_id in case_ids}
    owed.update({case_id: value or ZERO for case_id, value in rows})
    return owed


def _owed_since_promise(promises: list[PromiseToPay]) -> dict[int, Decimal]:
    """What each promise's case still has outstanding on the charges that were in the case on
    the day the promise was made (`owed_at_promise` covered those): a month that falls due
    afterwards joins the case but does not make a kept promise look broken."""
    from ..models import CaseCharge

    rows = CaseCharge.objects.filter(
        case_id__in={p.case_id for p in promises}, charge__status=Charge.Status.OPEN
    ).values_list("case_id", "added_on", "charge__outstanding")
    by_case: dict[int, list[tuple[date, Decimal]]] = {}
    for case_id, added_on, outstanding in rows:
        by_case.setdefault(case_id, []).append((added_on, outstanding or ZERO))
    # The business day the promise was made is its hold's first day (`promise_record`).
    made = dict(
        Hold.objects.filter(
            source__in=[f"collection.promisetopay:{p.pk}" for p in promises]
        ).values_list("source", "starts_on")
    )
    owed = {}
    for promise in promises:
        made_on = made.get(f"collection.promisetopay:{promise.pk}") or timezone.localdate(
            promise.created_at
        )
        owed[promise.pk] = sum(
            (amount for added, amount in by_case.get(promise.case_id, []) if added <= made_on),
            ZERO,
        )
    return owed


def _judge_promises(estate: Estate, as_of: date, stages: list[DunningStage], counts) -> None:
    pending = list(
        PromiseToPay.objects.filter(estate=estate, status=PromiseToPay.Status.PENDING)
        .select_related("case")
        .order_by("id")
    )
    if not pending:
        return
    owed = _owed_since_promise(pending)
    by_number = {s.number: s for s in stages}
    for promise in pending:
        case = promise.case
        if owed[promise.pk] <= promise.owed_at_promise - promise.amount:
            promise.status = PromiseToPay.Status.KEPT
            promise.resolved_on = as_of
            promise.save(update_fields=["status", "resolved_on"])
            Hold.objects.filter(
                source=f"collection.promisetopay:{promise.pk}", released_at__isnull=True
            ).update(released_at=timezone.now())
            Task.objects.filter(
                case=case, status=Task.Status.OPEN, kind__in=[Task.Kind.CALL, Task.Kind.FOLLOW_UP]
            ).update(status=Task.Status.DONE, done_at=timezone.now(), note="promise kept")
            if case.status == CaseStatus.PROMISED:
                case.status = CaseStatus.OPEN
            case.last_progress_on = as_of
            case.save(update_fields=["status", "last_progress_on", "updated_at"])
            _add(counts, "promises_kept")
        elif promise.due_on < as_of:
            promise.status = PromiseToPay.Status.BROKEN
            promise.resolved_on = as_of
            promise.save(update_fields=["status", "resolved_on"])
            Hold.objects.filter(
                source=f"collection.promisetopay:{promise.pk}", released_at__isnull=True
            ).update(released_at=timezone.now())
            case.broken_promises += 1
            if case.status == CaseStatus.PROMISED:
                case.status = CaseStatus.OPEN
            nxt = by_number.get(case.stage_number + 1)
            if (
                nxt is not None
                and (not nxt.needs_approval or case.approved_stage >= nxt.number)
                and (not nxt.needs_reason or case.reason == nxt.needs_reason)
            ):
                case.stage_number = nxt.number
                case.stage = nxt
                case.stage_entered_on = as_of
                case.actions_on = None  # the new stage's actions go out in this run
            case.save()
            Task.objects.get_or_create(
                dedupe_key=f"promise:{promise.pk}:broken",
                defaults={
                    "estate": estate,
                    "case": case,
                    "kind": Task.Kind.FOLLOW_UP,
                    "role": "collector",
                    "assignee": case.assignee,
                    "due_on": as_of,
                    "stage_number": case.stage_number,
                    "note_i18n": {
                        "msgid": gettext_noop("Promise of %(amount)s yuan by %(due_on)s not kept"),
                        "args": {
                            "amount": str(promise.amount),
                            "due_on": promise.due_on.isoformat(),
                        },
                    },
                },
            )
            _add(counts, "promises_broken")


# --- 2. figures ----------------------------------------------------------------------------
# The run works on three temporary tables, filled and read by set-wise SQL (one statement
# each, per estate) instead of one model instance per party:
#   dun_left  every open overdue charge and what of it the party's credit leaves unpaid;
#   dun_fig   per party: what it owes net of its credit, the oldest unpaid due date (the age
#             of the debt) and its period, the lowest and highest unit with unpaid money;
#   dun_dec   per party: its open case (if any), hold, the stage it moves to, and whether
#             the case changed and whether the stage's actions are due today.
# PostgreSQL nets the credit in SQL (window sums); the portable path (SQLite) nets it in
# Python with `net_left` and writes the same two tables, so everything after is one code.
TEMP_TABLES = {
    "dun_left": "charge_id bigint, party_id bigint, due_date date, unit_id bigint,"
    " period varchar(20), lft numeric(14, 2)",
    "dun_fig": "party_id bigint PRIMARY KEY, net numeric(14, 2), oldest date,"
    " oldest_period varchar(20), unit_min bigint, unit_max bigint",
    "dun_dec": "party_id bigint PRIMARY KEY, case_id bigint, held smallint,"
    " net numeric(14, 2), oldest date, new_number integer, moved smallint, dirty smallint,"
    " progress smallint, emit smallint",
}


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _temp_tables(cursor, *, create: bool) -> None:
    schema = "pg_temp" if _pg() else "temp"  # never a real table of that name
    for name, columns in TEMP_TABLES.items():
        cursor.execute(f"DROP TABLE IF EXISTS {schema}.{name}")  # noqa: S608 - fixed names
        if create:
            cursor.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")  # noqa: S608


def _credits(estate: Estate) -> dict[int, dict[int | None, Decimal]]:
    """{party: {fee item or None (general): prepayment balance > 0}}."""
    credit: dict[int, dict[int | None, Decimal]] = {}
    rows = (
        PrepaymentMovement.objects.filter(estate=estate)
        .values("party_id", "fee_item_id")
        .annotate(balance=MoneySum("amount"))
        .filter(balance__gt=Decimal("0.005"))  # SQLite sums as floats: 0.00 may be 1e-17
        .values_list("party_id", "fee_item_id", "balance")
    )
    for party_id, item_id, balance in rows:
        credit.setdefault(party_id, {})[item_id] = balance
    return credit


def net_left(charges: list[tuple[int | None, Decimal]], credit: dict) -> list[Decimal]:
    """`charges`: (fee item, outstanding) of one party, oldest first (due date, id);
    `credit`: {fee item or None (general): balance}. Earmarked credit pays its item's
    charges first, general credit the rest, oldest first. Returns what each charge keeps
    unpaid. (The reference for the SQL netting on PostgreSQL, `_LEFT_PG`.)"""
    pools = dict(credit)
    lefts = []
    for item_id, outstanding in charges:
        left = outstanding
        for pool in (item_id, None):  # earmarked money first, then general money
            available = pools.get(pool, ZERO)
            if available > 0 and left > 0:
                used = min(available, left)
                pools[pool] = available - used
                left -= used
        lefts.append(left)
    return lefts


# One statement: the open overdue charges; parties without credit owe them in full, the
# others are netted with running sums -- earmarked credit along each item's charges, then
# general credit along what is left, both oldest first (= `net_left`).
_LEFT_PG = """
WITH ch AS (
    SELECT id, party_id, fee_item_id, due_date, unit_id, period, outstanding
    FROM billing_charge
    WHERE estate_id = %(estate)s AND status = 'open' AND outstanding > 0
      AND due_date < %(as_of)s
), cr AS (
    SELECT party_id, fee_item_id, SUM(amount) AS bal
    FROM billing_prepaymentmovement WHERE estate_id = %(estate)s
    GROUP BY party_id, fee_item_id HAVING SUM(amount) > 0
), e AS (
    SELECT ch.id, ch.party_id, ch.due_date, ch.unit_id, ch.period,
        ch.outstanding - LEAST(GREATEST(COALESCE(ce.bal, 0)
            - (SUM(ch.outstanding) OVER wi - ch.outstanding), 0), ch.outstanding) AS r,
        COALESCE(cg.bal, 0) AS gbal
    FROM ch
    LEFT JOIN cr ce ON ce.party_id = ch.party_id AND ce.fee_item_id = ch.fee_item_id
    LEFT JOIN cr cg ON cg.party_id = ch.party_id AND cg.fee_item_id IS NULL
    WHERE ch.party_id IN (SELECT party_id FROM cr)
    WINDOW wi AS (PARTITION BY ch.party_id, ch.fee_item_id ORDER BY ch.due_date, ch.id
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
INSERT INTO dun_left (charge_id, party_id, due_date, unit_id, period, lft)
SELECT id, party_id, due_date, unit_id, period, outstanding
FROM ch WHERE party_id NOT IN (SELECT party_id FROM cr)
UNION ALL
SELECT id, party_id, due_date, unit_id, period,
    r - LEAST(GREATEST(gbal - (SUM(r) OVER wp - r), 0), r)
FROM e
WINDOW wp AS (PARTITION BY party_id ORDER BY due_date, id
              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
"""

_FIG_PG = """
INSERT INTO dun_fig (party_id, net, oldest, oldest_period, unit_min, unit_max)
SELECT a.party_id, a.net, a.oldest, f.period, a.unit_min, a.unit_max
FROM (
    SELECT party_id, SUM(lft) AS net,
        MIN(CASE WHEN lft > 0 THEN due_date END) AS oldest,
        MIN(CASE WHEN lft > 0 THEN unit_id END) AS unit_min,
        MAX(CASE WHEN lft > 0 THEN unit_id END) AS unit_max
    FROM dun_left GROUP BY party_id
) a
LEFT JOIN (
    SELECT DISTINCT ON (party_id) party_id, period FROM dun_left WHERE lft > 0
    ORDER BY party_id, due_date, charge_id
) f ON f.party_id = a.party_id
"""


def _figures(cursor, estate: Estate, as_of: date) -> None:
    """Fill dun_left and dun_fig."""
    params = {"estate": estate.pk, "as_of": as_of}
    if _pg():
        cursor.execute(_LEFT_PG, params)
        cursor.execute(_FIG_PG)
        cursor.execute("ANALYZE dun_left, dun_fig")
        return
    credit = _credits(estate)
    rows = (
        Charge.objects.filter(
            estate_id=estate.pk, status=Charge.Status.OPEN, outstanding__gt=0, due_date__lt=as_of
        )
        .order_by("party_id", "due_date", "id")
        .values_list(
            "party_id", "id", "fee_item_id", "due_date", "outstanding", "unit_id", "period"
        )
    )
    left_rows: list[tuple] = []
    fig_rows: list[tuple] = []

    def party_done(party_id: int, charges: list[tuple]) -> None:
        lefts = net_left([(c[1], c[3]) for c in charges], credit.get(party_id, {}))
        first = None
        units = []
        for (charge_id, _item, due, _outstanding, unit_id, period), left in zip(
            charges, lefts, strict=True
        ):
            left_rows.append((charge_id, party_id, due, unit_id, period, left))
            if left > 0:
                units.append(unit_id)
                first = first or (due, period)
        fig_rows.append(
            (
                party_id,
                sum(lefts, ZERO),
                first and first[0],
                first and first[1],
                min(units, default=None),
                max(units, default=None),
            )
        )

    current, charges = None, []
    for party_id, *rest in rows.iterator(chunk_size=CHUNK):
        if party_id != current:
            if current is not None:
                party_done(current, charges)
            current, charges = party_id, []
        charges.append(tuple(rest))
    if current is not None:
        party_done(current, charges)
    cursor.executemany(
        "INSERT INTO dun_left (charge_id, party_id, due_date, unit_id, period, lft)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        left_rows,
    )
    cursor.executemany(
        "INSERT INTO dun_fig (party_id, net, oldest, oldest_period, unit_min, unit_max)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        fig_rows,
    )


# --- 3./4. cases and actions ---------------------------------------------------------------
class _Sql:
    """The few expressions PostgreSQL and SQLite spell differently, and the per-policy
    expressions generated from the stages (numbers and ids are integers from the database,
    the rest are parameters)."""

    def __init__(self, stages: list[DunningStage], params: dict):
        self.pg = _pg()
        self.stages = stages
        self.params = params

    def param(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def days_since(self, column: str) -> str:
        """Whole days from `column` to as_of."""
        if self.pg:
            return f"(CAST(%(as_of)s AS date) - {column})"
        return f"CAST(julianday(%(as_of)s) - julianday({column}) AS INTEGER)"

    def concat(self, column: str) -> str:
        """The values of `column` joined by commas (an aggregate)."""
        return f"string_agg({column}, ',')" if self.pg else f"group_concat({column}, ',')"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    def differs(self, a: str, b: str) -> str:
        return f"{a} IS DISTINCT FROM {b}" if self.pg else f"{a} IS NOT {b}"

    def target(self, days: str, case: tuple[str, str] | None) -> str:
        """`target_stage` as SQL: the last stage whose day is reached -- it and every stage
        before it (the loop stops at the first stage not reached) -- and whose conditions the
        case meets; a new case (`case` None) meets no approval or reason condition."""
        whens = []
        reached = -1
        for stage in self.stages:
            reached = max(reached, stage.min_days)
            conditions = [f"{days} >= {int(reached)}"]
            if stage.needs_approval:
                if case is None:
                    continue
                conditions.append(f"{case[0]} >= {int(stage.number)}")
            if stage.needs_reason:
                if case is None:
                    continue
                conditions.append(f"{case[1]} = {self.param(stage.needs_reason)}")
            whens.append(f"WHEN {' AND '.join(conditions)} THEN {int(stage.number)}")
        return f"CASE {' '.join(reversed(whens))} ELSE 0 END" if whens else "0"

    def by_number(self, number: str, attr: str, default: str) -> str:
        whens = " ".join(f"WHEN {int(s.number)} THEN {int(getattr(s, attr))}" for s in self.stages)
        return f"CASE {number} {whens} ELSE {default} END" if whens else default

    def is_stage(self, number: str) -> str:
        numbers = ", ".join(str(int(s.number)) for s in self.stages)
        return f"{number} IN ({numbers})" if numbers else "1 = 0"


def _decide(cursor, sql: _Sql) -> None:
    """dun_dec: one row per party with charges -- the decisions `_process_chunk` used to
    make one party at a time, as one INSERT ... SELECT:
    - a party owing nothing net (covered by its credit) is not chased;
    - a party without an open case gets one at the stage its days reach;
    - an open case moves on to the stage its days reach, never back, unless held;
    - the stage's actions are due when the case enters it and every `repeat_days`, never
      twice a day, never while held; `dirty`: the case's figures or stage changed."""
    days = sql.days_since("f.oldest")
    target_new = sql.target("x.days", None)
    target_old = sql.target("x.days", ("x.c_approved", "x.c_reason"))
    repeat = sql.by_number("z.new_number", "repeat_days", "0")
    cursor.execute(
        "INSERT INTO dun_dec (party_id, case_id, held, net, oldest, new_number, moved, dirty,"  # noqa: S608  # generated from the policy's integers, values bound  # nosec B608
        f""" progress, emit)
        SELECT z.party_id, z.case_id, z.held, z.net, z.oldest, z.new_number, z.moved,
            CASE WHEN z.case_id IS NOT NULL AND z.net > 0 AND (z.progress = 1
                OR z.c_amount <> z.net OR {sql.differs("z.c_oldest", "z.oldest")}
                OR z.moved = 1) THEN 1 ELSE 0 END,
            z.progress,
            CASE WHEN z.net > 0 AND z.held = 0 AND {sql.is_stage("z.new_number")}
                AND (z.c_actions_on IS NULL OR z.c_actions_on <> %(as_of)s)
                AND (z.moved = 1 OR z.c_actions_on IS NULL
                     OR ({repeat} > 0 AND {sql.days_since("z.c_actions_on")} >= {repeat}))
                THEN 1 ELSE 0 END
        FROM (
            SELECT y.*,
                CASE WHEN y.net <= 0 THEN 0
                     WHEN y.case_id IS NULL THEN (CASE WHEN y.new_number > 0 THEN 1 ELSE 0 END)
                     WHEN y.new_number <> y.c_stage THEN 1 ELSE 0 END AS moved
            FROM (
                SELECT x.*,
                    CASE WHEN x.net <= 0 THEN x.c_stage
                         WHEN x.case_id IS NULL THEN {target_new}
                         WHEN x.held = 1 THEN x.c_stage
                         ELSE {sql.greatest("x.c_stage", target_old)} END AS new_number,
                    CASE WHEN x.case_id IS NOT NULL AND x.net > 0 AND x.net < x.c_amount
                         THEN 1 ELSE 0 END AS progress
                FROM (
                    SELECT f.party_id, f.net, f.oldest, {days} AS days, c.id AS case_id,
                        c.stage_number AS c_stage, c.amount AS c_amount,
                        c.oldest_due_date AS c_oldest, c.actions_on AS c_actions_on,
                        c.approved_stage AS c_approved, c.reason AS c_reason,
                        CASE WHEN EXISTS (
                            SELECT 1 FROM collection_hold h
                            WHERE h.party_id = f.party_id AND h.released_at IS NULL
                              AND h.starts_on <= %(as_of)s
                              AND (h.expires_on IS NULL OR h.expires_on >= %(as_of)s)
                        ) THEN 1 ELSE 0 END AS held
                    FROM dun_fig f
                    LEFT JOIN collection_arrearscase c
                        ON c.party_id = f.party_id AND c.status <> 'closed'
                ) x
            ) y
        ) z
        """,  # noqa: S608 - generated from the policy's integers; values are parameters
        sql.params,
    )
    if sql.pg:
        cursor.execute("ANALYZE dun_dec")


def _insert_select(cursor, model, exprs: dict[str, str], tail: str, params: dict) -> int:
    """INSERT INTO model's table every column but the id: `exprs` {attname: SQL} for the
    ones this statement computes, the field's default (`now` for auto timestamps) for the
    others; `tail`: FROM ... WHERE .... Returns the rows written."""
    columns, values = [], []
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in exprs:
            values.append(exprs[field.attname])
            continue
        name = f"d_{field.attname}"
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            params[name] = now
        else:
            params[name] = field.get_db_prep_save(field.get_default(), connection)
        values.append(f"%({name})s")
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} {tail}",
        params,
    )
    return cursor.rowcount


def _cases(cursor, estate: Estate, as_of: date, sql: _Sql, counts: dict, lap) -> None:
    """Open the new cases and bring the open ones up to date, from dun_dec."""
    stage_id = sql.by_number("d.new_number", "pk", "NULL")
    cursor.execute(
        """SELECT
            SUM(CASE WHEN net <= 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN net > 0 AND held = 1 THEN 1 ELSE 0 END)
        FROM dun_dec"""
    )
    covered, held = cursor.fetchone()
    if covered:
        _add(counts, "covered", int(covered))
    if held:
        _add(counts, "held", int(held))
    # Covered by prepayment: not chased. The case stays open until the charges are settled
    # (billing applies the prepayment when it runs), but owes nothing now.
    cursor.execute(
        """UPDATE collection_arrearscase SET amount = %(zero)s
        WHERE id IN (SELECT case_id FROM dun_dec WHERE net <= 0 AND case_id IS NOT NULL)
          AND amount <> %(zero)s""",
        {"zero": ZERO},
    )
    opened = _insert_select(
        cursor,
        ArrearsCase,
        {
            "estate_id": "%(estate)s",
            "party_id": "d.party_id",
            "status": "%(open)s",
            "stage_id": stage_id,
            "stage_number": "d.new_number",
            "amount": "d.net",
            "oldest_due_date": "d.oldest",
            "opened_on": "%(as_of)s",
            "stage_entered_on": "%(as_of)s",
            "last_run_on": "%(as_of)s",
            "last_progress_on": "%(as_of)s",
            "actions_on": "CASE WHEN d.emit = 1 THEN %(as_of)s END",
        },
        "FROM dun_dec d WHERE d.case_id IS NULL AND d.net > 0 ORDER BY d.party_id",
        {**sql.params, "estate": estate.pk, "open": CaseStatus.OPEN},
    )
    if opened:
        _add(counts, "opened", opened)
    lap("cases_insert")
    cursor.execute(
        "UPDATE collection_arrearscase AS c SET"  # noqa: S608  # generated from the policy's integers, values bound  # nosec B608
        f"""
            amount = d.net,
            oldest_due_date = d.oldest,
            stage_number = d.new_number,
            stage_id = CASE WHEN d.moved = 1 THEN {stage_id} ELSE c.stage_id END,
            stage_entered_on = CASE WHEN d.moved = 1 THEN %(as_of)s ELSE c.stage_entered_on END,
            actions_on = CASE WHEN d.emit = 1 THEN %(as_of)s ELSE c.actions_on END,
            last_run_on = CASE WHEN d.dirty = 1 THEN %(as_of)s ELSE c.last_run_on END,
            last_progress_on = CASE WHEN d.progress = 1 THEN %(as_of)s
                                    ELSE c.last_progress_on END
        FROM dun_dec d
        WHERE c.id = d.case_id AND d.net > 0 AND (d.dirty = 1 OR d.emit = 1)
        """,  # noqa: S608 - generated from the policy's integers
        sql.params,
    )
    lap("cases_update")


def _dedupe_key(sql: _Sql, case: str, number: str, action: str) -> str:
    """f"dunning:{case}:{stage}:{day}:{action}" in SQL (the key `_emit` always wrote)."""
    return (
        f"'dunning:' || CAST({case} AS TEXT) || ':' || CAST({number} AS TEXT) || ':'"
        f" || %(day)s || ':' || CAST({action} AS TEXT)"
    )


def _emitting(joins: str = "") -> str:
    """FROM ... WHERE of the (case, stage action) pairs due today."""
    return f"""
    FROM dun_dec d
    JOIN collection_arrearscase c ON c.party_id = d.party_id AND c.status <> 'closed'
    JOIN collection_dunningstage s ON s.policy_id = %(policy)s AND s.number = d.new_number
    JOIN collection_stageaction a ON a.stage_id = s.id {joins}
    WHERE d.emit = 1"""


def _emit(cursor, estate, policy, as_of, stage_list, sql: _Sql, counts, lap) -> None:
    """The actions of the cases due for them (dun_dec.emit): tasks by INSERT ... SELECT,
    messages rendered and written through the outbox, every one with its dedupe key
    (case, stage, day, action); a key that exists already is skipped."""
    cursor.execute("SELECT new_number, COUNT(*) FROM dun_dec WHERE emit = 1 GROUP BY new_number")
    emitting = dict(cursor.fetchall())
    by_stage = counts["by_stage"]
    for stage in stage_list:
        actions = [
            a
            for a in stage.actions.all()
            if (a.kind in (ActionKind.MESSAGE, ActionKind.FORMAL_DEMAND) and a.template_code)
            or (
                a.kind != ActionKind.MESSAGE and (a.task_role or a.kind != ActionKind.FORMAL_DEMAND)
            )
        ]
        n = emitting.get(stage.number, 0) * len(actions)
        if n:
            by_stage[str(stage.number)] = by_stage.get(str(stage.number), 0) + n
            counts["emitted"] += n
    if not emitting:
        return
    params = {**sql.params, "policy": policy.pk, "day": as_of.isoformat(), "as_of": as_of}
    role = "COALESCE(NULLIF(a.task_role, ''), s.assignee_role)"
    exprs = {
        "estate_id": "%(estate)s",
        "case_id": "c.id",
        "kind": "a.kind",
        "role": role,
        "assignee_id": f"CASE WHEN {role} = 'collector' THEN c.assignee_id END",
        "due_on": "%(as_of)s",
        "stage_number": "s.number",
        "dedupe_key": _dedupe_key(sql, "c.id", "s.number", "a.id") + " || ':task'",
    }
    tasks = 0
    # A case opened in this run has no task yet: its keys cannot exist, and a plain INSERT
    # spares the unique index a speculative insertion per row; an older case's key may
    # (the same day after a broken promise), so its tasks skip what exists.
    for cases, conflict in (
        ("d.case_id IS NULL", ""),
        ("d.case_id IS NOT NULL", " ON CONFLICT (dedupe_key) DO NOTHING"),
    ):
        tasks += _insert_select(
            cursor,
            Task,
            exprs,
            _emitting()
            + f""" AND {cases} AND a.kind <> 'message'
              AND (a.task_role <> '' OR a.kind <> 'formal_demand')
            ORDER BY c.id, a."order", a.id{conflict}""",
            {**params, "estate": estate.pk},
        )
    _add(counts, "tasks", tasks)
    lap("tasks")
    _add(counts, "messages", _messages(cursor, estate, sql, params))
    lap("messages")


@contextmanager
def _no_cycle_collection():
    """Python's cycle collector runs each time enough containers have been made, and its
    full passes walk every live one: over a few hundred thousand messages (rows, values,
    every party's units) the walking cost more than the work (W3: 1M parties, the step took
    30-38 s with it off, 45-48 s on, same load). What is made here hardly ever forms a cycle,
    and what does is collected once it is back on (as it was) after the step."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _messages(cursor, estate, sql: _Sql, params: dict) -> int:
    """Stream the message actions due (case, action, the party's fields, its figures) and
    write them through the outbox writer, a chunk at a time."""
    with _no_cycle_collection():
        return _stream_messages(cursor, estate, sql, params)


def _stream_messages(cursor, estate, sql: _Sql, params: dict) -> int:
    key = _dedupe_key(sql, "c.id", "s.number", "a.id")
    joins = """
    JOIN registry_party p ON p.id = d.party_id
    JOIN dun_fig f ON f.party_id = d.party_id
    LEFT JOIN registry_unit u ON u.id = f.unit_min"""
    query = f"""
        SELECT c.id, s.number, a.id, a.kind, a.template_code, a.channel,
            p.id, p.name, p.mobile, p.wechat_openid, p.email, p.mailing_address, p.consents,
            p.preferred_channels, p.payment_ref,
            d.net, d.oldest, f.oldest_period, f.unit_min, f.unit_max, u.number,
            (SELECT {sql.concat("o.channel")} FROM notifications_channeloptout o
             WHERE o.party_id = p.id AND o.revoked_at IS NULL) AS opted_out
        {_emitting(joins)}
          AND a.kind IN ('message', 'formal_demand') AND a.template_code <> ''
          AND (d.case_id IS NULL OR NOT EXISTS (
              SELECT 1 FROM notifications_message m WHERE m.dedupe_key = {key}))
        ORDER BY c.id, a."order", a.id"""  # noqa: S608 - generated
    writer = OutboxWriter(estate)
    day = params["day"]
    holdings = _holdings(cursor, estate)
    if _pg():  # a server-side cursor: the rows stream, a chunk at a time
        with connection.chunked_cursor() as stream:
            stream.execute(query, params)
            while rows := stream.fetchmany(CHUNK):
                _write_messages(writer, estate, rows, day, holdings)
    else:  # SQLite reads everything before writing to the table the query checks
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall()
        for start in range(0, len(rows), CHUNK):
            _write_messages(writer, estate, rows[start : start + CHUNK], day, holdings)
    return writer.close()


def _holdings(cursor, estate) -> dict[int, Holdings]:
    """The units held and left by every party due for an action today, read in one query: a
    letter to a party without a mailing address of its own goes to a unit it still holds
    (`address_for`), and asking per letter cost a query each (most of a large run). (Not
    narrowed to parties without a mailing address: one more join costs more than the rows.)"""
    if not estate.address:
        return {}  # no letter goes to a unit: `address_for` never asks
    cursor.execute(
        """
        SELECT up.party_id, u.number, up.start_date, up.end_date
        FROM dun_dec d
        JOIN registry_unitparty up ON up.party_id = d.party_id
        JOIN registry_unit u ON u.id = up.unit_id
        WHERE d.emit = 1
        ORDER BY up.party_id, up.start_date, up.id"""
    )
    return holdings_from(cursor)  # row by row from the result, not a list of them all


def _units(party_ids: list[int]) -> dict[int, str]:
    """The unit numbers of parties owing on more than one unit, as a reminder lists them."""
    if not party_ids:
        return {}
    numbers: dict[int, list[str]] = {}
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(party_ids))
        cursor.execute(
            "SELECT DISTINCT l.party_id, l.unit_id, u.number FROM dun_left l"  # noqa: S608  # placeholders only, values bound  # nosec B608
            f"""
            JOIN registry_unit u ON u.id = l.unit_id
            WHERE l.lft > 0 AND l.party_id IN ({marks})""",  # noqa: S608 - placeholders
            party_ids,
        )
        for party_id, _unit_id, number in cursor.fetchall():
            numbers.setdefault(party_id, []).append(number or "")
    return {party_id: "、".join(sorted(found)) for party_id, found in numbers.items()}


def _money(value) -> Decimal:
    """A sum read by raw SQL: Decimal (PostgreSQL) or int/float (SQLite), to the fen."""
    return (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(ZERO)


def _write_messages(
    writer: OutboxWriter, estate, rows: list[tuple], day: str, holdings: dict[int, Holdings]
) -> None:
    multi = _units(sorted({r[6] for r in rows if r[18] != r[19]}))
    # one Recipient per party of the chunk, with its units (a letter's address)
    recipients = {r[6]: recipient(estate, *r[6:15], holdings.get(r[6], NO_HOLDINGS)) for r in rows}
    for (
        case_id,
        number,
        action_id,
        kind,
        template_code,
        channel,
        party_id,
        *_party,
        net,
        oldest,
        period,
        unit_min,
        unit_max,
        unit_number,
        opted_out,
    ) in rows:
        if isinstance(oldest, str):
            oldest = date.fromisoformat(oldest)
        units = multi.get(party_id) if unit_min != unit_max else unit_number
        writer.add(
            party=recipients[party_id],
            purpose="formal_demand" if kind == ActionKind.FORMAL_DEMAND else "reminder",
            template_code=template_code,
            channel=channel,
            context={
                "unit": units or "-",
                "period": period or "",
                "amount": _money(net),
                "due_date": oldest.isoformat(),
            },
            dedupe_key=f"dunning:{case_id}:{number}:{day}:{action_id}",
            opted=set(opted_out.split(",")) if opted_out else set(),
        )
    writer.flush()


# --- 5. charges in cases, closing ----------------------------------------------------------
def _link_charges(cursor, as_of: date) -> None:
    """Every open overdue charge (dun_left) of a party with an open case joins that case."""
    cursor.execute(
        """
        INSERT INTO collection_casecharge (case_id, charge_id, added_on)
        SELECT c.id, l.charge_id, %(as_of)s
        FROM dun_left l
        JOIN collection_arrearscase c ON c.party_id = l.party_id AND c.status <> 'closed'
        WHERE NOT EXISTS (
            SELECT 1 FROM collection_casecharge cc
            WHERE cc.case_id = c.id AND cc.charge_id = l.charge_id)
        ORDER BY c.id, l.charge_id
        """,
        {"as_of": as_of},
    )


def _close_settled(estate: Estate, as_of: date, counts: dict) -> None:
    """A case closes when no charge in it is open with money outstanding."""
    from ..models import CaseCharge

    unsettled = CaseCharge.objects.filter(
        case_id=OuterRef("pk"), charge__status=Charge.Status.OPEN, charge__outstanding__gt=0
    )
    ids = list(
        ArrearsCase.objects.filter(estate=estate)
        .exclude(status=CaseStatus.CLOSED)
        .filter(~Exists(unsettled))
        .values_list("pk", flat=True)
    )
    if not ids:
        return
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        ArrearsCase.objects.filter(pk__in=part).update(
            status=CaseStatus.CLOSED, closed_on=as_of, amount=ZERO, next_action_date=None
        )
        Task.objects.filter(case_id__in=part, status=Task.Status.OPEN).update(
            status=Task.Status.CANCELLED, note="settled"
        )
        for promise in PromiseToPay.objects.filter(
            case_id__in=part, status=PromiseToPay.Status.PENDING
        ):
            promise.status = PromiseToPay.Status.KEPT
            promise.resolved_on = as_of
            promise.save(update_fields=["status", "resolved_on"])
        Hold.objects.filter(case_id__in=part, released_at__isnull=True).update(
            released_at=timezone.now()
        )
    _add(counts, "closed", len(ids))


# --- 6. escalation -------------------------------------------------------------------------
def _escalate_stale(estate: Estate, policy: DunningPolicy, as_of: date, counts: dict) -> None:
    if not policy.escalate_after_days:
        return
    cutoff = as_of - timedelta(days=policy.escalate_after_days)
    open_escalation = Escalation.objects.filter(case_id=OuterRef("pk")).exclude(
        status=Escalation.Status.RESOLVED
    )
    recent = Escalation.objects.filter(case_id=OuterRef("pk"), resolved_at__date__gt=cutoff)
    hold = Hold.objects.filter(
        party_id=OuterRef("party_id"), released_at__isnull=True, starts_on__lte=as_of
    ).exclude(expires_on__lt=as_of)
    stale = (
        ArrearsCase.objects.filter(estate=estate, amount__gt=0)
        .exclude(status__in=[CaseStatus.CLOSED, CaseStatus.LEGAL])
        .filter(
            Q(last_progress_on__lte=cutoff)
            | Q(last_progress_on__isnull=True, opened_on__lte=cutoff)
        )
        .filter(~Exists(open_escalation), ~Exists(recent), ~Exists(hold))
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    rows = [
        Escalation(
            estate=estate,
            case_id=pk,
            kind=Escalation.Kind.AUTOMATIC,
            note=f"{policy.escalate_after_days} 天无进展",
            raised_at=now,
        )
        for pk in stale.iterator(chunk_size=CHUNK)
    ]
    Escalation.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    _add(counts, "escalated", len(rows))


def _run_estate(estate: Estate, as_of: date, counts: dict) -> None:
    policy = policy_default(estate=estate)
    if not policy.is_active:
        return
    stage_list = list(policy.stages.prefetch_related("actions").order_by("number"))
    timings = counts.setdefault("timings", {})
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0) + now - clock, 3)
        clock = now

    contacts_from_outbox(estate_id=estate.pk)  # yesterday's reminders, before today's
    lap("outbox_log")
    _judge_promises(estate, as_of, stage_list, counts)
    lap("promises")
    sql = _Sql(stage_list, {"as_of": as_of})
    with connection.cursor() as cursor:
        if sql.pg:
            # sorts and hashes over a few hundred thousand rows stay in memory; the message
            # cursor is read to its end (plan it for all rows, not the first tenth: hash
            # joins, not an index probe per row); no JIT compiling for one-off statements
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
            cursor.execute("SET LOCAL jit = off")
        _temp_tables(cursor, create=True)
        _figures(cursor, estate, as_of)
        lap("figures")
        _decide(cursor, sql)
        lap("decide")
        _cases(cursor, estate, as_of, sql, counts, lap)
        _emit(cursor, estate, policy, as_of, stage_list, sql, counts, lap)
        _link_charges(cursor, as_of)
        lap("link")
        _temp_tables(cursor, create=False)
    _close_settled(estate, as_of, counts)
    lap("close")
    _escalate_stale(estate, policy, as_of, counts)
    lap("escalate")
