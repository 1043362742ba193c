"""REST endpoints of the registry under /api/v1/ (URL names in the `api` namespace).

Thin, in the HackSoft style: parse with an input serializer, call one service (writes) or
selector (reads), answer with an output serializer. Permissions are the Django model permissions
of the staff UI (`wuye.core.api_permissions.ModelPermissions`: view_* for reads, add_*/change_*
for writes); every read goes through the selectors' estate scoping, so another estate's object
is a 404 and never appears in a list. Writes honour `Idempotency-Key` (wuye.audit.idempotency).

Phones and ID numbers are masked in every response. `?reveal=1` on a read, for a user with
`registry.view_pii`, shows them in full and audits each revealed party ("unmask"); without the
permission it is a 403. Write responses are always masked: a reveal is a deliberate read, and a
stored idempotent replay must not hold personal data in clear.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from wuye.audit.idempotency import idempotent
from wuye.core.errors import DomainError
from wuye.core.errors import PermissionDenied as DomainPermissionDenied

from . import filters, selectors, services
from . import serializers as s
from .models import Building, Estate, OwnerNote, Party, ServiceContract, Unit, UnitParty

REVEAL = OpenApiParameter(
    "reveal",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    required=False,
    description="1 to show full phone and ID numbers (needs registry.view_pii; audited).",
)


def _valid(serializer_class, request: Request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _ListView(ListModelMixin, GenericAPIView):
    # A paginated list of get_queryset() after the (selector-backed) FilterSet. (A comment, not
    # a docstring: the schema would show it for every subclass.)

    def list_response(self, queryset, **context) -> Response:
        page = self.paginate_queryset(queryset)
        data = self.get_serializer_class()(page, many=True, context=context).data
        return self.get_paginated_response(data)

    def get(self, request: Request, *args, **kwargs) -> Response:
        return self.list(request, *args, **kwargs)


class _DetailView(GenericAPIView):
    # One object of the user's estates, or 404 (never 403: another estate does not exist).

    scope_field = "estate_id"

    def get_object(self):
        return selectors.get_scoped(
            self.get_queryset(), self.request.user, self.scope_field, pk=self.kwargs["pk"]
        )

    def get(self, request: Request, *args, **kwargs) -> Response:
        return Response(self.get_serializer_class()(self.get_object()).data)


# --- estates ---------------------------------------------------------------------------------
class EstateList(_ListView):
    """Active estates you work for; create one (registry.add_estate)."""

    serializer_class = s.EstateOutput

    def get_queryset(self):
        return selectors.estates_for(self.request.user)

    @extend_schema(request=s.EstateInput, responses={201: s.EstateOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.EstateInput, request)
        estate = services.estate_create(actor=request.user, **data)
        return Response(s.EstateOutput(estate).data, status=status.HTTP_201_CREATED)


class EstateDetail(_DetailView):
    """One estate; change it (registry.change_estate)."""

    serializer_class = s.EstateOutput
    scope_field = "id"

    def get_queryset(self):
        return Estate.objects.all()

    @extend_schema(request=s.EstateInput, responses=s.EstateOutput)
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        estate = self.get_object()
        data = _valid(s.EstateInput, request, instance=estate, partial=True)
        estate = services.estate_update(actor=request.user, estate=estate, **data)
        return Response(s.EstateOutput(estate).data)


class EstateCollectionAccount(_DetailView):
    """The estate's collection bank account printed on notices (registry.change_collection_
    account: finance); all three parts empty clear it."""

    serializer_class = s.EstateOutput
    scope_field = "id"
    permission_classes = [IsAuthenticated]  # the service checks its own permission

    def get_queryset(self):
        return Estate.objects.all()

    @extend_schema(request=s.CollectionAccountInput, responses=s.EstateOutput)
    @idempotent
    def put(self, request: Request, pk: int) -> Response:
        estate = services.estate_collection_account_set(
            actor=request.user,
            estate=self.get_object(),
            **_valid(s.CollectionAccountInput, request),
        )
        return Response(s.EstateOutput(estate).data)


# --- buildings -------------------------------------------------------------------------------
class BuildingList(_ListView):
    """Buildings of your estates; create one (registry.add_building)."""

    serializer_class = s.BuildingOutput
    filterset_class = filters.BuildingFilterSet

    def get_queryset(self):
        return selectors.scope(Building.objects.all(), self.request.user)

    @extend_schema(request=s.BuildingInput, responses={201: s.BuildingOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.BuildingInput, request)
        building = services.building_create(actor=request.user, **data)
        return Response(s.BuildingOutput(building).data, status=status.HTTP_201_CREATED)


class BuildingDetail(_DetailView):
    """One building."""

    serializer_class = s.BuildingOutput

    def get_queryset(self):
        return Building.objects.all()


# --- units -----------------------------------------------------------------------------------
class UnitList(_ListView):
    """Units of your estates, searched by number, owner name or phone tail; create one."""

    serializer_class = s.UnitOutput
    filterset_class = filters.UnitFilterSet

    def get_queryset(self):
        return selectors.unit_search(self.request.user)

    @extend_schema(request=s.UnitInput, responses={201: s.UnitOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.UnitInput, request)
        unit = services.unit_create(actor=request.user, **data)
        return Response(s.UnitOutput(unit).data, status=status.HTTP_201_CREATED)


class UnitDetail(_DetailView):
    """One unit; change some of its fields (registry.change_unit)."""

    serializer_class = s.UnitOutput

    def get_queryset(self):
        return Unit.objects.select_related("building")

    @extend_schema(request=s.UnitInput, responses=s.UnitOutput)
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        unit = self.get_object()
        data = _valid(s.UnitInput, request, instance=unit, partial=True)
        unit = services.unit_update(actor=request.user, unit=unit, **data)
        return Response(s.UnitOutput(unit).data)


class UnitPartyList(_ListView):
    """Owners and tenants of one unit, past and present, in date order."""

    serializer_class = s.UnitPartyOutput

    def get_queryset(self):
        return selectors.scope(UnitParty.objects.select_related("party"), self.request.user)

    def unit(self) -> Unit:
        return selectors.get_scoped(
            Unit.objects.all(), self.request.user, pk=self.kwargs["unit_pk"]
        )

    def get(self, request: Request, unit_pk: int) -> Response:
        return self.list_response(self.get_queryset().filter(unit=self.unit()))

    @extend_schema(request=s.UnitPartyInput, responses={201: s.UnitPartyOutput})
    @idempotent
    def post(self, request: Request, unit_pk: int) -> Response:
        unit = self.unit()
        data = _valid(s.UnitPartyInput, request)
        relation = services.unit_party_add(actor=request.user, unit=unit, **data)
        return Response(s.UnitPartyOutput(relation).data, status=status.HTTP_201_CREATED)


# --- parties ---------------------------------------------------------------------------------
def _wants_reveal(request: Request) -> bool:
    reveal = request.query_params.get("reveal", "").lower() in {"1", "true", "yes"}
    if reveal and not request.user.has_perm("registry.view_pii"):
        raise DomainPermissionDenied(_("your role may not see full phone and ID numbers"))
    return reveal


def _party_data(request: Request, parties, *, reveal: bool = False, many: bool = False):
    """Serialise parties with their contacts masked, or revealed (and audited) one by one."""
    items = list(parties) if many else [parties]
    contacts = {
        p.pk: services.party_contact_view(actor=request.user, party=p, reveal=reveal) for p in items
    }
    return s.PartyOutput(parties, many=many, context={"contacts": contacts}).data


class PartyList(_ListView):
    """Owners, tenants and payers of your estates, phones and ID numbers masked; create one."""

    serializer_class = s.PartyOutput
    filterset_class = filters.PartyFilterSet

    def get_queryset(self):
        return selectors.party_search(self.request.user)

    @extend_schema(parameters=[REVEAL])
    def get(self, request: Request) -> Response:
        reveal = _wants_reveal(request)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(_party_data(request, page, reveal=reveal, many=True))

    @extend_schema(request=s.PartyInput, responses={201: s.PartyOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.PartyInput, request)
        party = services.party_create(actor=request.user, **data)
        return Response(_party_data(request, party), status=status.HTTP_201_CREATED)


class PartyDetail(_DetailView):
    """One party, masked unless `?reveal=1`; change some of its fields."""

    serializer_class = s.PartyOutput

    def get_queryset(self):
        return Party.objects.all()

    @extend_schema(parameters=[REVEAL])
    def get(self, request: Request, pk: int) -> Response:
        reveal = _wants_reveal(request)
        return Response(_party_data(request, self.get_object(), reveal=reveal))

    @extend_schema(request=s.PartyUpdateInput, responses=s.PartyOutput)
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        party = self.get_object()
        data = _valid(s.PartyUpdateInput, request, instance=party, partial=True)
        party = services.party_update(actor=request.user, party=party, **data)
        return Response(_party_data(request, party))


class OwnerNoteList(_ListView):
    """What other departments learned about an owner, as far as the reader's role may see."""

    serializer_class = s.OwnerNoteOutput

    def get_queryset(self):
        return selectors.scope(OwnerNote.objects.all(), self.request.user)

    def party(self) -> Party:
        return selectors.get_scoped(
            Party.objects.all(), self.request.user, pk=self.kwargs["party_pk"]
        )

    def get(self, request: Request, party_pk: int) -> Response:
        return self.list_response(selectors.notes_visible_to(request.user, self.party()))

    @extend_schema(request=s.OwnerNoteInput, responses={201: s.OwnerNoteOutput})
    @idempotent
    def post(self, request: Request, party_pk: int) -> Response:
        party = self.party()
        data = _valid(s.OwnerNoteInput, request)
        if data.get("unit") is not None and data["unit"].estate_id != party.estate_id:
            raise DomainError(_("the unit belongs to another estate"), field="unit")
        note = services.owner_note_add(actor=request.user, party=party, **data)
        return Response(s.OwnerNoteOutput(note).data, status=status.HTTP_201_CREATED)


