"""Reads of the collector's workbench (工作台): my tasks for today and overdue in priority
order with what a collector needs beside each (units, arrears, owner notes shared by other
departments, last contacts), the call panel of one case (facts, the call script for its stage
and reason, promises, holds, escalation, the next step its reason calls for), and the
supervisor's escalation queue. Scoped to the user's estates (ADR 0003).

The order is `selectors.priority` (README, "The priority score"); the score is computed in
Python for the tasks due, which for one person's day is a few hundred rows at most."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import Charge
from wuye.registry.models import OwnerNote, UnitParty
from wuye.registry.selectors import scope

from .models import (
    ArrearsCase,
    CallScript,
    ContactLog,
    DunningStage,
    Escalation,
    Hold,
    PromiseToPay,
    Reason,
    Task,
)
from .selectors import Priority, priority, tasks_for

# How many tasks the workbench ranks at most (a day's work is far fewer).
RANK_LIMIT = 500
LAST_CONTACTS = 3


@dataclass
class TaskRow:
    task: Task
    case: ArrearsCase
    priority: Priority
    overdue: bool
    units: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    contacts: list = field(default_factory=list)


def my_tasks(user, *, today: date) -> list[TaskRow]:
    """My open tasks due today or earlier, highest priority score first (then the oldest
    due, then the task number). Without units, notes and contacts: see `with_details`."""
    qs = (
        tasks_for(user, mine=True)
        .filter(due_on__lte=today)
        .exclude(case__status="closed")
        .select_related("case__party", "case__stage", "case__assignee")
        .order_by("due_on", "id")[:RANK_LIMIT]
    )
    rows = [
        TaskRow(
            task=t,
            case=t.case,
            priority=priority(t.case, as_of=today),
            overdue=t.due_on < today,
        )
        for t in qs
    ]
    rows.sort(key=lambda r: (-r.priority.score, r.task.due_on, r.task.pk))
    return rows


def with_details(user, rows: list[TaskRow], *, today: date) -> list[TaskRow]:
    """Fill a page of rows with the owners' units, shared notes and last contacts."""
    party_ids = {r.case.party_id for r in rows}
    units = units_of(party_ids, today=today)
    notes = notes_of(user, party_ids)
    contacts: dict[int, list] = {}
    for entry in (
        scope(ContactLog.objects.filter(party_id__in=party_ids), user)
        .select_related("staff")
        .order_by("party_id", "-at", "-id")
    ):
        got = contacts.setdefault(entry.party_id, [])
        if len(got) < LAST_CONTACTS:
            got.append(entry)
    for row in rows:
        row.units = units.get(row.case.party_id, [])
        row.notes = notes.get(row.case.party_id, [])
        row.contacts = contacts.get(row.case.party_id, [])
    return rows


