"""Staff pages of the resolution paths (issue 15): a case's ways out (plan, dispute, demand,
court) with its limitation warning; lists and pages of plans, disputes, work orders, demands
and legal cases; the periods whose limitation ends soon. Views parse and authorise, then call
one service (`services.plans`, `.disputes`, `.demands`, `.legal`)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.core.normalize import as_date
from wuye.core.params import query_id, query_int
from wuye.registry.selectors import estates_for, get_scoped

from . import resolution_selectors as sel
from .limitation_selectors import periods_ending_within
from .models import (
    ContactChannel,
    Department,
    Dispute,
    DisputeCategory,
    FormalDemand,
    InstallmentPlan,
    LegalCase,
    Reason,
    WorkOrder,
)
from .services import demands, disputes, legal, plans
from .services.contacts import contact_record


def _date(value, field: str) -> date | None:
    if not value:
        return None
    parsed = as_date(value)
    if parsed is None:
        raise DomainError(_("%(value)s is not a date (YYYY-MM-DD)") % {"value": value}, field=field)
    return parsed


def _upload(request, name: str) -> tuple[bytes, str]:
    f = request.FILES.get(name)
    if f is None:
        raise DomainError(_("choose a file to upload"), field=name)
    return f.read(), f.name


def _fail(request, exc: DomainError) -> None:
    messages.error(request, exc.message)


def _page(request, qs):
    return Paginator(qs, 50).get_page(request.GET.get("page"))


# --- the case's ways out ---------------------------------------------------------------------


@login_required
@permission_required("collection.view_arrearscase", raise_exception=True)
def case_resolution(request, case_id: int):
    case = get_scoped(sel.cases_for(request.user), request.user, pk=case_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            target = _case_action(request, case, action)
        except DomainError as exc:
            _fail(request, exc)
        else:
            return redirect(target or request.path)
    warning = sel.case_limitation_warning(case)
    return render(
        request,
        "collection/resolution/case.html",
        {
            "case": case,
            "warning": warning,
            "plans": case.plans.all(),
            "disputes": case.disputes.prefetch_related("work_orders"),
            "demands": case.demands.all(),
            "legal_cases": case.legal_cases.all(),
            "stage_rows": _stage_rows(legal.earlier_stages(case)),
            "categories": DisputeCategory.choices,
            "departments": Department.choices,
            "reasons": Reason.choices,
            "kinds": LegalCase.Kind.choices,
            "deliveries": FormalDemand.Delivery.choices,
            "today": timezone.localdate(),
        },
    )


def _case_action(request, case, action: str) -> str | None:
    p = request.POST
    user = request.user
    if action == "call":
        contact_record(
            actor=user,
            party=case.party,
            case=case,
            channel=ContactChannel.CALL,
            outcome=p.get("outcome") or "reached",
            said=p.get("said", ""),
            response=p.get("response", ""),
            reason=p.get("reason", ""),
        )
        messages.success(request, _("The call is in the contact log."))
        return None
    if action == "plan":
        kind = p.get("kind", "equal")
        schedule = None
        if kind == "custom":
            schedule = []
            for line in p.get("schedule", "").splitlines():
                if not line.strip():
                    continue
                try:
                    day, amount = line.replace("，", ",").split(",")
                    schedule.append((_date(day.strip(), "schedule"), Decimal(amount.strip())))
                except (ValueError, InvalidOperation) as exc:
                    raise DomainError(
                        _("each line is a date and an amount: 2027-01-10, 200.00"),
                        field="schedule",
                    ) from exc
        plan = plans.plan_draft(
            actor=user,
            case=case,
            kind=kind,
            count=int(p.get("count") or 0) or None,
            first_due=_date(p.get("first_due"), "first_due"),
            schedule=schedule,
            grace_days=int(p.get("grace_days") or 5),
            note=p.get("note", ""),
        )
        messages.success(request, _("Plan %(number)s drafted.") % {"number": plan.number})
        return plan_url(plan)
    if action == "dispute":
        dispute = disputes.dispute_raise(
            actor=user,
            party=case.party,
            case=case,
            category=p.get("category", ""),
            description=p.get("description", ""),
            amount=p.get("amount") or None,
            department=p.get("department", ""),
        )
        order = dispute.work_orders.first()
        messages.success(
            request,
            _("Dispute recorded; work order %(number)s sent to %(department)s.")
            % {"number": order.number, "department": order.get_department_display()},
        )
        return None
    if action == "demand":
        demand = demands.demand_issue(
            actor=user,
            case=case,
            delivery=p.get("delivery", ""),
            deadline=_date(p.get("deadline"), "deadline"),
        )
        messages.success(request, _("Formal demand %(number)s issued.") % {"number": demand.number})
        return f"/collection/demands/{demand.pk}/"
    if action == "legal":
        proposal = legal.legal_propose(
            actor=user, case=case, kind=p.get("kind", ""), reason=p.get("reason", "")
        )
        return f"/collection/legal/{proposal.pk}/"
    raise DomainError(_("unknown action"))


def _stage_rows(stages: dict) -> list[tuple[str, str, dict | None]]:
    return [(n, legal.STAGE_LABELS[n], stages.get(n)) for n in ("1", "2", "3")]


def plan_url(plan) -> str:
    return f"/collection/plans/{plan.pk}/"


# --- plans -----------------------------------------------------------------------------------


@login_required
@permission_required("collection.view_installmentplan", raise_exception=True)
def plan_list(request):
    status = request.GET.get("status", "")
    return render(
        request,
        "collection/resolution/plan_list.html",
        {
            "page": _page(request, sel.plans_for(request.user, status=status)),
            "status": status,
            "statuses": InstallmentPlan.Status.choices,
        },
    )


@login_required
@permission_required("collection.view_installmentplan", raise_exception=True)
def plan_detail(request, pk: int):
    plan = get_scoped(sel.plans_for(request.user), request.user, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "sign":
                content, name = _upload(request, "file")
                plans.plan_sign(
                    actor=request.user,
                    plan=plan,
                    content=content,
                    name=name,
                    signed_on=_date(request.POST.get("signed_on"), "signed_on")
                    or timezone.localdate(),
                )
                messages.success(request, _("The signed agreement is on file."))
            elif action == "approve":
                plans.plan_approve(actor=request.user, plan=plan, note=request.POST.get("note", ""))
                messages.success(request, _("Plan approved: the case is on hold while it is kept."))
            elif action == "cancel":
                plans.plan_cancel(
                    actor=request.user, plan=plan, reason=request.POST.get("reason", "")
                )
            else:
                raise DomainError(_("unknown action"))
        except DomainError as exc:
            _fail(request, exc)
        return redirect(plan_url(plan))
    return render(
        request,
        "collection/resolution/plan.html",
        {
            "plan": plan,
            "instalments": plan.instalments.all(),
            "charges": plan.plan_charges.select_related("charge__fee_item", "charge__unit"),
            "paid": plans.plan_paid(plan),
        },
    )


@login_required
@permission_required("collection.view_installmentplan", raise_exception=True)
def plan_agreement(request, pk: int):
    plan = get_scoped(sel.plans_for(request.user), request.user, pk=pk)
    response = HttpResponse(plans.plan_agreement_pdf(plan), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{plan.number}.pdf"'
    return response


@login_required
@permission_required("collection.view_installmentplan", raise_exception=True)
def plan_signed(request, pk: int):
    plan = get_scoped(sel.plans_for(request.user), request.user, pk=pk)
    if not plan.signed_scan:
        raise Http404(_("no signed agreement on file"))
    return FileResponse(plan.signed_scan.open("rb"), filename=plan.signed_scan.name.split("/")[-1])


# --- disputes and work orders ----------------------------------------------------------------


@login_required
@permission_required("collection.view_dispute", raise_exception=True)
def dispute_list(request):
    status = request.GET.get("status", "")
    return render(
        request,
        "collection/resolution/dispute_list.html",
        {
            "page": _page(
                request,
                sel.disputes_for(request.user, status=status).prefetch_related("work_orders"),
            ),
            "status": status,
            "statuses": Dispute.Status.choices,
            "report": sel.dispute_report(request.user),
        },
    )


@login_required
@permission_required("collection.view_dispute", raise_exception=True)
def dispute_detail(request, pk: int):
    dispute = get_scoped(sel.disputes_for(request.user), request.user, pk=pk)
    if request.method == "POST":
        try:
            disputes.dispute_resolve(
                actor=request.user,
                dispute=dispute,
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("Outcome logged; dunning resumes."))
        except DomainError as exc:
            _fail(request, exc)
        return redirect(f"/collection/disputes/{dispute.pk}/")
    return render(
        request,
        "collection/resolution/dispute.html",
        {
            "dispute": dispute,
            "orders": dispute.work_orders.select_related("owner"),
            "outcomes": Dispute.Outcome.choices,
        },
    )


@login_required
@permission_required("collection.view_workorder", raise_exception=True)
def work_order_list(request):
    status = request.GET.get("status", "open")
    department = request.GET.get("department", "")
    return render(
        request,
        "collection/resolution/work_order_list.html",
        {
            "page": _page(
                request, sel.work_orders_for(request.user, status=status, department=department)
            ),
            "status": status,
            "department": department,
            "departments": Department.choices,
            "statuses": WorkOrder.Status.choices,
            "now": timezone.now(),
        },
    )


@login_required
@permission_required("collection.view_workorder", raise_exception=True)
def work_order_detail(request, pk: int):
    order = get_scoped(sel.work_orders_for(request.user), request.user, pk=pk)
    if request.method == "POST":
        try:
            disputes.work_order_close(
                actor=request.user, order=order, resolution=request.POST.get("resolution", "")
            )
            messages.success(request, _("Work order closed; the collector will call the owner."))
        except DomainError as exc:
            _fail(request, exc)
        return redirect(f"/collection/work-orders/{order.pk}/")
    return render(
        request,
        "collection/resolution/work_order.html",
        {
            "order": order,
            "can_close": disputes.can_close(request.user, order),
            "overdue": order.is_overdue(timezone.now()),
        },
    )


# --- formal demands --------------------------------------------------------------------------


@login_required
@permission_required("collection.view_formaldemand", raise_exception=True)
def demand_list(request):
    status = request.GET.get("status", "")
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("case") if i.isdigit()]
        cases = list(sel.cases_for(request.user).filter(pk__in=ids))
        try:
            batch = demands.demands_issue_batch(
                actor=request.user,
                cases=cases,
                delivery=request.POST.get("delivery", ""),
                deadline=_date(request.POST.get("deadline"), "deadline"),
            )
        except DomainError as exc:
            _fail(request, exc)
            return redirect("/collection/demands/")
        messages.success(
            request, _("%(count)s demands issued in one PDF.") % {"count": batch.count}
        )
        return redirect(f"/collection/demands/batch/{batch.pk}.pdf")
    candidates = (
        sel.cases_for(request.user)
        .exclude(status__in=["closed", "legal"])
        .filter(stage_number__gte=3)
        .order_by("-amount")[:200]
    )
    return render(
        request,
        "collection/resolution/demand_list.html",
        {
            "page": _page(request, sel.demands_for(request.user, status=status)),
            "status": status,
            "statuses": FormalDemand.Status.choices,
            "candidates": candidates,
            "deliveries": FormalDemand.Delivery.choices,
        },
    )


@login_required
@permission_required("collection.view_formaldemand", raise_exception=True)
def demand_detail(request, pk: int):
    demand = get_scoped(sel.demands_for(request.user), request.user, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "post":
                demands.demand_post(
                    actor=request.user,
                    demand=demand,
                    tracking_number=request.POST.get("tracking_number", ""),
                )
            elif action == "deliver":
                content, name = _upload(request, "proof")
                demands.demand_deliver(
                    actor=request.user,
                    demand=demand,
                    proof=content,
                    proof_name=name,
                    delivered_on=_date(request.POST.get("delivered_on"), "delivered_on")
                    or timezone.localdate(),
                    received_by=request.POST.get("received_by", ""),
                )
                messages.success(request, _("Delivered: the proof is on file with its hash."))
            else:
                raise DomainError(_("unknown action"))
        except DomainError as exc:
            _fail(request, exc)
        return redirect(f"/collection/demands/{demand.pk}/")
    return render(
        request,
        "collection/resolution/demand.html",
        {
            "demand": demand,
            "proof_ok": demands.demand_proof_verify(demand) if demand.proof else None,
        },
    )


@login_required
@permission_required("collection.view_formaldemand", raise_exception=True)
def demand_file(request, pk: int, what: str):
    demand = get_scoped(sel.demands_for(request.user), request.user, pk=pk)
    field = demand.pdf if what == "pdf" else demand.proof
    if not field:
        raise Http404(_("no file"))
    name = f"{demand.number}.pdf" if what == "pdf" else demand.proof_name
    return FileResponse(field.open("rb"), filename=name)


@login_required
@permission_required("collection.view_formaldemand", raise_exception=True)
def demand_batch_file(request, pk: int):
    from wuye.registry.selectors import scope

    from .models import DemandBatch

    batch = get_scoped(scope(DemandBatch.objects.all(), request.user), request.user, pk=pk)
    return FileResponse(batch.file.open("rb"), filename=f"demands-{batch.pk}.pdf")


# --- legal cases -----------------------------------------------------------------------------


@login_required
@permission_required("collection.view_legalcase", raise_exception=True)
def legal_list(request):
    status = request.GET.get("status", "")
    return render(
        request,
        "collection/resolution/legal_list.html",
        {
            "page": _page(request, sel.legal_cases_for(request.user, status=status)),
            "status": status,
            "statuses": LegalCase.Status.choices,
        },
    )


@login_required
@permission_required("collection.view_legalcase", raise_exception=True)
def legal_detail(request, pk: int):
    item = get_scoped(sel.legal_cases_for(request.user), request.user, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        p = request.POST
        try:
            if action == "approve":
                legal.legal_approve(actor=request.user, legal=item, note=p.get("note", ""))
            elif action == "reject":
                legal.legal_reject(actor=request.user, legal=item, note=p.get("note", ""))
            elif action == "update":
                fields = {name: p.get(name, "") for name in legal.TRACKED if name in p}
                for name in ("filed_on", "hearing_on", "judgment_on", "closed_on"):
                    if name in fields:
                        fields[name] = _date(fields[name], name)
                for name in ("judgment_amount", "costs"):
                    if name in fields and fields[name] == "":
                        fields[name] = None if name == "judgment_amount" else "0"
                legal.legal_update(actor=request.user, legal=item, **fields)
            elif action == "evidence":
                legal.evidence_build(actor=request.user, legal=item)
                messages.success(request, _("The evidence file is ready."))
            else:
                raise DomainError(_("unknown action"))
        except DomainError as exc:
            _fail(request, exc)
        return redirect(f"/collection/legal/{item.pk}/")
    current = legal.earlier_stages(item.case)
    return render(
        request,
        "collection/resolution/legal.html",
        {
            "item": item,
            "stages": _stage_rows(current),
            "missing": legal.missing_stages(current),
        },
    )


@login_required
@permission_required("collection.view_legalcase", raise_exception=True)
def legal_evidence(request, pk: int):
    item = get_scoped(sel.legal_cases_for(request.user), request.user, pk=pk)
    if not item.evidence:
        raise Http404(_("build the evidence file first"))
    return FileResponse(item.evidence.open("rb"), filename=f"evidence-{item.pk}.zip")


# --- limitation ------------------------------------------------------------------------------


@login_required
@permission_required("collection.view_arrearscase", raise_exception=True)
def limitation_list(request):
    estates = list(estates_for(request.user))
    wanted = query_id(request.GET, "estate")
    estate = next((e for e in estates if e.pk == wanted), None)
    estate = estate or (estates[0] if estates else None)
    barred = request.GET.get("barred") == "1"
    days = query_int(request.GET, "days", 90, maximum=3650)
    rows = (
        periods_ending_within(estate, today=timezone.localdate(), days=days, barred=barred)
        if estate
        else []
    )
    return render(
        request,
        "collection/resolution/limitation.html",
        {
            "rows": rows,
            "estates": estates,
            "estate": estate,
            "barred": barred,
            "days": days,
            "reveal": request.user.has_perm("registry.view_pii"),
        },
    )
