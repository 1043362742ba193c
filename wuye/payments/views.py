"""Staff pages of the window: parse, call a selector or a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.money import format_yuan
from wuye.core.normalize import as_id, as_ids
from wuye.core.params import filters_valid, query_date, query_id
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate, Unit
from wuye.registry.selectors import estates_for, get_scoped

from . import forms, selectors, services
from .documents import mask_name
from .models import CashierShift, DayClose, InvoiceRequest, Payment, PaymentReversal, Receipt


def _estate(request) -> Estate | None:
    """The estate the window works for: ?estate=, else the session's, else the first."""
    estates = estates_for(request.user)
    wanted = query_id(request.GET, "estate") or as_id(request.session.get("window_estate"))
    estate = estates.filter(pk=wanted).first() if wanted else None
    estate = estate or estates.first()
    if estate is not None:
        request.session["window_estate"] = estate.pk
    return estate


def verify_url(request, receipt: Receipt) -> str:
    try:
        path = reverse("receipt_verify", args=[receipt.token])
    except NoReverseMatch:
        path = reverse("payments:receipt_verify", args=[receipt.token])
    return request.build_absolute_uri(path)


@login_required
@permission_required("payments.take_payment", raise_exception=True)
def window(request):
    """The cashier screen: search -> the unit's arrears and prepayment -> tick -> take."""
    estate = _estate(request)
    if estate is None:
        raise Http404("no estate")
    q = request.GET.get("q", "").strip()
    results = selectors.window_search(request.user, q) if q else []
    unit = None
    if (unit_id := query_id(request.GET, "unit")) is not None:
        unit = get_scoped(
            Unit.objects.select_related("estate", "building"), request.user, pk=unit_id
        )
    elif len(results) == 1:
        return redirect(f"{reverse('payments:window')}?unit={results[0].pk}")
    return _window_page(request, estate, unit, q=q, results=results)


def _window_page(request, estate, unit, *, q="", results=(), form=None, picked=(), status=200):
    """The window, for `unit` if any; after a refused payment, with the `form` as it was sent
    and the `picked` charges still ticked, so nothing has to be typed again."""
    context = {
        "estate": estate,
        "estates": estates_for(request.user),
        "q": q,
        "results": results,
        "shift": services.open_shift_of(request.user, estate.pk),
        "shift_form": forms.ShiftOpenForm(),
        "today": timezone.localdate(),
    }
    if unit is not None:
        items = FeeItem.objects.filter(estate_id=unit.estate_id, is_active=True).order_by("code")
        context.update(
            unit=unit,
            account=selectors.unit_account(unit, timezone.localdate()),
            form=form or forms.TakePaymentForm(fee_items=items),
            picked=set(picked),
            round_allowed=services.payments.settings_of(unit.estate_id).round_small_change,
        )
    return render(request, "payments/window.html", context, status=status)


@login_required
@permission_required("payments.take_payment", raise_exception=True)
@require_POST
def take_payment(request, unit_pk: int):
    unit = get_scoped(Unit.objects.select_related("estate"), request.user, pk=unit_pk)
    items = FeeItem.objects.filter(estate_id=unit.estate_id, is_active=True)
    form = forms.TakePaymentForm(request.POST, fee_items=items)
    picked = as_ids(request.POST.getlist("charge"))

    def refused(message: str | None = None):
        if message:
            messages.error(request, message)
        return _window_page(request, unit.estate, unit, form=form, picked=picked, status=400)

    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return refused()
    data = form.cleaned_data
    account = selectors.unit_account(unit, timezone.localdate())
    if account["party"] is None:
        return refused(_("This unit has no owner or payer on record."))
    pay_ahead = None
    if data["ahead_item"] and data["ahead_months"]:
        pay_ahead = services.PayAhead(fee_item=data["ahead_item"], months=data["ahead_months"])
    try:
        payment = services.payment_take(
            actor=request.user,
            party=account["party"],
            unit=unit,
            amount=data["amount"],
            channel=data["method"],
            external_ref=data["external_ref"],
            terminal=data["terminal"],
            charge_ids=picked,
            pay_ahead=pay_ahead,
            keep_change_as_prepayment=data["keep_change"],
            earmark=data["earmark"],
            round_off=data["round_off"],
            idempotency_key=f"window:{request.user.pk}:{data['token']}",
            payer_name=data["payer_name"],
        )
    except DomainError as err:
        return refused(str(err))
    done = _("Payment of %(amount)s taken, receipt %(code)s.") % {
        "amount": format_yuan(payment.amount),
        "code": payment.receipt.code,
    }
    change = form.change_due()
    if change is not None:
        done += " " + _("Change due: %(change)s.") % {"change": format_yuan(change)}
    messages.success(request, done)
    return redirect("payments:payment_detail", pk=payment.pk)