# --- service contracts ----------------------------------------------------------------------
class ContractList(_ListView):
    """Property service contracts of your estates; create one."""

    serializer_class = s.ContractOutput
    filterset_class = filters.ContractFilterSet

    def get_queryset(self):
        return selectors.scope(ServiceContract.objects.all(), self.request.user)

    @extend_schema(request=s.ContractInput, responses={201: s.ContractOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.ContractInput, request)
        contract = services.contract_create(actor=request.user, **data)
        return Response(s.ContractOutput(contract).data, status=status.HTTP_201_CREATED)


class ContractDetail(_DetailView):
    """One service contract with its late-fee clause; change it."""

    serializer_class = s.ContractOutput

    def get_queryset(self):
        return ServiceContract.objects.all()

    @extend_schema(request=s.ContractUpdateInput, responses=s.ContractOutput)
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        contract = self.get_object()
        data = _valid(s.ContractUpdateInput, request, instance=contract, partial=True)
        contract = services.contract_update(actor=request.user, contract=contract, **data)
        return Response(s.ContractOutput(contract).data)


urlpatterns = [
    path("estates/", EstateList.as_view(), name="estate-list"),
    path("estates/<int:pk>/", EstateDetail.as_view(), name="estate-detail"),
    path(
        "estates/<int:pk>/collection-account/",
        EstateCollectionAccount.as_view(),
        name="estate-collection-account",
    ),
    path("buildings/", BuildingList.as_view(), name="building-list"),
    path("buildings/<int:pk>/", BuildingDetail.as_view(), name="building-detail"),
    path("units/", UnitList.as_view(), name="unit-list"),
    path("units/<int:pk>/", UnitDetail.as_view(), name="unit-detail"),
    path("units/<int:unit_pk>/parties/", UnitPartyList.as_view(), name="unit-party-list"),
    path("parties/", PartyList.as_view(), name="party-list"),
    path("parties/<int:pk>/", PartyDetail.as_view(), name="party-detail"),
    path("parties/<int:party_pk>/notes/", OwnerNoteList.as_view(), name="party-note-list"),
    path("contracts/", ContractList.as_view(), name="contract-list"),
    path("contracts/<int:pk>/", ContractDetail.as_view(), name="contract-detail"),
]
