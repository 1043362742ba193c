"""Staff pages of billing: runs (new -> preview -> post -> progress -> done), charges, the
waiver queue, statements with their PDF, payment notices. Thin: parse, call, render."""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.registry.models import Party
from wuye.registry.selectors import estates_for, get_scoped, scope

from . import documents, selectors, services, tasks
from .models import BillingRun, Charge, Waiver
from .periods import Period


def _perm(perm: str):
    def wrap(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return wrap


def _page(request, qs, size: int = 50):
    return Paginator(qs, size).get_page(request.GET.get("page"))


class RunForm(forms.Form):
    estate = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Estate"))
    period = forms.CharField(
        label=gettext_lazy("Period"), max_length=7, help_text=gettext_lazy("YYYY-MM")
    )
    as_of = forms.DateField(
        label=gettext_lazy("Run date"),
        required=False,
        help_text=gettext_lazy("Items whose bill date is later wait; empty means today."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].queryset = estates_for(user)
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select" if hasattr(field, "queryset") else "form-control"
            )

    def clean_period(self):
        try:
            return str(Period.parse(self.cleaned_data["period"]))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


@_perm("billing.view_billingrun")
def run_list(request):
    runs = selectors.runs_for(request.user)
    return render(request, "billing/run_list.html", {"page": _page(request, runs)})


@_perm("billing.add_billingrun")
def run_new(request):
    form = RunForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.billing_run_create(
                actor=request.user,
                estate=form.cleaned_data["estate"],
                period=form.cleaned_data["period"],
                as_of=form.cleaned_data.get("as_of"),
            )
            services.billing_run_preview(run=run, actor=request.user)
            return redirect("billing:run_detail", pk=run.pk)
        except DomainError as exc:
            form.add_error("period" if exc.field == "period" else None, exc.message)
    return render(request, "billing/run_new.html", {"form": form})


def _run(request, pk: int) -> BillingRun:
    return get_scoped(selectors.runs_for(request.user), request.user, "estate_id", pk=pk)


@_perm("billing.view_billingrun")
def run_detail(request, pk: int):
    run = _run(request, pk)
    template = "billing/_run_status.html" if request.htmx else "billing/run_detail.html"
    return render(request, template, {"run": run})


@require_POST
@_perm("billing.add_billingrun")
def run_preview(request, pk: int):
    run = _run(request, pk)
    try:
        services.billing_run_preview(run=run, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:run_detail", pk=run.pk)


@require_POST
@_perm("billing.add_billingrun")
def run_post(request, pk: int):
    run = _run(request, pk)
    if run.preview.get("refused"):
        messages.error(request, "; ".join(run.preview["refused"]))
        return redirect("billing:run_detail", pk=run.pk)
    BillingRun.objects.filter(pk=run.pk).update(started_by=request.user)
    tasks.run_billing.enqueue(run.pk)
    messages.info(request, _("The run has started."))
    return redirect("billing:run_detail", pk=run.pk)


@require_POST
@_perm("billing.cancel_billingrun")
def run_cancel(request, pk: int):
    run = _run(request, pk)
    try:
        services.billing_run_cancel(
            run=run, actor=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("The run is cancelled and its entries reversed."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:run_detail", pk=run.pk)


@_perm("billing.view_charge")
def charge_list(request):
    def number(name):
        value = request.GET.get(name, "")
        return int(value) if value.isdigit() else None

    charges = selectors.charges_for(
        request.user,
        estate_id=number("estate"),
        unit_id=number("unit"),
        party_id=number("party"),
        run_id=number("run"),
        period=request.GET.get("period", ""),
        status=request.GET.get("status", ""),
    ).order_by("-period_start", "unit__number", "id")
    return render(
        request,
        "billing/charge_list.html",
        {"page": _page(request, charges), "statuses": Charge.Status.choices},
    )


@_perm("billing.view_waiver")
def waiver_list(request):
    status = request.GET.get("status", Waiver.Status.REQUESTED)
    waivers = selectors.waivers_for(request.user, status=status)
    return render(request, "billing/waiver_list.html", {"page": _page(request, waivers)})


@require_POST
@_perm("billing.add_waiver")
def waiver_request(request, charge_pk: int):
    charge = get_scoped(Charge.objects.all(), request.user, pk=charge_pk)
    try:
        services.waiver_request(
            actor=request.user,
            charge=charge,
            amount=request.POST.get("amount", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("Waiver requested."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(f"{request.POST.get('next') or '/billing/waivers/'}")


@require_POST
@_perm("billing.approve_waiver")
def waiver_decide(request, pk: int):
    waiver = get_scoped(Waiver.objects.all(), request.user, pk=pk)
    try:
        if request.POST.get("decision") == "approve":
            services.waiver_approve(actor=request.user, waiver=waiver)
            messages.success(request, _("Waiver approved."))
        else:
            services.waiver_reject(
                actor=request.user, waiver=waiver, note=request.POST.get("note", "")
            )
            messages.success(request, _("Waiver rejected."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:waiver_list")


def _party(request, pk: int) -> Party:
    return get_scoped(
        scope(Party.objects.select_related("estate"), request.user), request.user, pk=pk
    )


@_perm("billing.view_statement")
def statement(request, party_pk: int):
    party = _party(request, party_pk)
    return render(
        request,
        "billing/statement.html",
        {"party": party, "statement": selectors.party_statement(party)},
    )


@_perm("billing.view_statement")
def statement_pdf(request, party_pk: int):
    party = _party(request, party_pk)
    response = HttpResponse(documents.statement_pdf(party), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="statement-{party.payment_ref}.pdf"'
    return response


@_perm("billing.view_statement")
def notice_pdf(request, party_pk: int, period: str):
    party = _party(request, party_pk)
    try:
        content = documents.payment_notice_pdf(party, period)
    except DomainError as exc:
        return HttpResponse(exc.message, status=400)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{party.payment_ref}-{period}.pdf"'
    return response


@_perm("billing.view_charge")
def late_fees(request):
    """Late fees raised, and (finance) assessing them for an estate on a day."""
    if request.method == "POST":
        if not request.user.has_perm("billing.add_billingrun"):
            return HttpResponse(status=403)
        estate = get_scoped(
            estates_for(request.user), request.user, "id", pk=request.POST.get("estate")
        )
        try:
            day = date.fromisoformat(request.POST.get("as_of", ""))
        except ValueError:
            messages.error(request, _("Give the day as YYYY-MM-DD."))
            return redirect("billing:late_fees")
        result = services.late_fee_assess(estate=estate, as_of=day, actor=request.user)
        if result.skipped:
            messages.warning(request, result.skipped)
        else:
            messages.success(
                request,
                _("%(n)s late fees, %(amount)s") % {"n": result.charges, "amount": result.amount},
            )
        return redirect("billing:late_fees")
    charges = selectors.charges_for(request.user, kind=Charge.Kind.LATE_FEE).order_by(
        "-bill_date", "-id"
    )
    return render(
        request,
        "billing/late_fees.html",
        {"page": _page(request, charges), "estates": estates_for(request.user)},
    )


@_perm("billing.import_opening")
def opening_import(request):
    """Upload the old system's balances: checked first; written only when every row is fine
    and the user confirms (the same file posted again with `confirm`)."""
    result = None
    if request.method == "POST" and request.FILES.get("file"):
        estate = get_scoped(
            estates_for(request.user), request.user, "id", pk=request.POST.get("estate")
        )
        content = request.FILES["file"].read()
        try:
            result = services.opening_balances_import(
                actor=request.user,
                estate=estate,
                content=content,
                dry_run=not request.POST.get("confirm"),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if result.ok and not result.dry_run:
                messages.success(request, _("Opening balances imported."))
                return redirect("billing:charge_list")
    return render(
        request,
        "billing/opening_import.html",
        {"result": result, "estates": estates_for(request.user)},
    )
