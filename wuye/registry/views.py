"""Staff pages of the registry: parse, call a selector or a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.errors import DomainError
from wuye.core.errors import PermissionDenied as DomainPermissionDenied
from wuye.core.params import filters_valid, query_id

from . import events, forms, selectors, services
from .models import Building, Estate, Party, ServiceContract, Unit, UnitParty

PAGE_SIZE = 50


def _paginate(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _form_error(form, err: DomainError) -> None:
    field = err.field if err.field in form.fields else None
    form.add_error(field, err.message)


def _form_page(request, form, *, title: str, save, success, next_url):
    """The create/edit page pattern: on a valid POST call `save(cleaned_data)` (a service),
    then say `success(saved)` and go to `next_url(saved)`; a DomainError goes onto the form."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(dict(form.cleaned_data))
        except DomainError as err:
            _form_error(form, err)
        else:
            messages.success(request, success(saved))
            return redirect(next_url(saved))
    return render(request, "registry/form.html", {"form": form, "title": title})


@login_required
@permission_required("registry.view_estate", raise_exception=True)
def estate_list(request):
    estates = selectors.estates_for(request.user).annotate(
        unit_count=Count("units", distinct=True), building_count=Count("buildings", distinct=True)
    )
    return render(request, "registry/estate_list.html", {"estates": estates})


@login_required
@permission_required("registry.view_estate", raise_exception=True)
def estate_detail(request, pk):
    estate = selectors.get_scoped(Estate.objects.all(), request.user, "id", pk=pk)
    buildings = estate.buildings.annotate(unit_count=Count("units"))
    contracts = estate.contracts.all()
    return render(
        request,
        "registry/estate_detail.html",
        {"estate": estate, "buildings": buildings, "contracts": contracts},
    )


@login_required
@permission_required("registry.add_estate", raise_exception=True)
def estate_create(request):
    return _form_page(
        request,
        forms.EstateCreateForm(request.POST or None),
        title=_("New estate"),
        save=lambda data: services.estate_create(actor=request.user, **data),
        success=lambda e: _("Estate %(name)s created.") % {"name": e.name},
        next_url=lambda e: reverse("registry:estate_detail", args=[e.pk]),
    )


@login_required
@permission_required("registry.add_building", raise_exception=True)
def building_create(request, pk):
    estate = selectors.get_scoped(Estate.objects.all(), request.user, "id", pk=pk)
    return _form_page(
        request,
        forms.BuildingForm(request.POST or None),
        title=_("New building in %(estate)s") % {"estate": estate.name},
        save=lambda data: services.building_create(actor=request.user, estate=estate, **data),
        success=lambda b: _("Building %(name)s created.") % {"name": b.name},
        next_url=lambda b: reverse("registry:estate_detail", args=[estate.pk]),
    )


@login_required
@permission_required("registry.add_servicecontract", raise_exception=True)
def contract_create(request, pk):
    estate = selectors.get_scoped(Estate.objects.all(), request.user, "id", pk=pk)
    return _form_page(
        request,
        forms.ContractForm(request.POST or None),
        title=_("New service contract of %(estate)s") % {"estate": estate.name},
        save=lambda data: services.contract_create(actor=request.user, estate=estate, **data),
        success=lambda c: _("Contract %(n)s recorded.") % {"n": c.number},
        next_url=lambda c: reverse("registry:estate_detail", args=[estate.pk]),
    )


@login_required
@permission_required("registry.change_estate", raise_exception=True)
def estate_edit(request, pk):
    estate = selectors.get_scoped(Estate.objects.all(), request.user, "id", pk=pk)
    return _form_page(
        request,
        forms.EstateForm(request.POST or None, instance=Estate.objects.get(pk=pk)),
        title=_("Estate %(name)s") % {"name": estate.name},
        save=lambda data: services.estate_update(actor=request.user, estate=estate, **data),
        success=lambda _e: _("Saved."),
        next_url=lambda e: reverse("registry:estate_detail", args=[e.pk]),
    )


