"""Setup pages of the window (finance, supervisors): an estate's small-change rounding,
prepayment cap and receipt paper, and its pay-ahead offers. Thin: one service each."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.params import query_id
from wuye.registry.selectors import estates_for, get_scoped

from . import services
from .forms_settings import CashierSettingsForm, OfferForm
from .models import PrepaymentOffer
from .services._common import settings_of


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _here(estate_id: int) -> str:
    return f"{reverse('payments:settings')}?estate={estate_id}"


@login_required
@permission_required("payments.view_cashiersettings", raise_exception=True)
def window_settings(request):
    estates = estates_for(request.user)
    estate = estates.filter(pk=query_id(request.GET, "estate")).first() or estates.first()
    if estate is None:
        return render(request, "payments/settings.html", {"estates": estates})
    current = settings_of(estate.pk)
    can_change = request.user.has_perm("payments.change_cashiersettings")
    form = CashierSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={
            "round_small_change": current.round_small_change,
            "round_unit": current.round_unit,
            "prepayment_cap_months": current.prepayment_cap_months,
            "receipt_paper": current.receipt_paper,
            "receipt_note": current.receipt_note,
        },
    )
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and can_change and form.is_valid():
        try:
            services.cashier_settings_update(actor=request.user, estate=estate, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, _("Window settings of %(estate)s saved.") % {"estate": estate}
            )
            return redirect(_here(estate.pk))
    offers = (
        PrepaymentOffer.objects.filter(estate=estate)
        .select_related("fee_item")
        .order_by("-is_active", "fee_item__code", "-min_months", "id")
    )
    return render(
        request,
        "payments/settings.html",
        {
            "estates": estates,
            "estate": estate,
            "form": form,
            "can_change": can_change,
            "offers": offers,
        },
    )


@login_required
@permission_required("payments.add_prepaymentoffer", raise_exception=True)
def offer_create(request):
    initial = {"estate": query_id(request.GET, "estate"), "none_while_in_arrears": True}
    form = OfferForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["discount_rate"] = data.pop("discount_percent") / 100
        try:
            offer = services.prepayment_offer_create(actor=request.user, **data)
        except DomainError as exc:
            if exc.field == "discount_rate":
                form.add_error("discount_percent", exc.message)
            else:
                _form_error(form, exc)
        else:
            messages.success(request, _("Offer %(name)s created.") % {"name": offer.name})
            return redirect(_here(offer.estate_id))
    return render(request, "core/form.html", {"form": form, "title": _("New pay-ahead offer")})


@require_POST
@login_required
@permission_required("payments.change_prepaymentoffer", raise_exception=True)
def offer_end(request, pk: int):
    offer = get_scoped(PrepaymentOffer.objects.all(), request.user, pk=pk)
    try:
        services.prepayment_offer_end(actor=request.user, offer=offer)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Offer %(name)s ended.") % {"name": offer.name})
    return redirect(_here(offer.estate_id))
