"""REST endpoints of the online setup under /api/v1/online/: merchant accounts (whether
each is configured on the server, never a credential; a test against the provider or the
sandbox), the fee item routes, and auto-debit mandates (sign-up with the signed form as
multipart, suspend, reinstate, revoke). The rules are the services' (wuye.online.services.
setup): the same roles and estate scoping as the pages."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from wuye.audit.idempotency import idempotent
from wuye.core.errors import PermissionDenied as DomainPermissionDenied
from wuye.core.params import query_id
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate, Party
from wuye.registry.selectors import get_scoped, scope
from wuye.registry.serializers import ScopedRelatedField

from . import services
from .models import BankFileLayout, DebitMandate, MerchantAccount, Provider
from .services import setup


class _Perm(GenericAPIView):
    permission_classes = [IsAuthenticated]
    perm = ""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.perm and not request.user.has_perm(self.perm):
            raise DomainPermissionDenied(f"missing permission {self.perm}")


class MerchantOut(serializers.ModelSerializer):
    configured = serializers.SerializerMethodField()
    missing = serializers.SerializerMethodField()

    class Meta:
        model = MerchantAccount
        fields = [
            "id",
            "estate",
            "provider",
            "code",
            "name",
            "mode",
            "is_default",
            "is_active",
            "configured",
            "missing",
        ]
        read_only_fields = fields

    def get_configured(self, account) -> bool:
        return setup.merchant_configured(account).ok

    def get_missing(self, account) -> list[str]:
        return list(setup.merchant_configured(account).missing)


class MerchantIn(serializers.Serializer):
    estate = ScopedRelatedField(queryset=Estate.objects.all(), scope_field="id")
    provider = serializers.ChoiceField(choices=Provider.choices)
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=100)
    mode = serializers.ChoiceField(choices=MerchantAccount.Mode.choices)
    is_default = serializers.BooleanField(default=False)

    def validate_code(self, code: str) -> str:
        if MerchantAccount.objects.filter(code=code).exists():
            raise serializers.ValidationError("an account with this code exists")
        return code


class TestOut(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class RouteIn(serializers.Serializer):
    fee_item = ScopedRelatedField(queryset=FeeItem.objects.all())
    provider = serializers.ChoiceField(choices=Provider.choices)
    account = ScopedRelatedField(queryset=MerchantAccount.objects.all(), allow_null=True)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class MerchantList(_Perm):
    """Merchant accounts of your estates (`?estate=`) with whether each is configured on the
    server; add one (online.add_merchantaccount)."""

    perm = "online.view_merchantaccount"
    serializer_class = MerchantOut
    pagination_class = None  # a few accounts per estate: one list, as the schema says

    def get_queryset(self):
        qs = scope(MerchantAccount.objects.all(), self.request.user)
        estate = query_id(self.request.query_params, "estate")
        return (qs.filter(estate_id=estate) if estate else qs).order_by("estate_id", "code")

    @extend_schema(responses=MerchantOut(many=True), operation_id="online_merchants_list")
    def get(self, request: Request) -> Response:
        return Response(MerchantOut(self.get_queryset(), many=True).data)

    @extend_schema(request=MerchantIn, responses={201: MerchantOut})
    @idempotent
    def post(self, request: Request) -> Response:
        account = services.merchant_account_create(
            actor=request.user, **_valid(MerchantIn, request)
        )
        return Response(MerchantOut(account).data, status=status.HTTP_201_CREATED)


class MerchantTest(_Perm):
    """Test the account against the provider (or the sandbox): an unknown order is asked for;
    a verified "no such order" is a pass. Audited."""

    serializer_class = TestOut

    @extend_schema(request=None, responses=TestOut)
    def post(self, request: Request, pk: int) -> Response:
        account = get_scoped(MerchantAccount.objects.all(), request.user, pk=pk)
        result = setup.merchant_account_test(actor=request.user, account=account)
        return Response({"ok": result.ok, "message": result.message})


class RouteSet(_Perm):
    """Collect a fee item through an account (`account` null: the estate's default)."""

    serializer_class = RouteIn

    @extend_schema(request=RouteIn, responses={204: None})
    @idempotent
    def put(self, request: Request) -> Response:
        services.merchant_route_set(actor=request.user, **_valid(RouteIn, request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MandateOut(serializers.ModelSerializer):
    account_number = serializers.SerializerMethodField(help_text="masked: ****1234")
    signed_form = serializers.SerializerMethodField()

    class Meta:
        model = DebitMandate
        fields = [
            "id",
            "estate",
            "party",
            "bank",
            "reference",
            "account_name",
            "account_number",
            "limit",
            "status",
            "signed_on",
            "signed_form",
            "created_at",
        ]
        read_only_fields = fields

    def get_account_number(self, mandate) -> str:
        return f"****{mandate.account_tail}"

    def get_signed_form(self, mandate) -> bool:
        return bool(mandate.signed_form)


class MandateIn(serializers.Serializer):
    party = ScopedRelatedField(queryset=Party.objects.all())
    bank = serializers.PrimaryKeyRelatedField(queryset=BankFileLayout.objects.all())
    account_name = serializers.CharField(max_length=100)
    account_number = serializers.CharField(max_length=40)
    limit = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    signed_on = serializers.DateField()
    signed_form = serializers.FileField(required=False)


class MandateList(_Perm):
    """Mandates of your estates (`?estate=`, `?status=`); sign an owner up (multipart with
    the signed form's scan, online.add_debitmandate). Account numbers are masked."""

    perm = "online.view_debitmandate"
    serializer_class = MandateOut
    parser_classes = [MultiPartParser, JSONParser]

    def get_queryset(self):
        qs = scope(DebitMandate.objects.all(), self.request.user)
        params = self.request.query_params
        if estate := query_id(params, "estate"):
            qs = qs.filter(estate_id=estate)
        if params.get("status") in DebitMandate.Status.values:
            qs = qs.filter(status=params["status"])
        return qs.order_by("-created_at", "-id")

    @extend_schema(operation_id="online_mandates_list", responses=MandateOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MandateOut(page, many=True).data)

    @extend_schema(request=MandateIn, responses={201: MandateOut})
    def post(self, request: Request) -> Response:
        data = dict(_valid(MandateIn, request))
        mandate = setup.mandate_sign_up(actor=request.user, **data)
        return Response(MandateOut(mandate).data, status=status.HTTP_201_CREATED)


class _MandateAction(_Perm):
    serializer_class = MandateOut
    service = None

    @extend_schema(request=None, responses=MandateOut)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        mandate = get_scoped(DebitMandate.objects.all(), request.user, pk=pk)
        mandate = type(self).service(actor=request.user, mandate=mandate)
        return Response(MandateOut(mandate).data)


class MandateSuspend(_MandateAction):
    """Pause the debits; batches skip the mandate."""

    service = staticmethod(setup.mandate_suspend)


class MandateReinstate(_MandateAction):
    """Debit a suspended mandate again."""

    service = staticmethod(setup.mandate_reinstate)


class MandateRevoke(_MandateAction):
    """End the mandate for good."""

    service = staticmethod(services.mandate_cancel)


urlpatterns = [
    path("online/merchants/", MerchantList.as_view(), name="online-merchant-list"),
    path("online/merchants/<int:pk>/test/", MerchantTest.as_view(), name="online-merchant-test"),
    path("online/routes/", RouteSet.as_view(), name="online-route-set"),
    path("online/mandates/", MandateList.as_view(), name="online-mandate-list"),
    path(
        "online/mandates/<int:pk>/suspend/", MandateSuspend.as_view(), name="online-mandate-suspend"
    ),
    path(
        "online/mandates/<int:pk>/reinstate/",
        MandateReinstate.as_view(),
        name="online-mandate-reinstate",
    ),
    path("online/mandates/<int:pk>/revoke/", MandateRevoke.as_view(), name="online-mandate-revoke"),
]