@login_required
@permission_required("registry.change_collection_account", raise_exception=True)
def estate_account(request, pk):
    """The collection bank account printed on notices (finance)."""
    estate = selectors.get_scoped(Estate.objects.all(), request.user, "id", pk=pk)
    form = forms.CollectionAccountForm(
        request.POST or None,
        initial={
            "bank_name": estate.bank_name,
            "bank_account_name": estate.bank_account_name,
            "bank_account_number": estate.bank_account_number,
        },
    )
    return _form_page(
        request,
        form,
        title=_("Collection account of %(name)s") % {"name": estate.name},
        save=lambda data: services.estate_collection_account_set(
            actor=request.user, estate=estate, **data
        ),
        success=lambda _e: _("Saved: notices print this account from now on."),
        next_url=lambda e: reverse("registry:estate_detail", args=[e.pk]),
    )


@login_required
@permission_required("registry.view_unit", raise_exception=True)
def unit_list(request):
    estates = selectors.estates_for(request.user)
    form = forms.UnitFilterForm(request.GET or None, estates=estates)
    data = filters_valid(form) if form.is_bound else {}
    units = selectors.unit_search(
        request.user,
        q=data.get("q", ""),
        estate_id=data.get("estate"),
        unit_type=data.get("unit_type", ""),
        occupancy=data.get("occupancy", ""),
    )
    page = _paginate(request, units)
    payers = selectors.payers_for_units([u.pk for u in page])
    rows = [(u, payers.get(u.pk)) for u in page]
    return render(request, "registry/unit_list.html", {"form": form, "page": page, "rows": rows})


@login_required
@permission_required("registry.view_unit", raise_exception=True)
def unit_detail(request, pk):
    unit = selectors.get_scoped(
        Unit.objects.select_related("building", "estate"), request.user, pk=pk
    )
    relations = (
        UnitParty.objects.filter(unit=unit).select_related("party").order_by("-start_date", "-id")
    )
    form = None
    if request.user.has_perm("registry.add_unitparty"):
        form = forms.UnitPartyForm(parties=Party.objects.filter(estate=unit.estate))
    return render(
        request,
        "registry/unit_detail.html",
        {
            "unit": unit,
            "relations": relations,
            "relation_form": form,
            **events.unit_page(unit=unit, user=request.user),
        },
    )


@login_required
@permission_required("registry.add_unit", raise_exception=True)
def unit_create(request):
    buildings = selectors.scope(Building.objects.select_related("estate"), request.user)

    def save(data):
        return services.unit_create(actor=request.user, building=data.pop("building"), **data)

    return _form_page(
        request,
        forms.UnitForm(request.POST or None, buildings=buildings),
        title=_("New unit"),
        save=save,
        success=lambda u: _("Unit %(number)s created.") % {"number": u.number},
        next_url=lambda u: reverse("registry:unit_detail", args=[u.pk]),
    )


@login_required
@permission_required("registry.change_unit", raise_exception=True)
def unit_edit(request, pk):
    unit = selectors.get_scoped(Unit.objects.all(), request.user, pk=pk)
    form = forms.UnitForm(
        request.POST or None,
        instance=Unit.objects.get(pk=pk),
        buildings=Building.objects.filter(estate_id=unit.estate_id),
    )
    return _form_page(
        request,
        form,
        title=_("Edit unit %(number)s") % {"number": unit.number},
        save=lambda data: services.unit_update(actor=request.user, unit=unit, **data),
        success=lambda _u: _("Saved."),
        next_url=lambda u: reverse("registry:unit_detail", args=[u.pk]),
    )


@login_required
@permission_required("registry.add_unitparty", raise_exception=True)
@require_POST
def unit_party_add(request, pk):
    unit = selectors.get_scoped(Unit.objects.all(), request.user, pk=pk)
    form = forms.UnitPartyForm(request.POST, parties=Party.objects.filter(estate=unit.estate))
    if form.is_valid():
        try:
            services.unit_party_add(actor=request.user, unit=unit, **form.cleaned_data)
            messages.success(request, _("Recorded."))
        except DomainError as err:
            messages.error(request, str(err))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("registry:unit_detail", pk=unit.pk)


