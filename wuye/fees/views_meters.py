"""Meter setup pages: the meter list, registering a meter (a unit's or a shared one),
replacing it with final and initial readings, retiring it, the units a shared meter covers.
Thin: one service each (wuye.fees.services.meter_setup)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.core.normalize import clean_text
from wuye.core.params import query_id
from wuye.registry.selectors import estates_for, get_scoped

from . import forms, selectors, services
from .models import Meter


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
@permission_required("fees.view_meter", raise_exception=True)
def meter_list(request):
    estate_id = query_id(request.GET, "estate")
    status = request.GET.get("status", "active")
    meters = selectors.meters_for(request.user, estate_id=estate_id).annotate(
        shared_count=Count("shared_units")
    )
    if status in ("active", "retired"):
        meters = meters.filter(is_active=status == "active")
    q = clean_text(request.GET.get("q", ""))
    if q:
        meters = meters.filter(Q(serial__icontains=q) | Q(unit__number__icontains=q))
    page = Paginator(meters.order_by("estate_id", "serial"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "fees/meter_list.html",
        {
            "page": page,
            "estates": estates_for(request.user),
            "estate_id": estate_id,
            "status": status,
            "statuses": [("active", _("In use")), ("retired", _("Retired"))],
            "q": q,
        },
    )


@login_required
@permission_required("fees.add_meter", raise_exception=True)
def meter_new(request):
    initial = {"scope": "unit", "installed_on": timezone.localdate()}
    if (estate_id := query_id(request.GET, "estate")) is not None:
        initial["estate"] = estate_id
    form = forms.MeterForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meter = services.meter_register(
                actor=request.user,
                estate=data["estate"],
                serial=data["serial"],
                fee_item=data["fee_item"],
                unit=data["unit"],
                shared_units=data["units"],
                installed_on=data["installed_on"],
                initial_reading=data["initial_reading"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Meter %(serial)s registered.") % {"serial": meter.serial})
            return redirect("fees:meter_detail", pk=meter.pk)
    return render(request, "core/form.html", {"form": form, "title": _("Register a meter")})


@login_required
@permission_required("fees.view_meter", raise_exception=True)
def meter_detail(request, pk: int):
    meter = get_scoped(
        Meter.objects.select_related("unit", "fee_item", "estate", "replaces"), request.user, pk=pk
    )
    action = request.POST.get("action", "")
    today = timezone.localdate()
    replace = forms.MeterReplaceForm(
        request.POST if action == "replace" else None, initial={"on": today}, prefix="replace"
    )
    retire = forms.MeterRetireForm(
        request.POST if action == "retire" else None, initial={"on": today}, prefix="retire"
    )
    shared = forms.SharedUnitsForm(
        request.POST if action == "units" else None,
        initial={"units": ", ".join(meter.shared_units.values_list("number", flat=True))},
        prefix="units",
    )
    if request.method == "POST":
        if not request.user.has_perm("fees.change_meter"):
            messages.error(request, _("Your role may not change meters."))
            return redirect("fees:meter_detail", pk=meter.pk)
        done = _act(request, meter, action, replace, retire, shared)
        if done is not None:
            return done
    readings = meter.readings.order_by("-read_on", "-id")[:20]
    return render(
        request,
        "fees/meter_detail.html",
        {
            "meter": meter,
            "readings": readings,
            "replace": replace,
            "retire": retire,
            "shared": shared,
            "successor": getattr(meter, "replaced_by", None),
            "shared_units": meter.shared_units.order_by("number")[:200],
        },
    )


def _act(request, meter, action, replace, retire, shared):
    """Run the posted action; a redirect when done, None to show the forms again."""
    try:
        if action == "replace" and replace.is_valid():
            new = services.meter_replace(actor=request.user, meter=meter, **replace.cleaned_data)
            messages.success(
                request,
                _("Meter %(old)s replaced by %(new)s.") % {"old": meter.serial, "new": new.serial},
            )
            return redirect("fees:meter_detail", pk=new.pk)
        if action == "retire" and retire.is_valid():
            services.meter_retire(actor=request.user, meter=meter, **retire.cleaned_data)
            messages.success(request, _("Meter %(serial)s retired.") % {"serial": meter.serial})
            return redirect("fees:meter_detail", pk=meter.pk)
        if action == "units" and shared.is_valid():
            units, unknown = forms.units_named(meter.estate, shared.cleaned_data["units"])
            if unknown:
                shared.add_error(
                    "units",
                    _("No such unit in this estate: %(units)s")
                    % {"units": ", ".join(unknown[:10])},
                )
                return None
            services.meter_shared_units_set(actor=request.user, meter=meter, units=units)
            messages.success(request, _("Saved."))
            return redirect("fees:meter_detail", pk=meter.pk)
    except DomainError as exc:
        form = {"replace": replace, "retire": retire, "units": shared}[action]
        _form_error(form, exc)
    return None
