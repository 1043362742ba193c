"""The dunning run (催收批处理): daily, per estate, set-wise.

For an estate and a day `as_of`:
1. Promises: a pending promise is kept once what its case owed when it was made (the charges
   in the case by that day; months falling due later do not count against it) has fallen by
   the promised amount (the follow-up closes); one whose date has passed unkept is broken: a
   follow-up task, a broken-promise count for the priority score, and the case moves on to
   the next stage if the case qualifies for it (approval, reason).
2. Figures, streamed from the open overdue charges (due before `as_of`) ordered by party and
   due date: what each party owes net of its prepayment balance (money received and not yet
   applied; earmarked money only against its own item, then general money, oldest first),
   and the due date of the oldest charge the credit does not cover -- the age of the debt.
   A party whose credit covers everything is not chased.
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

Each estate is one transaction; the run row records counts per stage."""

import logging
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from wuye.audit.services import SYSTEM, audit_record
from wuye.billing.models import Charge, PrepaymentMovement
from wuye.registry.models import Estate, Party, Unit
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
from .outbox import Wanted, messages_queue_many
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
        .annotate(owed=Sum("charge__outstanding"))
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
                    "note": f"承诺 {promise.amount} 元 ({promise.due_on}) 未兑现",
                },
            )
            _add(counts, "promises_broken")