@login_required
@permission_required("payments.take_payment", raise_exception=True)
@require_POST
def apply_prepayment(request, unit_pk: int):
    """The window's "apply prepayment" button: pay the unit's open charges (the ticked ones,
    else all) from the payer's prepayment, on demand (issue 11 §7)."""
    unit = get_scoped(Unit.objects.select_related("estate"), request.user, pk=unit_pk)
    account = selectors.unit_account(unit, timezone.localdate())
    back = f"{reverse('payments:window')}?unit={unit.pk}"
    if account["party"] is None:
        messages.error(request, _("This unit has no owner or payer on record."))
        return redirect(back)
    try:
        used = services.prepayment_apply(
            actor=request.user,
            party=account["party"],
            unit=unit,
            charge_ids=as_ids(request.POST.getlist("charge")),
        )
    except DomainError as err:
        messages.error(request, str(err))
        return redirect(back)
    if used is None:
        messages.info(request, _("The prepayment pays none of these charges."))
    else:
        messages.success(
            request,
            _("%(amount)s of the prepayment applied to the charges.")
            % {"amount": format_yuan(used.amount)},
        )
    return redirect(back)


@login_required
@permission_required("payments.take_payment", raise_exception=True)
def payout_list(request):
    """Deposit refunds approved and waiting to be paid out, with a form each (cash from the
    cashier's shift, or a bank transfer with its reference), and the latest paid out."""
    if request.method == "POST":
        from wuye.billing.models import DepositRelease

        release = get_scoped(DepositRelease.objects.all(), request.user, pk=request.POST.get("id"))
        try:
            payout = services.refund_payout(
                actor=request.user,
                release=release,
                channel=request.POST.get("channel", ""),
                external_ref=request.POST.get("external_ref", ""),
            )
        except DomainError as err:
            messages.error(request, str(err))
        else:
            messages.success(
                request,
                _("%(amount)s paid out to %(party)s.")
                % {"amount": format_yuan(payout.amount), "party": payout.party.name},
            )
        return redirect("payments:payout_list")
    return render(
        request,
        "payments/payouts.html",
        {
            "waiting": selectors.refunds_to_pay_out(request.user),
            "done": selectors.refunds_paid_out(request.user),
            "channels": services.RefundPayout.Channel.choices,
        },
    )


@login_required
@permission_required("payments.view_payment", raise_exception=True)
def payment_list(request):
    form = forms.PaymentFilterForm(request.GET, cashiers=selectors.cashiers_for(request.user))
    filters_valid(form)  # a filter that cannot be read is a 400 naming it
    qs = selectors.payments_for(request.user, **form.selector_params())
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "payments/payment_list.html", {"page": page, "form": form})


@login_required
@permission_required("payments.view_payment", raise_exception=True)
def payment_detail(request, pk: int):
    payment = get_scoped(
        Payment.objects.select_related("party", "unit", "receipt", "estate", "shift"),
        request.user,
        pk=pk,
    )
    return render(
        request,
        "payments/payment_detail.html",
        {
            "payment": payment,
            "receipt": getattr(payment, "receipt", None),
            "allocations": payment.allocations.select_related("charge__fee_item").order_by("id"),
            "reversals": payment.reversals.order_by("-id"),
            "invoices": payment.invoice_requests.order_by("-id"),
            "reversal_form": forms.ReversalForm(),
            "invoice_form": forms.InvoiceRequestForm(),
        },
    )


