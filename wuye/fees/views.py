"""Staff pages of fees: items, standards (approve/publish with the notice), vacancy discounts,
meter readings (entry, import, review) and shared-meter apportionment. Thin: parse, call one
service or selector, render."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.params import query_date, query_id
from wuye.registry.selectors import estates_for, get_scoped

from . import forms, selectors, services
from .models import (
    FeeItem,
    FeeStandard,
    Meter,
    MeterReading,
    SharedApportionment,
    VacancyDiscount,
)


def _perm(perm: str):
    def wrap(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return wrap


def _estate_id(request) -> int | None:
    return query_id(request.GET, "estate")


def _page(request, qs, size: int = 50):
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _back(request, fallback: str):
    target = request.POST.get("next") or request.GET.get("next") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else fallback)


def _form_error(form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# --- fee items ----------------------------------------------------------------------------------
@_perm("fees.view_feeitem")
def item_list(request):
    estate_id = _estate_id(request)
    items = selectors.fee_items_for(request.user, estate_id=estate_id)
    return render(
        request,
        "fees/item_list.html",
        {
            "page": _page(request, items),
            "estates": estates_for(request.user),
            "estate_id": estate_id,
        },
    )


@_perm("fees.add_feeitem")
def item_create(request):
    form = forms.FeeItemForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.fee_item_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Fee item %(name)s created.") % {"name": item.name})
            return redirect(f"{reverse('fees:item_list')}?estate={item.estate_id}")
    return render(request, "fees/form.html", {"form": form, "title": _("New fee item")})


@_perm("fees.change_feeitem")
def item_edit(request, pk: int):
    item = get_scoped(FeeItem.objects.all(), request.user, pk=pk)
    fields = forms.FeeItemForm.base_fields
    initial = {name: getattr(item, name) for name in fields if name != "estate"}
    form = forms.FeeItemForm(request.POST or None, user=request.user, initial=initial)
    del form.fields["estate"]
    if request.method == "POST" and form.is_valid():
        try:
            services.fee_item_update(actor=request.user, item=item, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Fee item %(name)s saved.") % {"name": item.name})
            return redirect(f"{reverse('fees:item_list')}?estate={item.estate_id}")
    title = _("Fee item %(name)s") % {"name": item.name}
    return render(request, "fees/form.html", {"form": form, "title": title})


# --- fee standards ------------------------------------------------------------------------------
@_perm("fees.view_feestandard")
def standard_list(request):
    estate_id = _estate_id(request)
    status = request.GET.get("status", "")
    standards = selectors.standards_for(request.user, estate_id=estate_id)
    if status in FeeStandard.Status.values:
        standards = standards.filter(status=status)
    return render(
        request,
        "fees/standard_list.html",
        {
            "page": _page(request, standards),
            "estates": estates_for(request.user),
            "estate_id": estate_id,
            "status": status,
            "statuses": FeeStandard.Status.choices,
        },
    )


@_perm("fees.add_feestandard")
def standard_create(request):
    form = forms.StandardForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            std = services.standard_create(actor=request.user, **data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Draft %(std)s saved.") % {"std": std})
            return redirect(f"{reverse('fees:standard_list')}?estate={std.estate_id}")
    return render(request, "fees/form.html", {"form": form, "title": _("New fee standard")})


@require_POST
@_perm("fees.view_feestandard")
def standard_action(request, pk: int, action: str):
    std = get_scoped(FeeStandard.objects.select_related("fee_item"), request.user, pk=pk)
    try:
        if action == "approve":
            services.standard_approve(actor=request.user, standard=std)
            messages.success(request, _("%(std)s approved.") % {"std": std})
        elif action == "publish":
            services.standard_publish(actor=request.user, standard=std)
            messages.success(request, _("%(std)s published; the notice is ready.") % {"std": std})
        elif action == "withdraw":
            services.standard_withdraw(
                actor=request.user, standard=std, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("%(std)s withdrawn.") % {"std": std})
        else:
            raise Http404(action)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return _back(request, f"{reverse('fees:standard_list')}?estate={std.estate_id}")


@_perm("fees.view_feestandard")
def standard_notice(request, pk: int):
    """The public notice PDF (served here, not from media, so estate scoping applies)."""
    std = get_scoped(FeeStandard.objects.all(), request.user, pk=pk)
    if not std.notice_pdf:
        raise Http404("no notice")
    return FileResponse(
        std.notice_pdf.open("rb"),
        content_type="application/pdf",
        filename=std.notice_pdf.name.rsplit("/", 1)[-1],
    )


# --- vacancy discounts --------------------------------------------------------------------------
@_perm("fees.view_vacancydiscount")
def vacancy_list(request):
    estate_id = _estate_id(request)
    status = request.GET.get("status", "")
    discounts = selectors.vacancies_for(request.user, estate_id=estate_id, status=status)
    return render(
        request,
        "fees/vacancy_list.html",
        {
            "page": _page(request, discounts),
            "estates": estates_for(request.user),
            "estate_id": estate_id,
            "status": status,
            "statuses": VacancyDiscount.Status.choices,
        },
    )


@_perm("fees.add_vacancydiscount")
def vacancy_apply(request):
    form = forms.VacancyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            discount = services.vacancy_apply(
                actor=request.user,
                unit=data["unit"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                notes=data["notes"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, _("Application for %(unit)s recorded.") % {"unit": discount.unit}
            )
            return redirect(f"{reverse('fees:vacancy_list')}?estate={discount.estate_id}")
    return render(
        request, "fees/form.html", {"form": form, "title": _("Vacancy discount application")}
    )


@require_POST
@_perm("fees.view_vacancydiscount")
def vacancy_action(request, pk: int, action: str):
    discount = get_scoped(VacancyDiscount.objects.select_related("unit"), request.user, pk=pk)
    notes = request.POST.get("notes", "")
    try:
        if action == "inspect":
            vacant = request.POST.get("vacant") == "1"
            services.vacancy_inspect(
                actor=request.user, discount=discount, vacant=vacant, notes=notes
            )
        elif action == "approve":
            services.vacancy_approve(actor=request.user, discount=discount, notes=notes)
        elif action == "reject":
            services.vacancy_reject(actor=request.user, discount=discount, reason=notes)
        else:
            raise Http404(action)
        messages.success(request, _("Saved."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return _back(request, f"{reverse('fees:vacancy_list')}?estate={discount.estate_id}")


# --- meter readings -----------------------------------------------------------------------------
@_perm("fees.add_meterreading")
def reading_entry(request):
    """One reading at a time, sized for a phone at the meter box."""
    initial = {"read_on": query_date(request.GET, "read_on", timezone.localdate())}
    if (estate_id := query_id(request.GET, "estate")) is not None:
        initial["estate"] = estate_id
    form = forms.ReadingForm(request.POST or None, user=request.user, initial=initial)
    last = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        meter = Meter.objects.filter(estate=data["estate"], serial=data["serial"].strip()).first()
        if meter is None:
            form.add_error("serial", _("No such meter in this estate."))
        else:
            try:
                last = services.reading_record(
                    actor=request.user, meter=meter, read_on=data["read_on"], value=data["value"]
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                if last.status == MeterReading.Status.FLAGGED:
                    messages.warning(
                        request,
                        _("Meter %(serial)s saved but flagged for review: %(reason)s")
                        % {"serial": meter.serial, "reason": last.flag_reason},
                    )
                else:
                    messages.success(
                        request,
                        _("Meter %(serial)s: %(value)s saved.")
                        % {"serial": meter.serial, "value": last.value},
                    )
                query = urlencode({"estate": meter.estate_id, "read_on": data["read_on"]})
                return redirect(f"{reverse('fees:reading_entry')}?{query}")
    return render(request, "fees/reading_entry.html", {"form": form})


@_perm("fees.add_meterreading")
def reading_import(request):
    form = forms.ReadingImportForm(request.POST or None, request.FILES or None, user=request.user)
    errors, result = [], None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.readings_import(
                actor=request.user, estate=form.cleaned_data["estate"], file=request.FILES["file"]
            )
        except services.ReadingImportError as exc:
            errors = exc.errors
        except DomainError as exc:
            _form_error(form, exc)
    return render(
        request, "fees/reading_import.html", {"form": form, "errors": errors, "result": result}
    )


@_perm("fees.view_meterreading")
def reading_list(request):
    estate_id = _estate_id(request)
    status = request.GET.get("status", "flagged")
    if status not in MeterReading.Status.values:
        status = ""
    readings = selectors.readings_for(request.user, estate_id=estate_id, status=status)
    return render(
        request,
        "fees/reading_list.html",
        {
            "page": _page(request, readings),
            "estates": estates_for(request.user),
            "estate_id": estate_id,
            "status": status,
            "statuses": MeterReading.Status.choices,
            "master": Meter.Kind.MASTER,
            "methods": SharedApportionment.Method.choices,
        },
    )


@require_POST
@_perm("fees.view_meterreading")
def reading_action(request, pk: int, action: str):
    reading = get_scoped(MeterReading.objects.select_related("meter"), request.user, pk=pk)
    form = forms.ReasonForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        if action == "approve":
            services.reading_approve(
                actor=request.user,
                reading=reading,
                consumption=data.get("consumption"),
                notes=data.get("reason", ""),
            )
        elif action == "reject":
            services.reading_reject(
                actor=request.user, reading=reading, reason=data.get("reason", "")
            )
        elif action == "apportion":
            share = forms.ApportionmentForm(request.POST)
            if not share.is_valid():
                raise DomainError(_("Choose a method."))
            services.apportionment_create(actor=request.user, reading=reading, **share.cleaned_data)
        else:
            raise Http404(action)
        messages.success(request, _("Saved."))
    except DomainError as exc:
        messages.error(request, f"{reading.meter.serial}: {exc.message}")
    return _back(request, reverse("fees:reading_list"))


@_perm("fees.view_sharedapportionment")
def apportionment_list(request):
    estate_id = _estate_id(request)
    shares = selectors.apportionments_for(request.user, estate_id=estate_id).prefetch_related(
        "lines__unit"
    )
    return render(
        request,
        "fees/apportionment_list.html",
        {
            "page": _page(request, shares, 20),
            "estates": estates_for(request.user),
            "estate_id": estate_id,
        },
    )


@_perm("fees.view_sharedapportionment")
def apportionment_action(request, pk: int, action: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    share = get_scoped(SharedApportionment.objects.all(), request.user, pk=pk)
    try:
        if action == "approve":
            services.apportionment_approve(actor=request.user, apportionment=share)
        elif action == "reject":
            services.apportionment_reject(
                actor=request.user, apportionment=share, reason=request.POST.get("reason", "")
            )
        else:
            raise Http404(action)
        messages.success(request, _("Saved."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(request, reverse("fees:apportionment_list"))
