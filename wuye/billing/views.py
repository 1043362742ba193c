"""Staff pages of billing: runs (new -> preview -> post -> progress -> done, cancel), charges
and their corrections (ad hoc charges, waivers, credit and debit notes, deposit refunds and
forfeits), the waiver and deposit queues, fee stops, billing periods, statements with their
PDF, payment notices. Thin: parse, call a service or selector, render. A refused action
re-renders its page with the service's message next to the field it names."""

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.money import format_yuan
from wuye.core.params import query_id, query_month
from wuye.registry.models import Party, Unit
from wuye.registry.selectors import estates_for, get_scoped, scope

from . import documents, selectors, services, tasks
from .forms import (
    AdhocChargeForm,
    CreditNoteForm,
    DebitNoteForm,
    DepositReleaseForm,
    FeeStopForm,
    PeriodCloseForm,
    RunCancelForm,
    RunForm,
    WaiverForm,
    add_domain_error,
)
from .models import BillingRun, Charge, DepositRelease, Waiver


def _perm(perm: str):
    def wrap(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return wrap


def _page(request, qs, size: int = 50):
    return Paginator(qs, size).get_page(request.GET.get("page"))


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
    return render(request, template, {"run": run, "cancel_form": RunCancelForm()})


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
    if run.status == BillingRun.Status.RUNNING and not run.is_stalled():
        messages.error(request, _("The run is still running."))
        return redirect("billing:run_detail", pk=run.pk)
    BillingRun.objects.filter(pk=run.pk).update(started_by=request.user)
    tasks.run_billing.enqueue(run.pk)
    messages.info(request, _("The run has started."))
    return redirect("billing:run_detail", pk=run.pk)


@require_POST
@_perm("billing.cancel_billingrun")
def run_cancel(request, pk: int):
    run = _run(request, pk)
    form = RunCancelForm(request.POST)
    if form.is_valid():
        try:
            services.billing_run_cancel(
                run=run, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The run is cancelled and its entries reversed."))
            return redirect("billing:run_detail", pk=run.pk)
    run.refresh_from_db()
    return render(request, "billing/run_detail.html", {"run": run, "cancel_form": form})


@_perm("billing.view_charge")
def charge_list(request):
    def number(name):
        return query_id(request.GET, name)

    charges = selectors.charges_for(
        request.user,
        estate_id=number("estate"),
        unit_id=number("unit"),
        party_id=number("party"),
        run_id=number("run"),
        period=query_month(request.GET, "period"),
        status=request.GET.get("status", ""),
        kind=request.GET.get("kind", ""),
    ).order_by("-period_start", "unit__number", "id")
    return render(
        request,
        "billing/charge_list.html",
        {
            "page": _page(request, charges),
            "statuses": Charge.Status.choices,
            "kinds": Charge.Kind.choices,
        },
    )


# --- one charge: ad hoc charges, corrections, waivers, deposits ----------------------------


def _charge(request, pk: int) -> Charge:
    return get_scoped(
        Charge.objects.select_related("unit", "party", "fee_item", "estate", "run", "source"),
        request.user,
        pk=pk,
    )


def _charge_page(request, charge: Charge, **bound):
    """The charge with its history and the forms of what the user may do with it; `bound`
    replaces one form by the submitted one (with its errors)."""
    user = request.user
    is_open = charge.status == Charge.Status.OPEN
    forms_ = {
        "waiver_form": WaiverForm() if is_open and user.has_perm("billing.add_waiver") else None,
        "credit_form": CreditNoteForm()
        if is_open and user.has_perm("billing.add_creditnote")
        else None,
        "debit_form": DebitNoteForm()
        if charge.status != Charge.Status.CANCELLED and user.has_perm("billing.add_creditnote")
        else None,
        "release_form": DepositReleaseForm()
        if charge.kind == Charge.Kind.DEPOSIT and user.has_perm("billing.add_depositrelease")
        else None,
    }
    forms_.update(bound)
    context = {"charge": charge, "history": selectors.charge_history(charge), **forms_}
    return render(request, "billing/charge_detail.html", context)


def _safe_next(request, default: str) -> str:
    """Where to go after a form posted from another page: `next` if it is on this site."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@_perm("billing.add_adhoc_charge")
def charge_new(request):
    """Raise a one-off charge on a unit (repair, card, 代收 pass-through, deposit)."""
    initial = {}
    if request.method != "POST" and (unit_id := query_id(request.GET, "unit")) is not None:
        unit = get_scoped(Unit.objects.select_related("estate"), request.user, pk=unit_id)
        initial = {"estate": unit.estate_id, "unit": unit.number}
    form = AdhocChargeForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            charge = services.charge_adhoc_create(
                actor=request.user,
                unit=data["unit_obj"],
                fee_item=data["fee_item"],
                amount=data["amount"],
                description=data["description"],
                bill_date=data.get("bill_date"),
                due_date=data.get("due_date"),
                idempotency_key=form.key(request.user, "adhoc"),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(amount)s charged to %(party)s for unit %(unit)s.")
                % {
                    "amount": format_yuan(charge.amount),
                    "party": charge.party.name,
                    "unit": charge.unit.number,
                },
            )
            return redirect("billing:charge_detail", pk=charge.pk)
    return render(request, "billing/form.html", {"form": form, "title": _("New ad hoc charge")})


@_perm("billing.view_charge")
def charge_detail(request, pk: int):
    return _charge_page(request, _charge(request, pk))


def _charge_note(request, pk: int, *, kind: str):
    """A credit note ("credit") or a debit note ("debit") on a charge, from its page."""
    charge = _charge(request, pk)
    form_class, service = (
        (CreditNoteForm, services.charge_credit_note)
        if kind == "credit"
        else (DebitNoteForm, services.charge_debit_note)
    )
    form = form_class(request.POST)
    if form.is_valid():
        try:
            note = service(
                actor=request.user,
                charge=charge,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                idempotency_key=form.key(request.user, kind)
                or f"ui:{kind}:{request.user.pk}:{uuid.uuid4().hex}",
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if kind == "credit":
                done = _("Credit note of %(amount)s posted.")
                shown = charge.pk
            else:
                done = _("Debit note of %(amount)s raised.")
                shown = note.pk  # the new charge
            messages.success(request, done % {"amount": format_yuan(note.amount)})
            return redirect("billing:charge_detail", pk=shown)
    return _charge_page(request, charge, **{f"{kind}_form": form})


@require_POST
@_perm("billing.add_creditnote")
def charge_credit_note(request, pk: int):
    """Lower a charge raised too high (紅字): Dr the item's account, Cr RECEIVABLE."""
    return _charge_note(request, pk, kind="credit")


@require_POST
@_perm("billing.add_creditnote")
def charge_debit_note(request, pk: int):
    """Raise more on a charge raised too low (補收): a new charge pointing at this one."""
    return _charge_note(request, pk, kind="debit")


@require_POST
@_perm("billing.add_depositrelease")
def deposit_release_request(request, pk: int):
    charge = _charge(request, pk)
    form = DepositReleaseForm(request.POST)
    if form.is_valid():
        try:
            services.deposit_release_request(
                actor=request.user,
                charge=charge,
                action=form.cleaned_data["action"],
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Requested; a supervisor decides."))
            return redirect("billing:charge_detail", pk=charge.pk)
    return _charge_page(request, charge, release_form=form)


@require_POST
@_perm("billing.add_waiver")
def waiver_request(request, charge_pk: int):
    charge = _charge(request, charge_pk)
    form = WaiverForm(request.POST)
    if form.is_valid():
        try:
            services.waiver_request(
                actor=request.user,
                charge=charge,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Waiver requested; a supervisor decides."))
            return redirect(_safe_next(request, reverse("billing:charge_detail", args=[charge.pk])))
    return _charge_page(request, charge, waiver_form=form)


# --- approval queues ----------------------------------------------------------------------


def _waiver_page(request, errors: dict[int, str] | None = None):
    status = request.GET.get("status", Waiver.Status.REQUESTED)
    waivers = selectors.waivers_for(request.user, status=status)
    return render(
        request,
        "billing/waiver_list.html",
        {"page": _page(request, waivers), "errors": errors or {}},
    )


@_perm("billing.view_waiver")
def waiver_list(request):
    return _waiver_page(request)


@require_POST
@_perm("billing.approve_waiver")
def waiver_decide(request, pk: int):
    waiver = get_scoped(Waiver.objects.all(), request.user, pk=pk)
    try:
        if request.POST.get("decision") == "approve":
            services.waiver_approve(
                actor=request.user, waiver=waiver, note=request.POST.get("note", "")
            )
            messages.success(
                request,
                _("Waiver of %(amount)s approved.") % {"amount": format_yuan(waiver.amount)},
            )
        else:
            services.waiver_reject(
                actor=request.user, waiver=waiver, note=request.POST.get("note", "")
            )
            messages.success(request, _("Waiver rejected."))
    except DomainError as exc:
        return _waiver_page(request, {waiver.pk: exc.message})
    return redirect("billing:waiver_list")


def _deposit_page(request, errors: dict[int, str] | None = None):
    status = request.GET.get("status", DepositRelease.Status.REQUESTED)
    releases = selectors.deposit_releases_for(request.user, status=status)
    return render(
        request,
        "billing/deposit_list.html",
        {
            "page": _page(request, releases),
            "errors": errors or {},
            "status": status,
            "statuses": DepositRelease.Status.choices,
        },
    )


@_perm("billing.view_depositrelease")
def deposit_list(request):
    """Deposit refunds and forfeits: requested ones to decide, and the decided."""
    return _deposit_page(request)


@require_POST
@_perm("billing.approve_depositrelease")
def deposit_decide(request, pk: int):
    release = get_scoped(DepositRelease.objects.all(), request.user, pk=pk)
    try:
        if request.POST.get("decision") == "approve":
            services.deposit_release_approve(actor=request.user, release=release)
            messages.success(
                request,
                _("%(action)s of %(amount)s approved.")
                % {"action": release.get_action_display(), "amount": format_yuan(release.amount)},
            )
        else:
            services.deposit_release_reject(actor=request.user, release=release)
            messages.success(request, _("Rejected."))
    except DomainError as exc:
        return _deposit_page(request, {release.pk: exc.message})
    return redirect("billing:deposit_list")


# --- fee stops and billing periods ---------------------------------------------------------


@_perm("billing.view_feestop")
def fee_stops(request):
    """Units whose recurring fee stops from a date (sold back, merged, demolished)."""
    can_stop = request.user.has_perm("billing.stop_fee")
    form = FeeStopForm(request.POST or None, user=request.user) if can_stop else None
    if request.method == "POST":
        if not can_stop:
            return HttpResponse(status=403)
        if form.is_valid():
            data = form.cleaned_data
            try:
                stop = services.unit_fee_stop(
                    actor=request.user,
                    unit=data["unit_obj"],
                    fee_item=data["fee_item"],
                    from_date=data["from_date"],
                    reason=data["reason"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(unit)s: %(item)s stops from %(day)s.")
                    % {"unit": stop.unit.number, "item": stop.fee_item.name, "day": stop.from_date},
                )
                return redirect("billing:fee_stops")
    stops = selectors.fee_stops_for(request.user)
    return render(request, "billing/fee_stops.html", {"page": _page(request, stops), "form": form})


@_perm("billing.view_billingperiod")
def periods(request):
    """Billing periods of the user's estates; closing one refuses any further run for it."""
    can_close = request.user.has_perm("billing.change_billingperiod")
    form = PeriodCloseForm(request.POST or None, user=request.user) if can_close else None
    if request.method == "POST":
        if not can_close:
            return HttpResponse(status=403)
        if form.is_valid():
            estate, period = form.cleaned_data["estate"], form.cleaned_data["period"]
            try:
                services.billing_period_close(actor=request.user, estate=estate, period=period)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(estate)s: period %(period)s is closed.")
                    % {"estate": estate.name, "period": period},
                )
                return redirect("billing:periods")
    rows = selectors.periods_for(request.user)
    return render(request, "billing/periods.html", {"page": _page(request, rows), "form": form})


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
        try:
            result = services.late_fee_assess(estate=estate, as_of=day, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("billing:late_fees")
        if result.skipped:
            messages.warning(request, result.skipped)
        else:
            messages.success(
                request,
                _("%(n)s late fees, %(amount)s")
                % {"n": result.charges, "amount": format_yuan(result.amount)},
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
