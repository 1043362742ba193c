"""The collector's workbench: logging a call or visit in one go, tasks, and the owners'
requests from the portal.

`contact_log_case` is what the call panel posts: the contact (into the hash chain, with its
attachments' SHA-256), the reason (which decides the case's status and the next step), an
optional promise to pay, the task it completes and an optional call-back task -- one
transaction, so a refused part (malicious without a supervisor, a promise in the past) leaves
nothing half-written. A call the contact policy refuses now (quiet hours, the weekly cap, an
opt-out) is recorded as suppressed and nothing else happens: no reason, no promise, and the
task stays open.

`owner_request_received` is the portal's hook (portal sits above collection in the layers,
so it calls down directly): a hardship or dispute request opens the owner's arrears case if
the owner has overdue charges and no open case, logs the request in the contact log, and for
hardship records the reason, pauses dunning for 14 days (a manual hold, so a human calls
before any further reminder) and gives the collector a call-back task. A dispute request then
goes through `disputes.dispute_raise`, which holds the case and opens the work order."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.audit.services import SYSTEM, audit_record
from wuye.billing.models import Charge
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.money import MoneySum
from wuye.registry.models import Party
from wuye.registry.services import require_estate, require_perm

from ..models import (
    ArrearsCase,
    CaseCharge,
    CaseStatus,
    ContactChannel,
    ContactLog,
    HoldKind,
    PromiseToPay,
    Reason,
    Task,
)
from ._resolution import hold, set_case_status
from ._resolution import task as task_once
from .cases import case_set_reason, promise_record
from .contacts import Attachment, contact_record

# What a collector logs from the workbench (the outbox logs its own messages).
WORKBENCH_CHANNELS = [
    ContactChannel.CALL,
    ContactChannel.VISIT,
    ContactChannel.IN_PERSON,
    ContactChannel.WECHAT,
]
WORKBENCH_OUTCOMES = [
    ContactLog.Outcome.REACHED,
    ContactLog.Outcome.NO_ANSWER,
    ContactLog.Outcome.WRONG_NUMBER,
    ContactLog.Outcome.PROMISED,
    ContactLog.Outcome.REFUSED,
    ContactLog.Outcome.PAID,
]
HARDSHIP_HOLD_DAYS = 14


@dataclass
class Logged:
    contact: ContactLog
    promise: PromiseToPay | None = None
    task_done: Task | None = None
    call_back: Task | None = None

    @property
    def suppressed(self) -> bool:
        return self.contact.outcome == ContactLog.Outcome.SUPPRESSED


@transaction.atomic
def contact_log_case(
    *,
    actor,
    case: ArrearsCase,
    channel: str,
    outcome: str,
    said: str = "",
    response: str = "",
    reason: str = "",
    promise_amount: Decimal | str | None = None,
    promise_due: date | None = None,
    attachments: list[Attachment] = (),
    task: Task | None = None,
    complete_task: bool = True,
    call_back_on: date | None = None,
    today: date | None = None,
) -> Logged:
    """Log a call or visit on a case from the call panel (module docstring)."""
    require_perm(actor, "collection.add_contactlog")
    require_estate(actor, case.estate_id)
    today = today or timezone.localdate()
    if channel not in WORKBENCH_CHANNELS:
        raise DomainError(_("choose how you contacted the owner"), field="channel")
    if outcome not in WORKBENCH_OUTCOMES:
        raise DomainError(_("choose the outcome"), field="outcome")
    if reason and reason not in Reason.values:
        raise DomainError(_("unknown reason %(reason)s") % {"reason": repr(reason)}, field="reason")
    if reason == Reason.MALICIOUS and not actor.has_perm("collection.mark_malicious"):
        raise PermissionDenied(
            _(
                "only a supervisor may mark non-payment as malicious: choose another reason, "
                "or escalate the case to your supervisor"
            ),
            field="reason",
        )
    if case.status == CaseStatus.CLOSED:
        raise DomainError(_("the case is closed"), field="case")
    if task is not None:
        if task.case_id != case.pk:
            raise DomainError(_("the task belongs to another case"), field="task")
        if task.status != Task.Status.OPEN:
            raise DomainError(_("the task is already done or cancelled"), field="task")
    wants_promise = promise_amount not in (None, "") or promise_due is not None
    if wants_promise and (promise_amount in (None, "") or promise_due is None):
        raise DomainError(_("a promise needs both an amount and a date"), field="promise_amount")
    if call_back_on is not None and call_back_on < today:
        raise DomainError(_("the call-back date is in the past"), field="call_back_on")
    if wants_promise and outcome == ContactLog.Outcome.REACHED:
        outcome = ContactLog.Outcome.PROMISED
    entry = contact_record(
        actor=actor,
        party=case.party,
        case=case,
        channel=channel,
        outcome=outcome,
        said=said,
        response=response,
        reason=reason,
        attachments=list(attachments),
    )
    logged = Logged(contact=entry)
    if logged.suppressed:
        return logged
    if reason:
        case = case_set_reason(actor=actor, case=case, reason=reason, note=said)
    if wants_promise:
        logged.promise = promise_record(
            actor=actor,
            case=case,
            amount=promise_amount,
            due_on=promise_due,
            contact=entry,
            today=today,
        )
    if task is not None and complete_task:
        logged.task_done = task_complete(actor=actor, task=task, note=entry.get_outcome_display())
    if call_back_on is not None:
        logged.call_back = task_schedule(
            actor=actor,
            case=case,
            kind=Task.Kind.VISIT if channel == ContactChannel.VISIT else Task.Kind.CALL,
            due_on=call_back_on,
            note=_("call back (agreed on %(date)s)") % {"date": today.isoformat()},
            today=today,
        )
    return logged


@transaction.atomic
def task_complete(*, actor, task: Task, note: str = "") -> Task:
    """Mark a task done (by whom, when, with a short note)."""
    require_perm(actor, "collection.change_task")
    require_estate(actor, task.estate_id)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status != Task.Status.OPEN:
        raise DomainError(_("the task is already done or cancelled"), field="task")
    task.status = Task.Status.DONE
    task.done_at = timezone.now()
    task.done_by = actor if getattr(actor, "pk", None) else None
    if note:
        task.note = (f"{task.note} · {note}" if task.note else note)[:255]
    task.save(update_fields=["status", "done_at", "done_by", "note"])
    audit_record(actor=actor, action="collection.task_complete", subject=task, summary=note[:255])
    return task


@transaction.atomic
def task_schedule(
    *, actor, case: ArrearsCase, kind: str, due_on: date, note: str = "", today: date | None = None
) -> Task:
    """A call back or a booked visit for the case's collector (the actor when unassigned)."""
    require_perm(actor, "collection.add_task")
    require_estate(actor, case.estate_id)
    today = today or timezone.localdate()
    if kind not in (Task.Kind.CALL, Task.Kind.VISIT, Task.Kind.FOLLOW_UP):
        raise DomainError(_("a collector schedules calls, visits and follow-ups"), field="kind")
    if due_on < today:
        raise DomainError(_("the date is in the past"), field="due_on")
    if case.status == CaseStatus.CLOSED:
        raise DomainError(_("the case is closed"), field="case")
    task = Task.objects.create(
        estate_id=case.estate_id,
        case=case,
        kind=kind,
        role="collector",
        assignee=case.assignee or (actor if getattr(actor, "pk", None) else None),
        due_on=due_on,
        stage_number=case.stage_number,
        note=note[:255],
    )
    audit_record(
        actor=actor,
        action="collection.task_schedule",
        subject=task,
        after={"kind": kind, "due_on": due_on, "case": case.pk},
    )
    return task