@login_required
@permission_required("payments.view_receipt", raise_exception=True)
def receipt_pdf(request, pk: int):
    receipt = get_scoped(Receipt.objects.select_related("estate"), request.user, pk=pk)
    content = services.receipt_print(
        actor=request.user,
        receipt=receipt,
        verify_url=verify_url(request, receipt),
        paper=request.GET.get("paper", ""),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.code}.pdf"'
    return response


def receipt_verify(request, token: str):
    """Public: anyone holding the receipt can check it is genuine. Shows no personal data
    beyond a masked name."""
    receipt = selectors.receipt_by_token(token)
    if receipt is None:
        return render(request, "payments/verify.html", {"receipt": None}, status=404)
    return render(
        request,
        "payments/verify.html",
        {
            "receipt": receipt,
            "masked_name": mask_name(receipt.payment.party.name),
            "amount": receipt.payment.amount,
        },
    )


@login_required
@permission_required("payments.take_payment", raise_exception=True)
@require_POST
def shift_open(request):
    estate = _estate(request)
    form = forms.ShiftOpenForm(request.POST)
    if form.is_valid():
        try:
            services.shift_open(
                actor=request.user, estate=estate, float_amount=form.cleaned_data["float_amount"]
            )
            messages.success(request, _("Shift opened."))
        except DomainError as err:
            messages.error(request, str(err))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("payments:window")


@login_required
@permission_required("payments.view_cashiershift", raise_exception=True)
def shift_detail(request, pk: int):
    shift = get_scoped(
        CashierShift.objects.select_related("cashier", "estate"), request.user, pk=pk
    )
    form = forms.ShiftCloseForm(request.POST or None)
    variance = None
    if request.method == "POST" and form.is_valid():
        try:
            services.shift_close(actor=request.user, shift=shift, **form.cleaned_data)
        except services.ShiftVariance as err:
            # ask again, showing the difference the service found: confirm it and say why
            variance = {"cash": err.cash, "pos": err.pos, "message": str(err)}
        except DomainError as err:
            messages.error(request, str(err))
        else:
            messages.success(request, _("Shift closed."))
            return redirect("payments:shift_detail", pk=shift.pk)
        shift.refresh_from_db()
    expected = services.shift_expected(shift)
    return render(
        request,
        "payments/shift_detail.html",
        {
            "shift": shift,
            "form": form,
            "variance": variance,
            "expected": expected,
            "payments": shift.payments.select_related("party", "receipt").order_by("received_at"),
        },
    )


@login_required
@permission_required("payments.view_cashiershift", raise_exception=True)
def shift_list(request):
    page = Paginator(selectors.shifts_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "payments/shift_list.html", {"page": page})


@login_required
@permission_required("payments.add_paymentreversal", raise_exception=True)
@require_POST
def reversal_request(request, pk: int):
    payment = get_scoped(Payment.objects.all(), request.user, pk=pk)
    form = forms.ReversalForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.reversal_request(
                actor=request.user,
                payment=payment,
                kind=data["kind"],
                reason=data["reason"],
                from_prepayment=data.get("from_prepayment") or "0",
            )
            messages.success(request, _("Requested; a supervisor decides."))
        except DomainError as err:
            messages.error(request, str(err))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("payments:payment_detail", pk=payment.pk)


