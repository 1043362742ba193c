"""Staff pages: payment orders, the exception queue, bank transfers, the window's payment
code and counter QR, auto-debit batches."""

import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.money import format_yuan
from wuye.core.normalize import as_id, as_ids, clean_text
from wuye.core.params import filters_valid, parse_id
from wuye.registry.models import Party, Unit
from wuye.registry.selectors import estates_for, get_scoped, payer_on, unit_search

from . import selectors, services
from .forms import (
    BatchForm,
    OrderFilterForm,
    ResolveForm,
    ReturnFileForm,
    StatementForm,
    TransferForm,
    WindowForm,
)
from .models import DebitBatch, PaymentException, PaymentOrder, TransferLine
from .providers import ProviderError
from .services.bank import statement_size_check
from .statements import StatementRejected


def qr_svg(text: str) -> str:
    """An inline SVG QR code (no image files, no CDN)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue().decode()


def _estate(request):
    estates = estates_for(request.user)
    wanted = parse_id("estate", request.GET.get("estate") or request.POST.get("estate"))
    return (estates.filter(pk=wanted).first() if wanted is not None else None) or estates.first()


@login_required
@permission_required("online.view_paymentorder", raise_exception=True)
def order_list(request):
    form = OrderFilterForm(request.GET or None)
    data = filters_valid(form) if form.is_bound else {}
    qs = selectors.orders_for(request.user, status=data.get("status", ""), q=data.get("q", ""))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "online/order_list.html", {"form": form, "page": page})


@login_required
@permission_required("online.view_paymentexception", raise_exception=True)
def exception_list(request):
    status = request.GET.get("status", "open")
    qs = selectors.exceptions_for(request.user, status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "online/exception_list.html",
        {"page": page, "status": status, "statuses": PaymentException.Status.choices},
    )


@login_required
@permission_required("online.view_paymentexception", raise_exception=True)
def exception_detail(request, pk: int):
    item = get_scoped(selectors.exceptions_for(request.user, status=""), request.user, pk=pk)
    form = ResolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action, note = form.cleaned_data["action"], form.cleaned_data["note"]
        try:
            if action == "write_off":
                services.exception_write_off_request(actor=request.user, item=item, reason=note)
            else:
                act = {
                    "credit": services.exception_credit,
                    "refund": services.exception_refund,
                    "approve_write_off": services.exception_write_off_approve,
                    "withdraw_write_off": services.exception_write_off_withdraw,
                }[action]
                act(actor=request.user, item=item, note=note)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Done."))
            return redirect("online:exception_list")
    inbox = selectors.inbox_for_order(item.order) if item.order_id else []
    return render(
        request, "online/exception_detail.html", {"item": item, "form": form, "inbox": inbox}
    )


@login_required
@permission_required("payments.take_payment", raise_exception=True)
def transfer_post(request):
    """One transfer typed from the bank's advice, or the bank's statement file. A transfer
    whose memo names nobody is posted to a unit picked from a search (?find=)."""
    estate = _estate(request)
    initial = {k: request.GET[k] for k in TransferForm.TEXT_FIELDS if k in request.GET}
    form = TransferForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and estate is not None:
        data = dict(form.cleaned_data)
        unit_id = data.pop("unit")
        if unit_id:
            data["unit"] = get_scoped(Unit.objects.all(), request.user, pk=unit_id)
        try:
            payment = services.bank_transfer_post(actor=request.user, estate=estate, **data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Posted %(amount)s for %(party)s, receipt %(receipt)s")
                % {
                    "amount": format_yuan(payment.amount),
                    "party": payment.party,
                    "receipt": payment.receipt.code,
                },
            )
            return redirect(f"{reverse('online:transfer_post')}?estate={estate.pk}")
    return _transfer_page(request, estate, form, StatementForm())


def _transfer_page(request, estate, form, statement_form, errors=()):
    statements = selectors.transfer_statements_for(request.user, estate)[:10]
    find = clean_text(request.GET.get("find", ""))
    found = []
    if find and estate is not None:
        units = unit_search(request.user, q=find, estate_id=estate.pk).order_by("number")[:20]
        today = timezone.localdate()
        found = [(u, payer_on(u, today)) for u in units]
    chosen = as_id(form["unit"].value())
    return render(
        request,
        "online/transfer.html",
        {
            "form": form,
            "estate": estate,
            "estates": estates_for(request.user),
            "statement_form": statement_form,
            "statements": statements,
            "errors": errors,
            "text_fields": [form[name] for name in TransferForm.TEXT_FIELDS],
            "find": find,
            "found": found,
            "chosen": chosen,
        },
    )


@login_required
@require_POST
@permission_required("online.add_transferstatement", raise_exception=True)
def statement_import(request):
    estate = _estate(request)
    form = StatementForm(request.POST, request.FILES)
    if form.is_valid() and estate is not None:
        upload = form.cleaned_data["file"]
        try:
            statement_size_check(upload.size)
            statement, new = services.transfer_statement_import(
                actor=request.user, estate=estate, file_name=upload.name, file=upload
            )
        except StatementRejected as exc:
            form.add_error("file", exc.message)
            return _transfer_page(request, estate, TransferForm(), form, exc.errors[:200])
        if not new:
            messages.info(request, _("This file was imported before; nothing was posted again."))
        return redirect("online:statement_detail", pk=statement.pk)
    return _transfer_page(request, estate, TransferForm(), form)


@login_required
@permission_required("online.view_transferstatement", raise_exception=True)
def statement_detail(request, pk: int):
    statement = get_scoped(selectors.transfer_statements_for(request.user), request.user, pk=pk)
    done = statement.lines_done
    complete = done >= statement.lines_total
    # while the worker posts, the page is its progress only (polled every 2 s); the lines
    # once every line is there
    lines = statement.lines.select_related("payment__party", "payment__receipt")
    return render(
        request,
        "online/statement_detail.html",
        {
            "statement": statement,
            "lines": lines if complete else [],
            "done": done,
            "complete": complete,
            "stalled": not complete and statement.is_stalled(),
            "to_check": TransferLine.TO_CHECK,
        },
    )


@login_required
@permission_required("payments.take_payment", raise_exception=True)
def window(request):
    """Pick the owner (by payment reference or party id) and charges, then scan their code or
    show a QR code on the counter screen."""
    party = None
    ref = (request.GET.get("ref") or "").strip()
    if ref:
        party = services.party_by_reference(ref)
        if party is not None:
            party = get_scoped(Party.objects.all(), request.user, pk=party.pk)
    form = WindowForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        party = get_scoped(Party.objects.all(), request.user, pk=form.cleaned_data["party"])
        ids = as_ids(form.cleaned_data["charges"].split(","))
        try:
            if form.cleaned_data["how"] == "code":
                order = services.window_payment_code(
                    actor=request.user,
                    party=party,
                    charge_ids=ids,
                    provider=form.cleaned_data["provider"],
                    auth_code=form.cleaned_data["auth_code"],
                )
            else:
                order = services.window_qr(
                    actor=request.user,
                    party=party,
                    charge_ids=ids,
                    provider=form.cleaned_data["provider"],
                )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("online:window_order", pk=order.pk)
    charges = selectors.open_charges_of(party) if party else []
    return render(
        request,
        "online/window.html",
        {"party": party, "charges": charges, "form": form, "ref": ref},
    )


@login_required
@permission_required("payments.take_payment", raise_exception=True)
def window_order(request, pk: int):
    order = get_scoped(PaymentOrder.objects.select_related("party", "payment"), request.user, pk=pk)
    if request.method == "POST":
        try:
            order = services.window_check(actor=request.user, order=order)
        except DomainError as exc:
            messages.error(request, exc.message)
        except ProviderError:
            messages.error(request, _("The payment service did not answer; check again."))
    template = "online/_window_status.html" if request.htmx else "online/window_order.html"
    return render(
        request,
        template,
        {"order": order, "qr": qr_svg(order.code_url) if order.code_url else ""},
    )


@login_required
@permission_required("online.view_debitbatch", raise_exception=True)
def batch_list(request):
    estate = _estate(request)
    form = BatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and estate is not None:
        try:
            batch = services.debit_batch_create(
                actor=request.user, estate=estate, **form.cleaned_data
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("online:batch_detail", pk=batch.pk)
    page = Paginator(selectors.batches_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "online/batch_list.html", {"page": page, "form": form, "estate": estate})


@login_required
@permission_required("online.view_debitbatch", raise_exception=True)
def batch_detail(request, pk: int):
    batch = get_scoped(DebitBatch.objects.select_related("bank", "estate"), request.user, pk=pk)
    form = ReturnFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            counts = services.debit_return_import(
                actor=request.user, batch=batch, content=form.cleaned_data["file"].read()
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(
                request,
                _("%(debited)s debited, %(failed)s failed, %(unchanged)s already known") % counts,
            )
            return redirect("online:batch_detail", pk=batch.pk)
    items = batch.items.select_related("party", "mandate", "payment").order_by("seq")
    return render(
        request, "online/batch_detail.html", {"batch": batch, "items": items, "form": form}
    )


@login_required
@require_POST
@permission_required("online.view_debitbatch", raise_exception=True)
def batch_file(request, pk: int):
    batch = get_scoped(DebitBatch.objects.select_related("bank", "estate"), request.user, pk=pk)
    name, content = services.debit_batch_file(actor=request.user, batch=batch)
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