# --- the owners' requests from the portal ----------------------------------------------------


def case_for_party(*, party: Party, today: date) -> ArrearsCase | None:
    """The party's open case; else a new one (stage 0) if the party has overdue charges, with
    those charges in it; else None. The next dunning run nets prepayments and sets the stage."""
    case = (
        ArrearsCase.objects.select_for_update()
        .filter(party=party)
        .exclude(status=CaseStatus.CLOSED)
        .first()
    )
    if case is not None:
        return case
    overdue = Charge.objects.filter(
        party=party, status=Charge.Status.OPEN, outstanding__gt=0, due_date__lt=today
    )
    figures = overdue.aggregate(total=MoneySum("outstanding"), oldest=Min("due_date"))
    if not figures["total"]:
        return None
    case = ArrearsCase.objects.create(
        estate_id=party.estate_id,
        party=party,
        status=CaseStatus.OPEN,
        amount=figures["total"],
        oldest_due_date=figures["oldest"],
        opened_on=today,
        last_progress_on=today,
    )
    CaseCharge.objects.bulk_create(
        [
            CaseCharge(case=case, charge_id=pk, added_on=today)
            for pk in overdue.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    audit_record(
        actor=SYSTEM,
        action="collection.case_open",
        subject=case,
        after={"amount": case.amount, "source": "portal"},
    )
    return case


@transaction.atomic
def owner_request_received(
    *, party: Party, reason: str, request_id: int, text: str, today: date | None = None
) -> ArrearsCase | None:
    """The portal's hook for a hardship or dispute request (module docstring). Idempotent per
    request. Returns the case, or None when the owner owes nothing overdue."""
    if reason not in (Reason.HARDSHIP, Reason.DISPUTE):
        raise DomainError(_("unknown reason %(reason)s") % {"reason": repr(reason)}, field="reason")
    today = today or timezone.localdate()
    source = f"portal.ownerrequest:{request_id}"
    case = case_for_party(party=party, today=today)
    if case is None:
        return None
    marker = _("Owner's request #%(id)s from the portal") % {"id": request_id}
    if ContactLog.objects.filter(party=party, channel=ContactChannel.APP, said__startswith=marker):
        return case
    contact_record(
        actor=SYSTEM,
        party=party,
        case=case,
        channel=ContactChannel.APP,
        outcome=ContactLog.Outcome.NOTE,
        said=f"{marker} ({Reason(reason).label}): {text}"[:4000],
        reason=reason,
        inbound=True,
    )
    if reason == Reason.HARDSHIP:
        if case.reason != Reason.MALICIOUS:  # a supervisor's judgement: the collector reviews
            ArrearsCase.objects.filter(pk=case.pk).update(reason=Reason.HARDSHIP)
            set_case_status(case, CaseStatus.HARDSHIP, only_from=(CaseStatus.OPEN,))
        hold(
            case=case,
            kind=HoldKind.MANUAL,
            reason=_("hardship request from the owners' portal: call the owner first"),
            source=source,
            expires_on=today + timedelta(days=HARDSHIP_HOLD_DAYS),
        )
        task_once(
            case=case,
            kind=Task.Kind.CALL,
            due_on=today,
            note=_("hardship request from the portal: call back and offer a plan"),
            key=source,
        )
    case.refresh_from_db()
    return case