def units_of(party_ids, *, today: date) -> dict[int, list]:
    """The units each party owns or rents today (as `UnitParty` spans say)."""
    out: dict[int, list] = {}
    relations = (
        UnitParty.objects.filter(party_id__in=party_ids, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("unit")
        .order_by("party_id", "unit__number")
    )
    for rel in relations:
        out.setdefault(rel.party_id, []).append(rel.unit)
    return out


def notes_of(user, party_ids) -> dict[int, list]:
    """Owner notes other departments shared that the user's roles may read (the rule of
    `registry.selectors.notes_visible_to`, for many parties at once)."""
    roles = set(user.groups.values_list("name", flat=True))
    sees_all = user.has_perm("registry.access_all_estates") and user.has_perm(
        "audit.view_auditevent"
    )
    out: dict[int, list] = {}
    qs = scope(OwnerNote.objects.filter(party_id__in=party_ids), user).select_related("author")
    for note in qs.order_by("-created_at", "-id"):
        if sees_all or not note.visible_to or roles & set(note.visible_to):
            out.setdefault(note.party_id, []).append(note)
    return out


# --- the call panel --------------------------------------------------------------------------


@dataclass
class Script:
    """What the collector says, in order: empathy first, the facts, what the fee pays for,
    the options. `stored` is the estate's own script (else the built-in default)."""

    title: str
    empathy: str
    facts: str
    purpose: str
    options: str
    stored: CallScript | None = None


# Built-in scripts, used where the estate has not written its own (the estate's scripts are
# edited on the policy pages and always win). Keyed by reason; "" is the general one.
_GENERAL = {
    "title": _("General call"),
    "empathy": _(
        "Greet the owner by name and say who you are. Ask whether now is a good time. "
        "Thank them for living here and listen before you speak of money."
    ),
    "facts": _(
        "State the facts calmly: the amount, the periods and the date by which it should be "
        "paid. Offer to send the bill and the payment link."
    ),
    "purpose": _(
        "Explain what the fee pays for: cleaning, security, green areas, lift and pump "
        "maintenance, the public areas' electricity. Offer the published fee standard."
    ),
    "options": _(
        "Offer the ways out: pay online from the link, pay at the window, a promise to pay by "
        "a date, an installment plan for real hardship, or a service dispute if something is "
        "wrong. Never threaten; never mention water, power or access."
    ),
}
_BY_REASON = {
    Reason.FORGOT: {
        "title": _("Owner forgot"),
        "empathy": _("Many owners simply forget; say so. Keep it short and friendly."),
        "options": _(
            "Send the payment link now and ask when they can pay; record the promise (amount "
            "and date)."
        ),
    },
    Reason.DISPUTE: {
        "title": _("Service dispute"),
        "empathy": _(
            "Thank the owner for telling you; apologise for the trouble. Ask what exactly is "
            "wrong, since when, and where."
        ),
        "options": _(
            "Raise a service dispute: a work order goes to the right department with a "
            "promised deadline and dunning pauses on that amount. Promise to call back with "
            "the result. Ask whether the undisputed part can be paid now."
        ),
    },
    Reason.HARDSHIP: {
        "title": _("Real hardship"),
        "empathy": _(
            "Listen. Acknowledge the situation without judging. Do not push for the full "
            "amount on this call."
        ),
        "options": _(
            "Offer an installment plan with a written agreement (分期缴费协议); agree the "
            "amounts and dates the owner can keep. Mention that a signed plan stops the "
            "reminders."
        ),
    },
    Reason.MALICIOUS: {
        "title": _("Refuses without a reason"),
        "empathy": _("Stay polite and factual; do not argue. Record what the owner says."),
        "options": _(
            "Explain the next steps as facts, not threats: a formal demand (催缴通知书), then "
            "a legal review by the supervisor. Leave the door open to a plan or a dispute."
        ),
    },
    Reason.UNREACHABLE: {
        "title": _("Could not reach the owner"),
        "empathy": _("If someone else answers, do not discuss the debt; only ask for a call back."),
        "options": _(
            "Try another time or channel: book a visit, or send a letter. Contact only the "
            "owner or designated payer, never a neighbour or employer."
        ),
    },
}


def script_for(case: ArrearsCase) -> Script:
    """The estate's most specific active script (stage and reason, then reason, then stage,
    then general), else the built-in one for the case's reason."""
    candidates = CallScript.objects.filter(estate_id=case.estate_id, is_active=True).filter(
        Q(stage_number=case.stage_number) | Q(stage_number__isnull=True),
        Q(reason=case.reason) | Q(reason=""),
    )

    def rank(s: CallScript) -> tuple:
        return (s.reason == case.reason and bool(case.reason), s.stage_number is not None, s.pk)

    stored = max(candidates, key=rank, default=None)
    if stored is not None:
        return Script(
            title=stored.title,
            empathy=stored.empathy,
            facts=stored.facts,
            purpose=stored.purpose,
            options=stored.options,
            stored=stored,
        )
    text = {**_GENERAL, **_BY_REASON.get(case.reason, {})}
    return Script(**{k: str(v) for k, v in text.items()})


@dataclass
class Facts:
    """The facts of the call, from the books: what is overdue (per charge and in total), how
    long, and what happens next if nothing is paid (the next stage and its date)."""

    charges: list
    total: Decimal
    net: Decimal
    periods: list[str]
    oldest_due: date | None
    days_overdue: int
    next_stage: DunningStage | None
    next_stage_on: date | None


def case_facts(case: ArrearsCase, *, today: date) -> Facts:
    charges = list(
        Charge.objects.filter(
            party_id=case.party_id,
            status=Charge.Status.OPEN,
            outstanding__gt=0,
            due_date__lt=today,
        )
        .select_related("fee_item", "unit")
        .order_by("due_date", "id")
    )
    total = sum((c.outstanding for c in charges), Decimal("0.00"))
    oldest = case.oldest_due_date or (charges[0].due_date if charges else None)
    days = (today - oldest).days if oldest else 0
    next_stage, next_on = None, None
    if case.stage_id:
        next_stage = (
            DunningStage.objects.filter(
                policy_id=case.stage.policy_id, number__gt=case.stage_number
            )
            .order_by("number")
            .first()
        )
    else:
        next_stage = (
            DunningStage.objects.filter(policy__estate_id=case.estate_id).order_by("number").first()
        )
    if next_stage is not None and oldest is not None:
        next_on = max(oldest + timedelta(days=next_stage.min_days), today)
    return Facts(
        charges=charges,
        total=total,
        net=case.amount,
        periods=sorted({c.period for c in charges}),
        oldest_due=oldest,
        days_overdue=days,
        next_stage=next_stage,
        next_stage_on=next_on,
    )


# The next step each reason calls for (DESIGN.md §5). `link` names a page of the case.
NEXT_STEPS = {
    Reason.FORGOT: (
        _("Remind: the payment link goes with every reminder; record a promise to pay."),
        "",
    ),
    Reason.DISPUTE: (
        _(
            "Raise a service dispute: a work order to the right department with a promised "
            "deadline; dunning pauses on that amount."
        ),
        "dispute",
    ),
    Reason.HARDSHIP: (
        _("Draft an installment plan with a written agreement."),
        "plan",
    ),
    Reason.MALICIOUS: (
        _("Formal demand (stage 3), then a legal review by the supervisor (stage 4)."),
        "demand",
    ),
    Reason.UNREACHABLE: (
        _("Try another time or channel: book a visit or send a letter."),
        "visit",
    ),
    Reason.OTHER: (_("Write down what was agreed and when to call back."), ""),
}


def next_step(reason: str) -> tuple[str, str] | None:
    step = NEXT_STEPS.get(reason)
    return (str(step[0]), step[1]) if step else None


def case_promises(case: ArrearsCase) -> QuerySet[PromiseToPay]:
    return case.promises.select_related("created_by").order_by("-created_at", "-id")


def case_holds(case: ArrearsCase, *, today: date) -> list[Hold]:
    return [h for h in case.holds.order_by("-starts_on", "-id") if h.is_active_on(today)]


def case_open_escalation(case: ArrearsCase) -> Escalation | None:
    return case.escalations.exclude(status=Escalation.Status.RESOLVED).first()


def case_contacts(case: ArrearsCase, *, limit: int = 20) -> list[ContactLog]:
    return list(
        ContactLog.objects.filter(party_id=case.party_id)
        .select_related("staff")
        .prefetch_related("attachments")
        .order_by("-at", "-id")[:limit]
    )


def case_open_tasks(case: ArrearsCase) -> QuerySet[Task]:
    return case.tasks.filter(status=Task.Status.OPEN).order_by("due_on", "id")


# --- the supervisor's escalation queue -------------------------------------------------------

QUEUE_STATUSES = ("open", "taken")


def escalations_for(user, *, status: str = "") -> QuerySet[Escalation]:
    """Escalations of the user's estates: by a collector and automatic (no progress for the
    policy's days, raised by the dunning run) alike. Default: not yet resolved, oldest first;
    "all": every one."""
    qs = scope(
        Escalation.objects.select_related(
            "case__party", "case__assignee", "case__stage", "raised_by", "taken_by", "estate"
        ),
        user,
    )
    if status in ("open", "taken", "resolved"):
        qs = qs.filter(status=status)
    elif status != "all":
        qs = qs.filter(status__in=QUEUE_STATUSES)
    if status == "resolved":
        return qs.order_by("-resolved_at", "-id")
    return qs.order_by("raised_at", "id")


def escalation_counts(user) -> dict[str, int]:
    qs = scope(Escalation.objects.all(), user)
    out = {"open": 0, "taken": 0}
    for row in qs.filter(status__in=QUEUE_STATUSES).values("status").annotate(n=Count("id")):
        out[row["status"]] = row["n"]
    return out