@login_required
@permission_required("payments.approve_reversal", raise_exception=True)
def reversal_queue(request):
    if request.method == "POST":
        reversal = get_scoped(
            PaymentReversal.objects.all(), request.user, pk=request.POST.get("id")
        )
        try:
            if request.POST.get("decision") == "approve":
                services.reversal_approve(actor=request.user, reversal=reversal)
                messages.success(request, _("Approved and posted."))
            else:
                services.reversal_reject(
                    actor=request.user, reversal=reversal, note=request.POST.get("note", "")
                )
                messages.success(request, _("Rejected."))
        except DomainError as err:
            messages.error(request, str(err))
        return redirect("payments:reversal_queue")
    return render(
        request,
        "payments/reversal_queue.html",
        {"items": selectors.reversals_pending(request.user)},
    )


@login_required
@permission_required("payments.add_invoicerequest", raise_exception=True)
@require_POST
def invoice_request(request, pk: int):
    payment = get_scoped(Payment.objects.select_related("party"), request.user, pk=pk)
    form = forms.InvoiceRequestForm(request.POST)
    if form.is_valid():
        try:
            services.invoice_request(actor=request.user, payment=payment, **form.cleaned_data)
            messages.success(request, _("Invoice requested."))
        except DomainError as err:
            messages.error(request, str(err))
    return redirect("payments:payment_detail", pk=payment.pk)


@login_required
@permission_required("payments.issue_invoice", raise_exception=True)
@require_POST
def invoice_red_note(request, pk: int):
    """Record the red-letter note of the payment's issued invoice (before a void)."""
    payment = get_scoped(Payment.objects.all(), request.user, pk=pk)
    req = get_scoped(
        InvoiceRequest.objects.filter(payment=payment), request.user, pk=request.POST.get("id")
    )
    try:
        services.invoice_red_note(
            actor=request.user, request=req, red_note_number=request.POST.get("number", "")
        )
        messages.success(request, _("Red-letter note recorded; the payment may now be voided."))
    except DomainError as err:
        messages.error(request, str(err))
    return redirect("payments:payment_detail", pk=payment.pk)


@login_required
@permission_required("payments.issue_invoice", raise_exception=True)
def invoice_queue(request):
    if request.method == "POST":
        req = get_scoped(InvoiceRequest.objects.all(), request.user, pk=request.POST.get("id"))
        form = forms.InvoiceIssueForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.invoice_issue(
                    actor=request.user,
                    request=req,
                    invoice_number=form.cleaned_data["invoice_number"],
                    file=form.cleaned_data.get("invoice_file"),
                )
                messages.success(request, _("Invoice recorded."))
            except DomainError as err:
                messages.error(request, str(err))
        return redirect("payments:invoice_queue")
    return render(
        request,
        "payments/invoice_queue.html",
        {"items": selectors.invoice_queue(request.user), "form": forms.InvoiceIssueForm()},
    )


@login_required
@permission_required("payments.view_dayclose", raise_exception=True)
def day_report(request):
    estate = _estate(request)
    if estate is None:
        raise Http404("no estate")
    day = query_date(request.GET, "date", timezone.localdate())
    close = DayClose.objects.filter(estate=estate, business_date=day).first()
    if request.method == "POST":
        try:
            services.day_sign_off(
                actor=request.user,
                estate=estate,
                business_date=day,
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("The day is signed off."))
        except DomainError as err:
            messages.error(request, str(err))
        return redirect(f"{reverse('payments:day_report')}?date={day.isoformat()}")
    report = selectors.report_display(
        close.report if close else selectors.daily_report(estate_id=estate.pk, business_date=day)
    )
    return render(
        request,
        "payments/day_report.html",
        {
            "estate": estate,
            "day": day,
            "close": close,
            "report": report,
            "payments": selectors.payments_for(
                request.user, estate_id=estate.pk, business_date=day
            ),
        },
    )


@login_required
@permission_required("payments.take_payment", raise_exception=True)
def settled_certificate(request, unit_pk: int):
    unit = get_scoped(Unit.objects.select_related("estate"), request.user, pk=unit_pk)
    try:
        content = services.settled_certificate(actor=request.user, unit=unit)
    except DomainError as err:
        messages.error(request, str(err))
        return redirect(f"{reverse('payments:window')}?unit={unit.pk}")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="settled-{unit.number}.pdf"'
    return response
