"""Service disputes (服务异议) and their work orders (工单).

Flow: a dispute is raised on a case by staff, or by the owner in the portal
(`dispute_raise`, source `portal`); it holds the case (status `disputed`, hold `dispute`) and
opens a work order for the department its category belongs to, with an owner and the
promised deadline (承诺时限: by department, `PROMISE_HOURS`, unless set). The department closes
the work order with what it did (`work_order_close`): the case's collector gets a task to
call the owner back. The collector records the outcome (`dispute_resolve`): it is written to
the contact log, the hold released and the case goes back to dunning. `work_orders_escalate`
(every hour) marks open work orders past their deadline and hands the case to a supervisor.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.audit.services import SYSTEM, audit_record
from wuye.core.errors import DomainError
from wuye.core.money import money
from wuye.registry.models import Party
from wuye.registry.services import require_estate, require_perm

from ..models import (
    ArrearsCase,
    CaseStatus,
    ContactLog,
    Department,
    Dispute,
    DisputeCategory,
    HoldKind,
    Reason,
    Task,
    WorkOrder,
)
from ._resolution import hold, number_for, provisional_number, set_case_status, task, user_or_none

DEPARTMENT_FOR = {
    DisputeCategory.REPAIR: Department.ENGINEERING,
    DisputeCategory.LEAK: Department.ENGINEERING,
    DisputeCategory.CLEANING: Department.CUSTOMER_SERVICE,
    DisputeCategory.SECURITY: Department.SECURITY,
    DisputeCategory.GREENING: Department.CUSTOMER_SERVICE,
    DisputeCategory.PARKING: Department.SECURITY,
    DisputeCategory.NOISE: Department.SECURITY,
    DisputeCategory.BILLING: Department.CUSTOMER_SERVICE,
    DisputeCategory.OTHER: Department.CUSTOMER_SERVICE,
}
# The promised deadline (承诺时限) a department answers within, in hours.
PROMISE_HOURS = {
    Department.ENGINEERING: 72,
    Department.CUSTOMER_SERVICE: 48,
    Department.SECURITY: 24,
}
# Who may close a department's work orders (besides supervisors).
DEPARTMENT_ROLE = {
    Department.ENGINEERING: "engineering",
    Department.CUSTOMER_SERVICE: "customer_service",
    Department.SECURITY: "security",
}


def _source(dispute: Dispute) -> str:
    return f"collection.dispute:{dispute.pk}"


@transaction.atomic
def dispute_raise(
    *,
    actor,
    party: Party,
    category: str,
    description: str,
    case: ArrearsCase | None = None,
    amount: Decimal | str | None = None,
    department: str = "",
    owner=None,
    promised_by: datetime | None = None,
    portal_request_id: int | None = None,
    now: datetime | None = None,
) -> Dispute:
    """Record a dispute, hold the case, open its work order. `actor` None: the owner, from the
    portal (`portal_request_id`; raising the same request again returns its dispute)."""
    if actor is not None:
        require_perm(actor, "collection.add_dispute")
        require_estate(actor, party.estate_id)
    if portal_request_id is not None:
        found = Dispute.objects.filter(portal_request_id=portal_request_id).first()
        if found is not None:
            return found
    if category not in DisputeCategory.values:
        raise DomainError(_("choose what the dispute is about"), field="category")
    description = (description or "").strip()
    if len(description) < 5:
        raise DomainError(_("describe the problem (at least 5 characters)"), field="description")
    if case is None:
        case = ArrearsCase.objects.filter(party=party).exclude(status=CaseStatus.CLOSED).first()
    elif case.party_id != party.pk:
        raise DomainError(_("the case belongs to another party"), field="case")
    now = now or timezone.now()
    dispute = Dispute.objects.create(
        estate_id=party.estate_id,
        party=party,
        case=case,
        category=category,
        description=description[:4000],
        amount=money(amount) if amount not in (None, "") else None,
        source=Dispute.Source.PORTAL if actor is None else Dispute.Source.STAFF,
        portal_request_id=portal_request_id,
        raised_by=user_or_none(actor),
        raised_at=now,
    )
    if case is not None:
        hold(
            case=case,
            kind=HoldKind.DISPUTE,
            reason=_("dispute #%(id)s: %(category)s")
            % {"id": dispute.pk, "category": dispute.get_category_display()},
            source=_source(dispute),
            amount=dispute.amount,
        )
        set_case_status(case, CaseStatus.DISPUTED)
        ArrearsCase.objects.filter(pk=case.pk).update(reason=Reason.DISPUTE)
    audit_record(
        actor=actor or SYSTEM,
        action="collection.dispute_raise",
        subject=dispute,
        after={"category": category, "case": case.pk if case else None, "source": dispute.source},
    )
    work_order_open(
        actor=actor,
        dispute=dispute,
        department=department or DEPARTMENT_FOR[category],
        description=description,
        owner=owner,
        promised_by=promised_by,
        now=now,
    )
    return dispute


@transaction.atomic
def work_order_open(
    *,
    actor,
    dispute: Dispute,
    department: str,
    description: str,
    owner=None,
    promised_by: datetime | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """A work order for `department`, due by `promised_by` (default: its promise hours)."""
    if actor is not None:
        require_perm(actor, "collection.add_workorder")
        require_estate(actor, dispute.estate_id)
    if department not in Department.values:
        raise DomainError(_("choose engineering, customer service or security"), field="department")
    if dispute.status != Dispute.Status.OPEN:
        raise DomainError(_("the dispute is resolved"), field="dispute")
    now = now or timezone.now()
    promised_by = promised_by or now + timedelta(hours=PROMISE_HOURS[department])
    if promised_by <= now:
        raise DomainError(_("the promised deadline is in the past"), field="promised_by")
    if owner is not None:
        profile = getattr(owner, "staff_profile", None)
        estates = set(profile.estates.values_list("pk", flat=True)) if profile else set()
        if dispute.estate_id not in estates and not owner.is_superuser:
            raise DomainError(_("the owner does not work at this estate"), field="owner")
    order = WorkOrder.objects.create(
        estate_id=dispute.estate_id,
        dispute=dispute,
        number=provisional_number(),
        department=department,
        category=dispute.category,
        description=description.strip()[:4000],
        owner=owner,
        promised_by=promised_by,
        created_by=user_or_none(actor),
    )
    order.number = number_for("GD", order)
    order.save(update_fields=["number"])
    audit_record(
        actor=actor or SYSTEM,
        action="collection.work_order_open",
        subject=order,
        after={"department": department, "promised_by": promised_by, "dispute": dispute.pk},
    )
    return order


def can_close(user, order: WorkOrder) -> bool:
    if user.has_perm("collection.change_workorder"):
        return True
    role = DEPARTMENT_ROLE[order.department]
    return order.owner_id == user.pk or user.groups.filter(name=role).exists()


@transaction.atomic
def work_order_close(
    *, actor, order: WorkOrder, resolution: str, now: datetime | None = None
) -> WorkOrder:
    """The department did the job: the collector gets a call-back task."""
    require_estate(actor, order.estate_id)
    if not can_close(actor, order):
        raise DomainError(_("only the department or a supervisor closes this work order"))
    order = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != WorkOrder.Status.OPEN:
        raise DomainError(_("the work order is closed already"), field="status")
    resolution = (resolution or "").strip()
    if not resolution:
        raise DomainError(_("say what was done"), field="resolution")
    now = now or timezone.now()
    order.status = WorkOrder.Status.CLOSED
    order.closed_at = now
    order.closed_by = user_or_none(actor)
    order.resolution = resolution[:4000]
    order.save(update_fields=["status", "closed_at", "closed_by", "resolution"])
    case = order.dispute.case
    if case is not None:
        task(
            case=case,
            kind=Task.Kind.CALL,
            due_on=timezone.localdate(now),
            note=_("Call the owner back: work order %(number)s done: %(what)s")
            % {"number": order.number, "what": resolution[:120]},
            key=f"workorder-callback:{order.pk}",
        )
    audit_record(
        actor=actor, action="collection.work_order_close", subject=order, summary=resolution[:255]
    )
    return order


@transaction.atomic
def dispute_resolve(*, actor, dispute: Dispute, outcome: str, note: str) -> Dispute:
    """The owner was called back: the outcome is logged, dunning resumes."""
    from .cases import hold_release_source
    from .contacts import contact_record

    require_perm(actor, "collection.change_dispute")
    require_estate(actor, dispute.estate_id)
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if dispute.status != Dispute.Status.OPEN:
        raise DomainError(_("the dispute is resolved already"), field="status")
    if outcome not in Dispute.Outcome.values:
        raise DomainError(_("choose the outcome"), field="outcome")
    note = (note or "").strip()
    if not note:
        raise DomainError(_("write what was agreed with the owner"), field="note")
    if dispute.work_orders.filter(status=WorkOrder.Status.OPEN).exists():
        raise DomainError(_("a work order of this dispute is still open"), field="status")
    dispute.status = Dispute.Status.RESOLVED
    dispute.outcome = outcome
    dispute.outcome_note = note[:4000]
    dispute.resolved_at = timezone.now()
    dispute.resolved_by = user_or_none(actor)
    dispute.save()
    hold_release_source(source=_source(dispute))
    if dispute.case is not None:
        set_case_status(dispute.case, CaseStatus.OPEN, only_from=[CaseStatus.DISPUTED])
    contact_record(
        actor=actor,
        party=dispute.party,
        case=dispute.case,
        channel="call",
        outcome=ContactLog.Outcome.NOTE,
        said=_("Dispute #%(id)s (%(category)s) resolved: %(outcome)s. %(note)s")
        % {
            "id": dispute.pk,
            "category": dispute.get_category_display(),
            "outcome": dispute.get_outcome_display(),
            "note": note,
        },
        reason=Reason.DISPUTE,
        inbound=True,
    )
    audit_record(
        actor=actor,
        action="collection.dispute_resolve",
        subject=dispute,
        after={"outcome": outcome, "note": note[:255]},
    )
    return dispute


def work_orders_escalate(*, now: datetime | None = None) -> int:
    """Open work orders past their promised deadline escalate once (a supervisor's queue)."""
    from .cases import escalation_raise

    now = now or timezone.now()
    count = 0
    overdue = WorkOrder.objects.filter(
        status=WorkOrder.Status.OPEN, promised_by__lt=now, escalated_at__isnull=True
    ).select_related("dispute__case")
    for order in overdue.order_by("promised_by", "id"):
        with transaction.atomic():
            locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
            if locked.escalated_at is not None:
                continue
            locked.escalated_at = now
            locked.save(update_fields=["escalated_at"])
            case = order.dispute.case
            if case is not None and case.status != CaseStatus.CLOSED:
                escalation_raise(
                    actor=SYSTEM,
                    case=case,
                    note=_("Work order %(number)s is past its promised deadline %(when)s")
                    % {"number": order.number, "when": f"{order.promised_by:%Y-%m-%d %H:%M}"},
                    automatic=True,
                )
            audit_record(actor=SYSTEM, action="collection.work_order_escalate", subject=locked)
            count += 1
    return count
