"""Arrears cases: holds, reasons, promises to pay, escalations, assignment, approval.

Decisions:
- A hold pauses the run for its party's case; a manual hold needs a reason and an expiry (a
  forgotten hold must not shelter a debt for ever). Holds other issues create (a dispute, a
  plan, a legal case) name their record in `source` and release it when it ends.
- The reason decides the status: dispute -> disputed, hardship -> hardship; malicious needs
  the `mark_malicious` permission (a supervisor's) and makes the case eligible for stage 4.
- A promise holds the case until its date (a `promise` hold expiring then). The run judges it
  the day after: kept if what the case owes fell by the promised amount, else broken -- a
  follow-up task, a broken-promise count for the priority score, and the case moves on.
- One open escalation per case; the supervisor takes it, then resolves it with a note."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.audit.services import SYSTEM, audit_record
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.money import money
from wuye.registry.services import require_estate, require_perm

from ..models import (
    ArrearsCase,
    CaseStatus,
    ContactLog,
    Escalation,
    Hold,
    HoldKind,
    PromiseToPay,
    Reason,
    Task,
)

REASON_STATUS = {
    Reason.DISPUTE: CaseStatus.DISPUTED,
    Reason.HARDSHIP: CaseStatus.HARDSHIP,
}


def _lock(case: ArrearsCase) -> ArrearsCase:
    return ArrearsCase.objects.select_for_update().get(pk=case.pk)


def _open(case: ArrearsCase) -> None:
    if case.status == CaseStatus.CLOSED:
        raise DomainError(_("the case is closed"), field="case")


def active_holds(party_ids, day: date):
    """Holds in force on `day` for these parties."""
    return (
        Hold.objects.filter(party_id__in=party_ids, released_at__isnull=True, starts_on__lte=day)
        .exclude(expires_on__lt=day)
        .order_by("party_id", "id")
    )


@transaction.atomic
def hold_place(
    *,
    actor,
    case: ArrearsCase,
    kind: str,
    reason: str = "",
    expires_on: date | None = None,
    amount: Decimal | None = None,
    source: str = "",
    starts_on: date | None = None,
    today: date | None = None,
) -> Hold:
    """Pause dunning of a case. Idempotent per `source`."""
    actor = actor or SYSTEM
    require_perm(actor, "collection.add_hold")
    require_estate(actor, case.estate_id)
    if kind not in HoldKind.values:
        raise DomainError(_("unknown kind of hold"), field="kind")
    today = today or timezone.localdate()
    if kind == HoldKind.MANUAL:
        if not reason.strip():
            raise DomainError(_("a manual hold needs a reason"), field="reason")
        if expires_on is None:
            raise DomainError(_("a manual hold needs an expiry date"), field="expires_on")
    if expires_on is not None and expires_on < (starts_on or today):
        raise DomainError(_("the expiry date is in the past"), field="expires_on")
    if source:
        existing = Hold.objects.filter(source=source).first()
        if existing is not None:
            return existing
    hold = Hold.objects.create(
        estate_id=case.estate_id,
        party_id=case.party_id,
        case=case,
        kind=kind,
        reason=reason.strip(),
        amount=money(amount) if amount is not None else None,
        starts_on=starts_on or today,
        expires_on=expires_on,
        source=source,
        created_by=actor if actor.pk else None,
    )
    audit_record(
        actor=actor,
        action="collection.hold_place",
        subject=hold,
        after={"kind": kind, "reason": hold.reason, "expires_on": expires_on, "case": case.pk},
    )
    return hold


@transaction.atomic
def hold_release(*, actor, hold: Hold) -> Hold:
    actor = actor or SYSTEM
    require_perm(actor, "collection.change_hold")
    require_estate(actor, hold.estate_id)
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is None:
        hold.released_at = timezone.now()
        hold.released_by = actor if actor.pk else None
        hold.save(update_fields=["released_at", "released_by"])
        audit_record(actor=actor, action="collection.hold_release", subject=hold)
    return hold


def hold_release_source(*, source: str) -> None:
    """Release the hold another record placed (the dispute was resolved, the plan ended)."""
    for hold in Hold.objects.filter(source=source, released_at__isnull=True):
        hold_release(actor=SYSTEM, hold=hold)


@transaction.atomic
def case_set_reason(*, actor, case: ArrearsCase, reason: str, note: str = "") -> ArrearsCase:
    """Record why the party does not pay; the reason decides the status and the next step."""
    require_perm(actor, "collection.change_arrearscase")
    require_estate(actor, case.estate_id)
    if reason not in Reason.values:
        raise DomainError(_("unknown reason %(reason)s") % {"reason": repr(reason)}, field="reason")
    if reason == Reason.MALICIOUS and not actor.has_perm("collection.mark_malicious"):
        raise PermissionDenied(
            _("only a supervisor may mark non-payment as malicious"), field="reason"
        )
    case = _lock(case)
    _open(case)
    before = {"reason": case.reason, "status": case.status}
    case.reason = reason
    if case.status in (CaseStatus.OPEN, CaseStatus.DISPUTED, CaseStatus.HARDSHIP):
        case.status = REASON_STATUS.get(reason, CaseStatus.OPEN)
    case.last_progress_on = timezone.localdate()
    case.save(update_fields=["reason", "status", "last_progress_on", "updated_at"])
    audit_record(
        actor=actor,
        action="collection.case_reason",
        subject=case,
        summary=note[:255],
        before=before,
        after={"reason": case.reason, "status": case.status},
    )
    return case


@transaction.atomic
def case_assign(*, actor, case: ArrearsCase, assignee) -> ArrearsCase:
    require_perm(actor, "collection.change_arrearscase")
    require_estate(actor, case.estate_id)
    if assignee is not None:
        require_estate(assignee, case.estate_id)
    case = _lock(case)
    before = {"assignee": case.assignee_id}
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    Task.objects.filter(case=case, status=Task.Status.OPEN, role="collector").update(
        assignee=assignee
    )
    audit_record(
        actor=actor,
        action="collection.case_assign",
        subject=case,
        before=before,
        after={"assignee": case.assignee_id},
    )
    return case


@transaction.atomic
def case_approve_stage(*, actor, case: ArrearsCase, stage_number: int, note: str) -> ArrearsCase:
    """A supervisor lets the case enter a stage that needs approval (legal action)."""
    require_perm(actor, "collection.approve_stage")
    require_estate(actor, case.estate_id)
    if not note.strip():
        raise DomainError(_("say why (the approval is part of the evidence)"), field="note")
    case = _lock(case)
    _open(case)
    before = {"approved_stage": case.approved_stage}
    case.approved_stage = max(case.approved_stage, stage_number)
    case.save(update_fields=["approved_stage", "updated_at"])
    audit_record(
        actor=actor,
        action="collection.stage_approve",
        subject=case,
        summary=note[:255],
        before=before,
        after={"approved_stage": case.approved_stage},
    )
    return case


@transaction.atomic
def promise_record(
    *,
    actor,
    case: ArrearsCase,
    amount: Decimal,
    due_on: date,
    contact: ContactLog | None = None,
    today: date | None = None,
) -> PromiseToPay:
    """承诺缴费: the party promised `amount` by `due_on`. Holds the case until then."""
    require_perm(actor, "collection.add_promisetopay")
    require_estate(actor, case.estate_id)
    amount = money(amount)
    today = today or timezone.localdate()
    if amount <= 0:
        raise DomainError(_("the promised amount must be more than zero"), field="amount")
    if due_on < today:
        raise DomainError(_("the promised date is in the past"), field="due_on")
    if due_on > today + timedelta(days=90):
        raise DomainError(
            _("a promise is for at most 90 days; agree an installment plan instead"),
            field="due_on",
        )
    case = _lock(case)
    _open(case)
    from .run import case_owed

    promise = PromiseToPay.objects.create(
        estate_id=case.estate_id,
        case=case,
        amount=amount,
        due_on=due_on,
        owed_at_promise=case_owed([case.pk])[case.pk],
        contact=contact,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    Hold.objects.create(
        estate_id=case.estate_id,
        party_id=case.party_id,
        case=case,
        kind=HoldKind.PROMISE,
        reason=_("promised %(amount)s by %(date)s") % {"amount": amount, "date": due_on},
        amount=amount,
        starts_on=today,
        expires_on=due_on,
        source=f"collection.promisetopay:{promise.pk}",
    )
    if case.status == CaseStatus.OPEN:
        case.status = CaseStatus.PROMISED
    case.last_progress_on = today
    case.save(update_fields=["status", "last_progress_on", "updated_at"])
    audit_record(
        actor=actor,
        action="collection.promise_record",
        subject=promise,
        after={"amount": amount, "due_on": due_on, "case": case.pk},
    )
    return promise


@transaction.atomic
def escalation_raise(*, actor, case: ArrearsCase, note: str, automatic: bool = False) -> Escalation:
    """Hand a case to a supervisor. Idempotent: an open escalation is returned as it is."""
    actor = actor or SYSTEM
    if not automatic:
        require_perm(actor, "collection.add_escalation")
        require_estate(actor, case.estate_id)
        if not note.strip():
            raise DomainError(_("write a note for the supervisor"), field="note")
    case = _lock(case)
    _open(case)
    existing = case.escalations.exclude(status=Escalation.Status.RESOLVED).first()
    if existing is not None:
        return existing
    escalation = Escalation.objects.create(
        estate_id=case.estate_id,
        case=case,
        kind=Escalation.Kind.AUTOMATIC if automatic else Escalation.Kind.MANUAL,
        note=note.strip(),
        raised_by=actor if actor.pk else None,
        raised_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="collection.escalation_raise",
        subject=escalation,
        after={"kind": escalation.kind, "case": case.pk},
    )
    return escalation


@transaction.atomic
def escalation_take(*, actor, escalation: Escalation) -> Escalation:
    require_perm(actor, "collection.work_escalations")
    require_estate(actor, escalation.estate_id)
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status != Escalation.Status.OPEN:
        raise DomainError(_("the escalation has already been taken"))
    escalation.status = Escalation.Status.TAKEN
    escalation.taken_by = actor
    escalation.taken_at = timezone.now()
    escalation.save(update_fields=["status", "taken_by", "taken_at"])
    ArrearsCase.objects.filter(pk=escalation.case_id).update(assignee=actor)
    audit_record(actor=actor, action="collection.escalation_take", subject=escalation)
    return escalation


@transaction.atomic
def escalation_resolve(*, actor, escalation: Escalation, resolution: str) -> Escalation:
    require_perm(actor, "collection.work_escalations")
    require_estate(actor, escalation.estate_id)
    if not resolution.strip():
        raise DomainError(_("say how it was resolved"), field="resolution")
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status == Escalation.Status.RESOLVED:
        raise DomainError(_("the escalation is already resolved"))
    escalation.status = Escalation.Status.RESOLVED
    escalation.resolved_at = timezone.now()
    escalation.resolution = resolution.strip()
    if escalation.taken_by_id is None:
        escalation.taken_by = actor
        escalation.taken_at = escalation.resolved_at
    escalation.save()
    ArrearsCase.objects.filter(pk=escalation.case_id).update(last_progress_on=timezone.localdate())
    audit_record(
        actor=actor,
        action="collection.escalation_resolve",
        subject=escalation,
        after={"resolution": escalation.resolution},
    )
    return escalation