@login_required
@permission_required("registry.view_party", raise_exception=True)
def party_list(request):
    estates = selectors.estates_for(request.user)
    parties = selectors.party_search(
        request.user,
        q=request.GET.get("q", ""),
        estate_id=query_id(request.GET, "estate"),
    )
    page = _paginate(request, parties)
    return render(request, "registry/party_list.html", {"page": page, "estates": estates})


@login_required
@permission_required("registry.view_party", raise_exception=True)
def party_detail(request, pk):
    party = selectors.get_scoped(Party.objects.select_related("estate"), request.user, pk=pk)
    contact = services.party_contact_view(actor=request.user, party=party)
    relations = party.relations.select_related("unit").order_by("-start_date")
    notes = selectors.notes_visible_to(request.user, party)
    note_form = forms.OwnerNoteForm() if request.user.has_perm("registry.add_ownernote") else None
    return render(
        request,
        "registry/party_detail.html",
        {
            "party": party,
            "contact": contact,
            "relations": relations,
            "notes": notes,
            "note_form": note_form,
            "can_reveal": request.user.has_perm("registry.view_pii"),
        },
    )


@login_required
@permission_required("registry.view_party", raise_exception=True)
@require_POST
def party_reveal(request, pk):
    """htmx: the full phone and ID numbers, for roles that may see them; audited."""
    party = selectors.get_scoped(Party.objects.all(), request.user, pk=pk)
    try:
        contact = services.party_contact_view(actor=request.user, party=party, reveal=True)
    except DomainPermissionDenied as err:
        return HttpResponseForbidden(err.message)
    return render(request, "registry/_contact.html", {"contact": contact, "revealed": True})


@login_required
@permission_required("registry.add_party", raise_exception=True)
def party_create(request):
    form = forms.PartyCreateForm(request.POST or None, estates=selectors.estates_for(request.user))
    return _form_page(
        request,
        form,
        title=_("New owner"),
        save=lambda data: services.party_create(actor=request.user, **data),
        success=lambda p: _("Owner %(name)s created.") % {"name": p.name},
        next_url=lambda p: reverse("registry:party_detail", args=[p.pk]),
    )


@login_required
@permission_required("registry.change_party", raise_exception=True)
def party_edit(request, pk):
    party = selectors.get_scoped(Party.objects.all(), request.user, pk=pk)
    return _form_page(
        request,
        forms.PartyForm(request.POST or None, instance=Party.objects.get(pk=pk)),
        title=_("Edit owner %(name)s") % {"name": party.name},
        save=lambda data: services.party_update(actor=request.user, party=party, **data),
        success=lambda _p: _("Saved."),
        next_url=lambda p: reverse("registry:party_detail", args=[p.pk]),
    )


@login_required
@permission_required("registry.add_ownernote", raise_exception=True)
@require_POST
def note_add(request, pk):
    party = selectors.get_scoped(Party.objects.all(), request.user, pk=pk)
    form = forms.OwnerNoteForm(request.POST)
    if form.is_valid():
        try:
            services.owner_note_add(actor=request.user, party=party, **form.cleaned_data)
            messages.success(request, _("Note shared with the collection team."))
        except DomainError as err:
            messages.error(request, str(err))
    else:
        messages.error(request, form.errors.as_text())
    return redirect("registry:party_detail", pk=party.pk)


@login_required
@permission_required("registry.change_servicecontract", raise_exception=True)
def contract_edit(request, pk):
    contract = selectors.get_scoped(ServiceContract.objects.all(), request.user, pk=pk)
    form = forms.ContractForm(request.POST or None, instance=ServiceContract.objects.get(pk=pk))
    return _form_page(
        request,
        form,
        title=_("Service contract %(n)s") % {"n": contract.number},
        save=lambda data: services.contract_update(actor=request.user, contract=contract, **data),
        success=lambda _c: _("Saved."),
        next_url=lambda c: reverse("registry:estate_detail", args=[c.estate_id]),
    )
