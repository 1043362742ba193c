"""REST endpoints of the window's settings under /api/v1/payments/: an estate's small-change
rounding, prepayment cap and receipt paper; pay-ahead offers (make, list, end). Finance and
supervisors change them, as on the page (`/payments/settings/`)."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from wuye.audit.idempotency import idempotent
from wuye.core.errors import PermissionDenied as DomainPermissionDenied
from wuye.core.params import query_id
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate
from wuye.registry.selectors import get_scoped, scope
from wuye.registry.serializers import ScopedRelatedField

from . import services
from .models import CashierSettings, PrepaymentOffer
from .services._common import settings_of


class _Perm(GenericAPIView):
    permission_classes = [IsAuthenticated]
    perm = ""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.perm and not request.user.has_perm(self.perm):
            raise DomainPermissionDenied(f"missing permission {self.perm}")


class SettingsOut(serializers.ModelSerializer):
    class Meta:
        model = CashierSettings
        fields = [
            "estate",
            "round_small_change",
            "round_unit",
            "prepayment_cap_months",
            "receipt_paper",
            "receipt_note",
        ]
        read_only_fields = fields


class SettingsIn(serializers.Serializer):
    round_small_change = serializers.BooleanField(required=False)
    round_unit = serializers.ChoiceField(choices=CashierSettings.RoundUnit.choices, required=False)
    prepayment_cap_months = serializers.IntegerField(required=False, allow_null=True)
    receipt_paper = serializers.ChoiceField(choices=CashierSettings.Paper.choices, required=False)
    receipt_note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class OfferOut(serializers.ModelSerializer):
    class Meta:
        model = PrepaymentOffer
        fields = [
            "id",
            "estate",
            "fee_item",
            "name",
            "min_months",
            "discount_rate",
            "free_months",
            "valid_from",
            "valid_until",
            "none_while_in_arrears",
            "is_active",
        ]
        read_only_fields = fields


class OfferIn(serializers.Serializer):
    estate = ScopedRelatedField(queryset=Estate.objects.all(), scope_field="id")
    fee_item = ScopedRelatedField(queryset=FeeItem.objects.all())
    name = serializers.CharField(max_length=100)
    min_months = serializers.IntegerField(min_value=1)
    discount_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, help_text="a share: 0.05 is 5 percent off"
    )
    free_months = serializers.IntegerField(min_value=0, required=False, default=0)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    none_while_in_arrears = serializers.BooleanField(required=False, default=True)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class WindowSettings(_Perm):
    """An estate's window settings (defaults when never set); PUT changes them (finance)."""

    perm = "payments.view_cashiersettings"
    serializer_class = SettingsOut

    def estate(self, pk: int) -> Estate:
        return get_scoped(Estate.objects.all(), self.request.user, "id", pk=pk)

    def get(self, request: Request, estate_pk: int) -> Response:
        return Response(SettingsOut(settings_of(self.estate(estate_pk).pk)).data)

    @extend_schema(request=SettingsIn, responses=SettingsOut)
    @idempotent
    def put(self, request: Request, estate_pk: int) -> Response:
        saved = services.cashier_settings_update(
            actor=request.user, estate=self.estate(estate_pk), **_valid(SettingsIn, request)
        )
        return Response(SettingsOut(saved).data)


class OfferList(_Perm):
    """Pay-ahead offers of your estates (`?estate=`); make one (payments.add_prepaymentoffer)."""

    perm = "payments.view_prepaymentoffer"
    serializer_class = OfferOut
    pagination_class = None  # a few offers per estate: one list, as the schema says
    queryset = PrepaymentOffer.objects.none()  # for the schema; reads are scoped below

    @extend_schema(operation_id="payments_offers_list", responses=OfferOut(many=True))
    def get(self, request: Request) -> Response:
        qs = scope(PrepaymentOffer.objects.all(), request.user)
        if estate := query_id(request.query_params, "estate"):
            qs = qs.filter(estate_id=estate)
        return Response(OfferOut(qs.order_by("estate_id", "-is_active", "id"), many=True).data)

    @extend_schema(request=OfferIn, responses={201: OfferOut})
    @idempotent
    def post(self, request: Request) -> Response:
        offer = services.prepayment_offer_create(actor=request.user, **_valid(OfferIn, request))
        return Response(OfferOut(offer).data, status=status.HTTP_201_CREATED)


class OfferEnd(_Perm):
    """End an offer (what it granted stays granted)."""

    serializer_class = OfferOut

    @extend_schema(request=None, responses=OfferOut)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        offer = get_scoped(PrepaymentOffer.objects.all(), request.user, pk=pk)
        return Response(
            OfferOut(services.prepayment_offer_end(actor=request.user, offer=offer)).data
        )


urlpatterns = [
    path(
        "payments/settings/<int:estate_pk>/",
        WindowSettings.as_view(),
        name="payments-window-settings",
    ),
    path("payments/offers/", OfferList.as_view(), name="payments-offer-list"),
    path("payments/offers/<int:pk>/end/", OfferEnd.as_view(), name="payments-offer-end"),
]
