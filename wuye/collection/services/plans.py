"""Installment plans (分期协议): draft, print, sign, approve, track, break or complete.

Flow: a collector drafts the plan on a case (the charges it covers, an equal or a custom
schedule), prints the agreement (`plan_agreement_pdf`), uploads the signed scan (hashed,
`plan_sign`); a supervisor approves it (`plan_approve`), which holds the case (status
`installment`). Every day `plans_check` applies what was paid towards the covered charges
since the draft to the instalments in order: all kept -> completed; one missed (past its date
plus the grace days) -> broken, the hold released, the case reopened with a follow-up task.

Decisions: one live (draft or active) plan per case; what counts as paid towards the plan is
how far the covered charges' outstanding fell since drafting (payments, and waivers too: both
lower what the owner owes); the approval needs the signed scan -- an unsigned plan proves
nothing in court and restarts no limitation clock.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.audit.services import SYSTEM, audit_record
from wuye.billing.models import Charge
from wuye.core.errors import DomainError
from wuye.core.money import ZERO, money
from wuye.registry.services import require_estate, require_perm

from .. import instalments as calc
from ..agreements import AgreementContent, agreement_pdf
from ..models import (
    ArrearsCase,
    CaseStatus,
    HoldKind,
    InstallmentPlan,
    Instalment,
    PlanCharge,
    Task,
)
from ._resolution import (
    MAX_UPLOAD_BYTES,
    hold,
    number_for,
    provisional_number,
    set_case_status,
    sha256,
    task,
    user_or_none,
)

LIVE = [InstallmentPlan.Status.DRAFT, InstallmentPlan.Status.ACTIVE]


def _source(plan: InstallmentPlan) -> str:
    return f"collection.installmentplan:{plan.pk}"


def _covered_charges(case: ArrearsCase, charge_ids) -> list[Charge]:
    qs = Charge.objects.filter(party_id=case.party_id, status=Charge.Status.OPEN, outstanding__gt=0)
    if charge_ids:
        ids = {int(i) for i in charge_ids}
        qs = qs.filter(pk__in=ids)
        if qs.count() != len(ids):
            raise DomainError(_("a charge is not open or not the party's own"), field="charge_ids")
    else:
        qs = qs.filter(due_date__lt=timezone.localdate())
    charges = list(qs.select_related("fee_item").order_by("period", "id"))
    if not charges:
        raise DomainError(_("the party owes nothing a plan could cover"), field="charge_ids")
    return charges


@transaction.atomic
def plan_draft(
    *,
    actor,
    case: ArrearsCase,
    kind: str,
    charge_ids: list[int] | None = None,
    count: int | None = None,
    first_due: date | None = None,
    every_months: int = 1,
    schedule: list[tuple[date, Decimal]] | None = None,
    grace_days: int = 5,
    note: str = "",
) -> InstallmentPlan:
    """Draft a plan on `case` covering `charge_ids` (default: everything overdue)."""
    require_perm(actor, "collection.add_installmentplan")
    require_estate(actor, case.estate_id)
    case = ArrearsCase.objects.select_for_update().get(pk=case.pk)
    if case.status == CaseStatus.CLOSED:
        raise DomainError(_("the case is closed"), field="case")
    if InstallmentPlan.objects.filter(case=case, status__in=LIVE).exists():
        raise DomainError(
            _("the case already has a plan in draft or in force; cancel it first"), field="case"
        )
    if kind not in InstallmentPlan.Kind.values:
        raise DomainError(_("choose equal instalments or custom dates"), field="kind")
    if not 0 <= grace_days <= 30:
        raise DomainError(_("grace days are 0 to 30"), field="grace_days")
    charges = _covered_charges(case, charge_ids)
    total = sum((c.outstanding for c in charges), ZERO)
    today = timezone.localdate()
    if kind == InstallmentPlan.Kind.EQUAL:
        if count is None or first_due is None:
            raise DomainError(_("give the number of instalments and the first date"), field="count")
        if first_due < today:
            raise DomainError(_("the first instalment is in the past"), field="first_due")
        rows = calc.equal_schedule(
            total=total, count=count, first_due=first_due, every_months=every_months
        )
    else:
        rows = calc.check_custom_schedule(
            total=total,
            rows=[(d, money(a)) for d, a in (schedule or [])],
            not_before=today,
        )
    plan = InstallmentPlan.objects.create(
        estate_id=case.estate_id,
        case=case,
        party_id=case.party_id,
        number=provisional_number(),
        kind=kind,
        total=total,
        grace_days=grace_days,
        note=note.strip(),
        drafted_by=user_or_none(actor),
    )
    plan.number = number_for("FQ", plan)
    plan.save(update_fields=["number"])
    PlanCharge.objects.bulk_create(
        [PlanCharge(plan=plan, charge=c, owed_at_start=c.outstanding) for c in charges]
    )
    Instalment.objects.bulk_create(
        [
            Instalment(plan=plan, number=i, due_on=d, amount=a)
            for i, (d, a) in enumerate(rows, start=1)
        ]
    )
    audit_record(
        actor=actor,
        action="collection.plan_draft",
        subject=plan,
        after={
            "case": case.pk,
            "total": total,
            "schedule": [[str(d), str(a)] for d, a in rows],
            "charges": [c.pk for c in charges],
        },
    )
    return plan


def plan_agreement_content(plan: InstallmentPlan) -> AgreementContent:
    from django.conf import settings

    estate, party = plan.estate, plan.party
    covered: dict[tuple[str, str], Decimal] = {}
    units = set()
    for pc in plan.plan_charges.select_related("charge__fee_item", "charge__unit"):
        key = (pc.charge.period, pc.charge.fee_item.name)
        covered[key] = covered.get(key, ZERO) + pc.owed_at_start
        units.add(pc.charge.unit.number)
    return AgreementContent(
        company=estate.company_name or settings.WUYE["COMPANY_NAME"],
        estate_name=estate.name,
        estate_address=estate.address,
        hotline=estate.hotline,
        number=plan.number,
        party_name=party.name,
        party_id_number=getattr(party, "id_number", "") or "",
        party_mobile=party.mobile,
        payment_ref=party.payment_ref,
        units=sorted(units),
        covered=[(p, item, amount) for (p, item), amount in sorted(covered.items())],
        schedule=[(i.due_on, i.amount) for i in plan.instalments.all()],
        grace_days=plan.grace_days,
        drafted_on=timezone.localdate(plan.drafted_at),
    )


def plan_agreement_pdf(plan: InstallmentPlan) -> bytes:
    """The agreement for signature (printed from the plan page)."""
    return agreement_pdf(plan_agreement_content(plan))


@transaction.atomic
def plan_sign(
    *, actor, plan: InstallmentPlan, content: bytes, name: str, signed_on: date
) -> InstallmentPlan:
    """Upload the signed agreement (a scan or photo); its SHA-256 is kept with it."""
    require_perm(actor, "collection.change_installmentplan")
    require_estate(actor, plan.estate_id)
    plan = InstallmentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != InstallmentPlan.Status.DRAFT:
        raise DomainError(_("only a draft plan takes the signed agreement"), field="status")
    if not content:
        raise DomainError(_("the file is empty"), field="file")
    if len(content) > MAX_UPLOAD_BYTES:
        raise DomainError(_("the file is larger than 20 MB"), field="file")
    if signed_on > timezone.localdate():
        raise DomainError(_("the signing date is in the future"), field="signed_on")
    plan.signed_sha256 = sha256(content)
    plan.signed_on = signed_on
    plan.signed_uploaded_by = user_or_none(actor)
    plan.signed_scan.save(f"{plan.number}-{name}"[-150:], ContentFile(content), save=False)
    plan.save(update_fields=["signed_scan", "signed_sha256", "signed_on", "signed_uploaded_by"])
    audit_record(
        actor=actor,
        action="collection.plan_sign",
        subject=plan,
        after={"file": name, "sha256": plan.signed_sha256, "signed_on": signed_on},
    )
    return plan


@transaction.atomic
def plan_approve(*, actor, plan: InstallmentPlan, note: str = "") -> InstallmentPlan:
    """A supervisor puts the signed plan in force: the case is held while it is kept."""
    require_perm(actor, "collection.approve_installmentplan")
    require_estate(actor, plan.estate_id)
    plan = InstallmentPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.can_become(InstallmentPlan.Status.ACTIVE):
        raise DomainError(_("only a draft plan can be approved"), field="status")
    if not plan.signed_sha256:
        raise DomainError(
            _("upload the agreement signed by the owner before approving"), field="signed_scan"
        )
    plan.status = InstallmentPlan.Status.ACTIVE
    plan.approved_by = user_or_none(actor)
    plan.approved_at = timezone.now()
    plan.save(update_fields=["status", "approved_by", "approved_at"])
    last = plan.instalments.order_by("-due_on").first()
    hold(
        case=plan.case,
        kind=HoldKind.INSTALLMENT,
        reason=_("installment plan %(number)s") % {"number": plan.number},
        source=_source(plan),
        expires_on=last.due_on + timedelta(days=plan.grace_days) if last else None,
        amount=plan.total,
    )
    set_case_status(plan.case, CaseStatus.INSTALLMENT)
    audit_record(actor=actor, action="collection.plan_approve", subject=plan, summary=note[:255])
    return plan


@transaction.atomic
def plan_cancel(*, actor, plan: InstallmentPlan, reason: str) -> InstallmentPlan:
    require_perm(actor, "collection.change_installmentplan")
    require_estate(actor, plan.estate_id)
    plan = InstallmentPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.can_become(InstallmentPlan.Status.CANCELLED):
        raise DomainError(_("this plan has ended already"), field="status")
    if not reason.strip():
        raise DomainError(_("say why the plan is cancelled"), field="reason")
    was_active = plan.status == InstallmentPlan.Status.ACTIVE
    _end(plan, InstallmentPlan.Status.CANCELLED, reason.strip())
    if was_active:
        set_case_status(plan.case, CaseStatus.OPEN, only_from=[CaseStatus.INSTALLMENT])
    audit_record(actor=actor, action="collection.plan_cancel", subject=plan, summary=reason[:255])
    return plan


def _end(plan: InstallmentPlan, status: str, reason: str) -> None:
    from .cases import hold_release_source

    plan.status = status
    plan.ended_on = timezone.localdate()
    plan.end_reason = reason[:255]
    plan.save(update_fields=["status", "ended_on", "end_reason"])
    hold_release_source(source=_source(plan))


def plan_paid(plan: InstallmentPlan) -> Decimal:
    """What the covered charges have fallen by since the plan was drafted."""
    rows = plan.plan_charges.aggregate(start=Sum("owed_at_start"), now=Sum("charge__outstanding"))
    return money((rows["start"] or ZERO) - (rows["now"] or ZERO))


@transaction.atomic
def plan_check(*, plan: InstallmentPlan, today: date) -> InstallmentPlan:
    """Judge an active plan on `today`: instalments kept / missed; complete or break it."""
    plan = InstallmentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != InstallmentPlan.Status.ACTIVE:
        return plan
    rows = list(plan.instalments.all())
    states = calc.plan_states(
        schedule=[(i.due_on, i.amount) for i in rows],
        paid=plan_paid(plan),
        today=today,
        grace_days=plan.grace_days,
    )
    for row, state in zip(rows, states, strict=True):
        if (row.status, row.covered) != (state.state, state.covered):
            row.status, row.covered = state.state, state.covered
            row.save(update_fields=["status", "covered"])
    missed = [s for s in states if s.state == "missed"]
    if missed:
        first = missed[0]
        reason = _("instalment %(number)s of %(amount)s due %(date)s was missed") % {
            "number": first.number,
            "amount": first.amount,
            "date": first.due_on,
        }
        _end(plan, InstallmentPlan.Status.BROKEN, reason)
        set_case_status(plan.case, CaseStatus.OPEN, only_from=[CaseStatus.INSTALLMENT])
        task(
            case=plan.case,
            kind=Task.Kind.FOLLOW_UP,
            due_on=today,
            note=_("Plan %(number)s broken: %(reason)s")
            % {"number": plan.number, "reason": reason},
            key=f"plan-broken:{plan.pk}",
        )
        audit_record(actor=SYSTEM, action="collection.plan_broken", subject=plan, summary=reason)
    elif all(s.state == "kept" for s in states):
        _end(plan, InstallmentPlan.Status.COMPLETED, _("every instalment paid"))
        set_case_status(plan.case, CaseStatus.OPEN, only_from=[CaseStatus.INSTALLMENT])
        audit_record(actor=SYSTEM, action="collection.plan_completed", subject=plan)
    return plan


def plans_check(*, today: date, estate_id: int | None = None) -> dict[str, int]:
    """Judge every active plan (daily job). Returns counts by resulting status."""
    plans = InstallmentPlan.objects.filter(status=InstallmentPlan.Status.ACTIVE)
    if estate_id:
        plans = plans.filter(estate_id=estate_id)
    counts: dict[str, int] = {}
    for plan in plans.order_by("id"):
        status = plan_check(plan=plan, today=today).status
        counts[status] = counts.get(status, 0) + 1
    return counts