# --- 2. figures ----------------------------------------------------------------------------
def _credits(estate: Estate) -> dict[int, dict[int | None, Decimal]]:
    """{party: {fee item or None (general): prepayment balance > 0}}."""
    credit: dict[int, dict[int | None, Decimal]] = {}
    rows = (
        PrepaymentMovement.objects.filter(estate=estate)
        .values("party_id", "fee_item_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
        .values_list("party_id", "fee_item_id", "balance")
    )
    for party_id, item_id, balance in rows:
        credit.setdefault(party_id, {})[item_id] = balance
    return credit


class Figures:
    """One party's overdue position, net of its credit."""

    __slots__ = ("party_id", "total", "net", "oldest", "oldest_period", "units")

    def __init__(self, party_id: int):
        self.party_id = party_id
        self.total = ZERO
        self.net = ZERO
        self.oldest: date | None = None
        self.oldest_period = ""
        self.units: set[int] = set()


def net_figures(party_id: int, charges: list[tuple], credit: dict) -> Figures:
    """`charges`: (item, due date, outstanding, unit, period), oldest first. Earmarked credit
    pays its item's charges first, general credit the rest, oldest first; what stays unpaid
    is owed, and its oldest due date is the age of the debt."""
    figures = Figures(party_id)
    pools = dict(credit)
    for item_id, due, outstanding, unit_id, period in charges:
        figures.total += outstanding
        left = outstanding
        for pool in (item_id, None):  # earmarked money first, then general money
            available = pools.get(pool, ZERO)
            if available > 0 and left > 0:
                used = min(available, left)
                pools[pool] = available - used
                left -= used
        if left > 0:
            figures.net += left
            figures.units.add(unit_id)
            if figures.oldest is None:
                figures.oldest = due
                figures.oldest_period = period
    return figures


def _party_figures(estate: Estate, as_of: date) -> Iterator[Figures]:
    credit = _credits(estate)
    rows = (
        Charge.objects.filter(
            estate_id=estate.pk, status=Charge.Status.OPEN, outstanding__gt=0, due_date__lt=as_of
        )
        .order_by("party_id", "due_date", "id")
        .values_list("party_id", "fee_item_id", "due_date", "outstanding", "unit_id", "period")
    )
    current: int | None = None
    charges: list[tuple] = []
    for party_id, *rest in rows.iterator(chunk_size=CHUNK):
        if party_id != current:
            if current is not None:
                yield net_figures(current, charges, credit.get(current, {}))
            current, charges = party_id, []
        charges.append(tuple(rest))
    if current is not None:
        yield net_figures(current, charges, credit.get(current, {}))


def _chunks(items: Iterator[Figures], size: int) -> Iterator[list[Figures]]:
    chunk: list[Figures] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- 3./4. cases and actions ---------------------------------------------------------------
def target_stage(stages: list[DunningStage], days: int, case: ArrearsCase | None) -> int:
    """The last stage whose day is reached and whose conditions the case meets."""
    number = 0
    for stage in stages:
        if days < stage.min_days:
            break
        if stage.needs_approval and (case is None or case.approved_stage < stage.number):
            continue
        if stage.needs_reason and (case is None or case.reason != stage.needs_reason):
            continue
        number = stage.number
    return number


def _due_for_actions(case: ArrearsCase, stage: DunningStage, as_of: date, moved: bool) -> bool:
    if case.actions_on == as_of:
        return False
    if moved or case.actions_on is None:
        return True
    return bool(stage.repeat_days) and as_of >= case.actions_on + timedelta(days=stage.repeat_days)


def _process_chunk(
    estate: Estate,
    as_of: date,
    stages: dict[int, DunningStage],
    stage_list: list[DunningStage],
    chunk: list[Figures],
    counts: dict,
    lap: Callable[[str], None],
) -> None:
    party_ids = [f.party_id for f in chunk]
    cases = {
        c.party_id: c
        for c in ArrearsCase.objects.filter(party_id__in=party_ids).exclude(
            status=CaseStatus.CLOSED
        )
    }
    held = set(
        Hold.objects.filter(party_id__in=party_ids, released_at__isnull=True, starts_on__lte=as_of)
        .exclude(expires_on__lt=as_of)
        .values_list("party_id", flat=True)
    )
    new_cases: list[ArrearsCase] = []
    changed: dict[int, ArrearsCase] = {}  # id(case) -> case
    emit: list[tuple[ArrearsCase, Figures]] = []
    for figures in chunk:
        case = cases.get(figures.party_id)
        if figures.net <= 0:
            # Covered by prepayment: not chased. The case stays open until the charges are
            # settled (billing applies the prepayment when it runs), but owes nothing now.
            if case is not None and case.amount != ZERO:
                case.amount = ZERO
                changed[id(case)] = case
            _add(counts, "covered")
            continue
        days = (as_of - figures.oldest).days
        if case is None:
            number = target_stage(stage_list, days, None)
            case = ArrearsCase(
                estate=estate,
                party_id=figures.party_id,
                status=CaseStatus.OPEN,
                stage=stages.get(number),
                stage_number=number,
                amount=figures.net,
                oldest_due_date=figures.oldest,
                opened_on=as_of,
                stage_entered_on=as_of,
                last_run_on=as_of,
                last_progress_on=as_of,
            )
            new_cases.append(case)
            moved = number > 0
            _add(counts, "opened")
        else:
            dirty = False
            if figures.net < case.amount:
                case.last_progress_on = as_of  # a payment is progress
                dirty = True
            if case.amount != figures.net or case.oldest_due_date != figures.oldest:
                case.amount, case.oldest_due_date = figures.net, figures.oldest
                dirty = True
            moved = False
            if figures.party_id not in held:
                number = max(case.stage_number, target_stage(stage_list, days, case))
                if number != case.stage_number:
                    case.stage_number, case.stage = number, stages.get(number)
                    case.stage_entered_on = as_of
                    moved = dirty = True
            if dirty:
                case.last_run_on = as_of
                changed[id(case)] = case
        if figures.party_id in held:
            _add(counts, "held")
            continue
        stage = stages.get(case.stage_number)
        if stage is not None and _due_for_actions(case, stage, as_of, moved):
            case.actions_on = as_of
            emit.append((case, figures))
            if case.pk:
                changed[id(case)] = case
    lap("decide")
    if new_cases:
        ArrearsCase.objects.bulk_create(new_cases, batch_size=2000)
    lap("cases_insert")
    if emit:
        _emit(estate, as_of, stages, emit, counts, lap)
    _update_cases(
        list(changed.values()),
        [
            "amount",
            "oldest_due_date",
            "stage_number",
            "stage_id",
            "stage_entered_on",
            "actions_on",
            "last_run_on",
            "last_progress_on",
        ],
    )
    lap("cases_update")


def _update_cases(cases: list[ArrearsCase], fields: list[str]) -> None:
    """UPDATE ... WHERE id = %s for each case, as one executemany (pipelined by psycopg)."""
    if not cases:
        return
    table = ArrearsCase._meta.db_table
    columns = [ArrearsCase._meta.get_field(f.removesuffix("_id")).column for f in fields]
    sets = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in columns)
    sql = f"UPDATE {table} SET {sets} WHERE id = %s"  # noqa: S608 (names from the model)
    params = [[getattr(case, f) for f in fields] + [case.pk] for case in cases]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _emit(estate, as_of, stages, emit, counts, lap) -> None:
    """The stage actions of the cases due for them: messages and tasks, with dedupe keys."""
    parties = Party.objects.select_related("estate").in_bulk([c.party_id for c, _f in emit])
    unit_ids = {u for _c, f in emit for u in f.units}
    unit_numbers = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "number"))
    wanted: list[Wanted] = []
    tasks: list[Task] = []
    by_stage = counts["by_stage"]
    for case, figures in emit:
        stage = stages[case.stage_number]
        units = "、".join(sorted(unit_numbers.get(u, "") for u in figures.units)) or "-"
        context = {
            "unit": units,
            "period": figures.oldest_period,
            "amount": figures.net,
            "due_date": figures.oldest.isoformat(),
        }
        for action in stage.actions.all():
            key = f"dunning:{case.pk}:{stage.number}:{as_of.isoformat()}:{action.pk}"
            emitted = False
            if action.kind in (ActionKind.MESSAGE, ActionKind.FORMAL_DEMAND) and (
                action.template_code
            ):
                wanted.append(
                    Wanted(
                        party=parties[case.party_id],
                        purpose="formal_demand"
                        if action.kind == ActionKind.FORMAL_DEMAND
                        else "reminder",
                        template_code=action.template_code,
                        channel=action.channel,
                        context=context,
                        dedupe_key=key,
                    )
                )
                emitted = True
            if action.kind != ActionKind.MESSAGE and (
                action.task_role or action.kind != ActionKind.FORMAL_DEMAND
            ):
                role = action.task_role or stage.assignee_role
                tasks.append(
                    Task(
                        estate=estate,
                        case=case,
                        kind=action.kind,
                        role=role,
                        assignee_id=case.assignee_id if role == "collector" else None,
                        due_on=as_of,
                        stage_number=stage.number,
                        dedupe_key=key + ":task",
                    )
                )
                emitted = True
            if emitted:
                by_stage[str(stage.number)] = by_stage.get(str(stage.number), 0) + 1
                counts["emitted"] += 1
    lap("emit_prepare")
    messages = messages_queue_many(estate=estate, wanted=wanted)
    _add(counts, "messages", len(messages))
    lap("messages")
    if tasks:
        Task.objects.bulk_create(tasks, batch_size=2000, ignore_conflicts=True)
        _add(counts, "tasks", len(tasks))
    lap("tasks")


