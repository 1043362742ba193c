"""REST endpoints of fees under /api/v1/: fee items and fee standards, estate-scoped.

Reads need fees.view_*; creating an item or a draft standard needs fees.add_*; approving and
publishing are POSTs to `<id>/approve/` and `<id>/publish/`, whose permissions
(fees.approve_feestandard, fees.publish_feestandard) the services check. Writes honour
`Idempotency-Key`."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from wuye.audit.idempotency import idempotent
from wuye.core.params import query_id
from wuye.registry.selectors import get_scoped

from . import selectors, services
from . import serializers as s
from .models import FeeItem, FeeStandard, Meter

ESTATE = OpenApiParameter("estate", OpenApiTypes.INT, description="estate id")
FEE_ITEM = OpenApiParameter("fee_item", OpenApiTypes.INT, description="fee item id")
STATUS = OpenApiParameter("status", OpenApiTypes.STR, enum=FeeStandard.Status.values)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _int_param(request: Request, name: str) -> int | None:
    return query_id(request.query_params, name)


class FeeItemList(ListModelMixin, GenericAPIView):
    """Fee items of your estates (`?estate=`); create one (fees.add_feeitem)."""

    serializer_class = s.FeeItemOutput

    def get_queryset(self):
        return selectors.fee_items_for(
            self.request.user, estate_id=_int_param(self.request, "estate")
        )

    @extend_schema(parameters=[ESTATE])
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(request=s.FeeItemInput, responses={201: s.FeeItemOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        item = services.fee_item_create(actor=request.user, **_valid(s.FeeItemInput, request))
        return Response(s.FeeItemOutput(item).data, status=status.HTTP_201_CREATED)


class FeeItemDetail(GenericAPIView):
    """One fee item."""

    serializer_class = s.FeeItemOutput
    queryset = FeeItem.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(
            s.FeeItemOutput(get_scoped(FeeItem.objects.all(), request.user, pk=pk)).data
        )


class FeeStandardList(ListModelMixin, GenericAPIView):
    """Fee standards of your estates (`?estate=`, `?fee_item=`, `?status=`); create a draft
    (fees.add_feestandard): the version is the next one of the item and unit type."""

    serializer_class = s.FeeStandardOutput

    def get_queryset(self):
        qs = selectors.standards_for(
            self.request.user, estate_id=_int_param(self.request, "estate")
        )
        item = _int_param(self.request, "fee_item")
        if item:
            qs = qs.filter(fee_item_id=item)
        wanted = self.request.query_params.get("status", "")
        if wanted in FeeStandard.Status.values:
            qs = qs.filter(status=wanted)
        return qs

    @extend_schema(parameters=[ESTATE, FEE_ITEM, STATUS])
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(request=s.FeeStandardInput, responses={201: s.FeeStandardOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        std = services.standard_create(actor=request.user, **_valid(s.FeeStandardInput, request))
        return Response(s.FeeStandardOutput(std).data, status=status.HTTP_201_CREATED)


class FeeStandardDetail(GenericAPIView):
    """One fee standard (with the link to its public notice once published)."""

    serializer_class = s.FeeStandardOutput
    queryset = FeeStandard.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        std = get_scoped(FeeStandard.objects.select_related("fee_item"), request.user, pk=pk)
        return Response(s.FeeStandardOutput(std).data)


class _StandardAction(GenericAPIView):
    # The service checks the action's own permission (approve/publish/withdraw).
    permission_classes = [IsAuthenticated]
    serializer_class = s.FeeStandardOutput

    def standard(self, pk: int) -> FeeStandard:
        return get_scoped(FeeStandard.objects.select_related("fee_item"), self.request.user, pk=pk)


class FeeStandardApprove(_StandardAction):
    """Approve a draft (fees.approve_feestandard: supervisors)."""

    @extend_schema(request=None, responses=s.FeeStandardOutput)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        std = services.standard_approve(actor=request.user, standard=self.standard(pk))
        return Response(s.FeeStandardOutput(std).data)


class FeeStandardPublish(_StandardAction):
    """Publish an approved standard: ends the previous version, generates the notice PDF."""

    @extend_schema(request=None, responses=s.FeeStandardOutput)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        std = services.standard_publish(actor=request.user, standard=self.standard(pk))
        return Response(s.FeeStandardOutput(std).data)


class FeeStandardWithdraw(_StandardAction):
    """Withdraw a standard, saying why."""

    @extend_schema(request=s.WithdrawInput, responses=s.FeeStandardOutput)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.WithdrawInput, request)
        std = services.standard_withdraw(
            actor=request.user, standard=self.standard(pk), reason=data["reason"]
        )
        return Response(s.FeeStandardOutput(std).data)


class MeterList(ListModelMixin, GenericAPIView):
    """Meters of your estates (`?estate=`, `?active=1|0`); register one (fees.add_meter): a
    unit's own (`unit`) or a shared master meter (`shared_units`, none: every unit), with
    its first reading."""

    serializer_class = s.MeterOutput

    def get_queryset(self):
        qs = selectors.meters_for(
            self.request.user, estate_id=_int_param(self.request, "estate")
        ).prefetch_related("shared_units")
        active = self.request.query_params.get("active")
        if active in ("0", "1"):
            qs = qs.filter(is_active=active == "1")
        return qs.order_by("estate_id", "serial")

    @extend_schema(parameters=[ESTATE])
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(request=s.MeterInput, responses={201: s.MeterOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.MeterInput, request)
        meter = services.meter_register(
            actor=request.user,
            estate=data["estate"],
            serial=data["serial"],
            fee_item=data["fee_item"],
            unit=data.get("unit"),
            shared_units=data.get("shared_units") or [],
            installed_on=data.get("installed_on"),
            initial_reading=data.get("initial_reading") or None,
        )
        return Response(s.MeterOutput(meter).data, status=status.HTTP_201_CREATED)


class _MeterAction(GenericAPIView):
    # The service checks fees.change_meter.
    permission_classes = [IsAuthenticated]
    serializer_class = s.MeterOutput

    def meter(self, pk: int) -> Meter:
        return get_scoped(Meter.objects.all(), self.request.user, pk=pk)


class MeterDetail(_MeterAction):
    """One meter."""

    permission_classes = GenericAPIView.permission_classes
    queryset = Meter.objects.all()

    def get(self, request: Request, pk: int) -> Response:
        return Response(s.MeterOutput(self.meter(pk)).data)


class MeterReplace(_MeterAction):
    """Replace the meter: its final reading, the new meter with its initial reading the same
    day. Answers the new meter."""

    @extend_schema(request=s.MeterReplaceInput, responses={201: s.MeterOutput})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        new = services.meter_replace(
            actor=request.user, meter=self.meter(pk), **_valid(s.MeterReplaceInput, request)
        )
        return Response(s.MeterOutput(new).data, status=status.HTTP_201_CREATED)


class MeterRetire(_MeterAction):
    """Take the meter out of use, after its final reading if given."""

    @extend_schema(request=s.MeterRetireInput, responses=s.MeterOutput)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.MeterRetireInput, request)
        meter = services.meter_retire(
            actor=request.user,
            meter=self.meter(pk),
            on=data["on"],
            final_reading=data.get("final_reading") or None,
        )
        return Response(s.MeterOutput(meter).data)


class MeterUnits(_MeterAction):
    """Set the units a shared master meter is apportioned over (empty: every unit)."""

    @extend_schema(request=s.MeterUnitsInput, responses=s.MeterOutput)
    @idempotent
    def put(self, request: Request, pk: int) -> Response:
        data = _valid(s.MeterUnitsInput, request)
        meter = services.meter_shared_units_set(
            actor=request.user, meter=self.meter(pk), units=list(data["units"])
        )
        return Response(s.MeterOutput(meter).data)


urlpatterns = [
    path("meters/", MeterList.as_view(), name="meter-list"),
    path("meters/<int:pk>/", MeterDetail.as_view(), name="meter-detail"),
    path("meters/<int:pk>/replace/", MeterReplace.as_view(), name="meter-replace"),
    path("meters/<int:pk>/retire/", MeterRetire.as_view(), name="meter-retire"),
    path("meters/<int:pk>/units/", MeterUnits.as_view(), name="meter-units"),
    path("fee-items/", FeeItemList.as_view(), name="fee-item-list"),
    path("fee-items/<int:pk>/", FeeItemDetail.as_view(), name="fee-item-detail"),
    path("fee-standards/", FeeStandardList.as_view(), name="fee-standard-list"),
    path("fee-standards/<int:pk>/", FeeStandardDetail.as_view(), name="fee-standard-detail"),
    path(
        "fee-standards/<int:pk>/approve/",
        FeeStandardApprove.as_view(),
        name="fee-standard-approve",
    ),
    path(
        "fee-standards/<int:pk>/publish/",
        FeeStandardPublish.as_view(),
        name="fee-standard-publish",
    ),
    path(
        "fee-standards/<int:pk>/withdraw/",
        FeeStandardWithdraw.as_view(),
        name="fee-standard-withdraw",
    ),
]