# --- 5. charges in cases, closing ----------------------------------------------------------
def _link_charges(estate: Estate, as_of: date) -> None:
    """Every open overdue charge of a party with an open case joins that case."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO collection_casecharge (case_id, charge_id, added_on)
            SELECT c.id, ch.id, %(as_of)s
            FROM billing_charge ch
            JOIN collection_arrearscase c ON c.party_id = ch.party_id AND c.status <> 'closed'
            WHERE ch.estate_id = %(estate)s AND ch.status = 'open' AND ch.outstanding > 0
              AND ch.due_date < %(as_of)s
              AND NOT EXISTS (
                SELECT 1 FROM collection_casecharge cc
                WHERE cc.case_id = c.id AND cc.charge_id = ch.id)
            """,
            {"as_of": as_of, "estate": estate.pk},
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
    stages = {s.number: s for s in stage_list}
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
    _link_charges(estate, as_of)
    lap("link")
    for chunk in _chunks(_party_figures(estate, as_of), CHUNK):
        lap("figures")
        _process_chunk(estate, as_of, stages, stage_list, chunk, counts, lap)
    _link_charges(estate, as_of)
    lap("link")
    _close_settled(estate, as_of, counts)
    lap("close")
    _escalate_stale(estate, policy, as_of, counts)
    lap("escalate")
