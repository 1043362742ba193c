"""The owners' app: REST endpoints under /api/v1/owner/, on the same services as the H5 portal.

Sign in with a code sent by SMS (`auth/code`, then `auth/token`), then send
`Authorization: Owner <token>`. Every endpoint shows only the signed-in owner's own parties'
data: anybody else's charge, receipt or order is a 404. Staff tokens and sessions open none of
these endpoints, and owner tokens open no staff endpoint (see api_auth.py)."""

from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from wuye.audit.idempotency import idempotent_for
from wuye.audit.middleware import client_ip
from wuye.core.api_schema import AutoSchema
from wuye.core.errors import DomainError
from wuye.core.normalize import as_date
from wuye.online import services as online
from wuye.payments.documents import receipt_pdf
from wuye.payments.views import verify_url

from . import selectors, services
from . import serializers as s
from .api_auth import (
    IsOwner,
    OwnerTokenAuthentication,
    SignInAddressThrottle,
    SignInPhoneThrottle,
    owner_key_holder,
)


class OwnerSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        return ["owner"]


class OwnerView(generics.GenericAPIView):
    """An endpoint for the signed-in owner (request.owner_phone, request.owner_parties)."""

    authentication_classes = [OwnerTokenAuthentication]
    permission_classes = [IsOwner]
    filter_backends: list = []
    pagination_class = None  # lists that grow (receipts, orders, requests) page: LIST_PAGES
    schema = OwnerSchema()


LIST_PAGES = api_settings.DEFAULT_PAGINATION_CLASS


class SignInView(generics.GenericAPIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [SignInAddressThrottle, SignInPhoneThrottle]
    schema = OwnerSchema()


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# An error is {"detail", "code", "field"} or, for input the serializer refused, {field:
# [messages]}: the API's error object (wuye/core/api_schema.py), not OwnerDetailOut, which
# said `detail` is always there (the fuzz test found {"phone": [...]} answers).
ERROR = OpenApiResponse(
    {"$ref": "#/components/schemas/ApiError"},
    description="What was wrong: `detail` and `field` naming the input, or each refused "
    "field with its messages.",
)


# --- sign-in ---------------------------------------------------------------------------------
class CodeRequest(SignInView):
    serializer_class = s.OwnerCodeIn

    @extend_schema(
        summary="Send a sign-in code by SMS",
        description="The same answer whether or not the number is an owner's; only an owner's "
        "number is sent a code. 400 for a malformed number, 429 when asked too often.",
        responses={202: s.OwnerDetailOut, 400: ERROR, 429: ERROR},
    )
    def post(self, request):
        phone = services.normalize_mobile(_valid(s.OwnerCodeIn, request.data)["phone"])
        try:
            services.code_request(phone=phone, ip=client_ip(request) or "")
        except DomainError as exc:
            # Only the send limits are left once the number is well formed; they apply to
            # every number alike, so saying so reveals nothing.
            return Response(
                {"detail": exc.message, "code": "throttled", "field": "phone"},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        return Response(
            {"detail": _("If this number is registered with us, a code is on its way by SMS.")},
            status=status.HTTP_202_ACCEPTED,
        )


class TokenCreate(SignInView):
    serializer_class = s.OwnerTokenIn

    @extend_schema(
        summary="Sign in with the code: a token for the app",
        description="A wrong, expired or used code, and an unknown number, get the same 400.",
        responses={200: s.OwnerTokenOut, 400: ERROR, 429: ERROR},
    )
    def post(self, request):
        data = _valid(s.OwnerTokenIn, request.data)
        token, key = services.token_create(
            phone=data["phone"],
            code=data["code"],
            ip=client_ip(request) or "",
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response({"token": key, "token_type": "Owner", "expires_at": token.expires_at})


class Logout(OwnerView):
    @extend_schema(summary="Sign out: revoke this token", request=None, responses={204: None})
    def post(self, request):
        services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- reading ---------------------------------------------------------------------------------
class Me(OwnerView):
    @extend_schema(summary="Who is signed in", responses=s.OwnerMeOut)
    def get(self, request):
        return Response(
            s.OwnerMeOut({"phone": request.owner_phone, "parties": request.owner_parties}).data
        )


class UnitList(OwnerView):
    @extend_schema(summary="My units", responses=s.OwnerUnitOut(many=True))
    def get(self, request):
        return Response(
            s.OwnerUnitOut(selectors.owner_units(request.owner_parties), many=True).data
        )


class ChargeList(OwnerView):
    @extend_schema(summary="My open charges", responses=s.OwnerChargeOut(many=True))
    def get(self, request):
        charges = selectors.owner_open_charges(request.owner_parties)
        return Response(s.OwnerChargeOut(charges, many=True).data)


class ChargeDetail(OwnerView):
    @extend_schema(summary="One of my charges", responses={200: s.OwnerChargeOut, 404: ERROR})
    def get(self, request, pk: int):
        charge = selectors.owner_charge(request.owner_parties, pk)
        if charge is None:
            raise Http404
        return Response(s.OwnerChargeOut(charge).data)


class StatementView(OwnerView):
    @extend_schema(
        summary="My statement of account, with the running balance",
        parameters=[
            OpenApiParameter(
                "start",
                OpenApiTypes.DATE,
                description="Lines before this day are summed into the opening balance.",
            )
        ],
        responses={200: s.OwnerStatementOut, 400: ERROR},
    )
    def get(self, request):
        start = None
        if raw := request.query_params.get("start"):
            start = as_date(raw)
            if start is None:
                raise ValidationError({"start": [_("Enter a date as YYYY-MM-DD.")]})
        parties = request.owner_parties
        data = selectors.owner_statement(parties)
        data["accounts"] = selectors.owner_accounts(parties, start=start)
        return Response(s.OwnerStatementOut(data).data)


class ReceiptList(OwnerView, generics.ListAPIView):
    pagination_class = LIST_PAGES
    serializer_class = s.OwnerReceiptOut

    def get_queryset(self):
        return selectors.owner_receipts(self.request.owner_parties).select_related("payment")

    @extend_schema(summary="My receipts, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReceiptDetail(OwnerView):
    @extend_schema(summary="One of my receipts", responses={200: s.OwnerReceiptOut, 404: ERROR})
    def get(self, request, pk: int):
        receipt = selectors.owner_receipt(request.owner_parties, pk)
        if receipt is None:
            raise Http404
        return Response(s.OwnerReceiptOut(receipt, context={"request": request}).data)


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ReceiptPDF(OwnerView):
    """The receipt PDF the H5 portal serves (A5, with its verification QR code)."""

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        summary="Download one of my receipts as a PDF",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ERROR},
    )
    def get(self, request, pk: int):
        receipt = selectors.owner_receipt(request.owner_parties, pk)
        if receipt is None:
            raise Http404
        content = receipt_pdf(receipt, paper="a5", verify_url=verify_url(request, receipt))
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="receipt-{receipt.code}.pdf"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON even when the app asked for a PDF.
        if isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# --- paying ----------------------------------------------------------------------------------
class OrderList(OwnerView, generics.ListAPIView):
    pagination_class = LIST_PAGES
    serializer_class = s.OwnerOrderOut

    def get_queryset(self):
        return selectors.owner_orders(self.request.owner_parties)

    @extend_schema(summary="My payment orders, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Pay charges: a payment order",
        description="Through the same online service as the H5 pay page. Refused (400, naming "
        "the charge) when a charge is not mine, not open, or not payable online. Then pay as "
        "`pay` says; the order turns `paid`, with its receipt, when the provider notifies.",
        request=s.OwnerOrderIn,
        responses={201: s.OwnerOrderOut, 400: ERROR, 503: ERROR},
    )
    @idempotent_for(owner_key_holder)
    def post(self, request):
        # With an Idempotency-Key the order commits together with the key, after the provider
        # answered; the only rows held meanwhile are those two new ones (and a retry of the
        # same key, which waits for them and replays the answer).
        data = _valid(s.OwnerOrderIn, request.data)
        order = services.owner_order_create(
            parties=request.owner_parties,
            charge_ids=data["charge_ids"],
            provider=data["provider"],
            kind=data.get("kind", ""),
            openid=data.get("openid", ""),
            client_ip=client_ip(request) or "",
            return_url=request.build_absolute_uri(reverse("portal:home")),
        )
        if order.start_error:
            return Response(
                {
                    "detail": _("The payment could not be started; please try again later."),
                    "code": "provider_unavailable",
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(self.get_serializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetail(OwnerView):
    serializer_class = s.OwnerOrderOut

    @extend_schema(
        summary="One of my payment orders: its state, and the receipt once paid",
        responses={200: s.OwnerOrderOut, 404: ERROR},
    )
    def get(self, request, out_trade_no: str):
        order = selectors.owner_order(request.owner_parties, out_trade_no)
        if order is None:
            raise Http404
        return Response(self.get_serializer(online.order_news(order)).data)


# --- requests --------------------------------------------------------------------------------
class RequestList(OwnerView, generics.ListAPIView):
    pagination_class = LIST_PAGES
    serializer_class = s.OwnerRequestOut

    def get_queryset(self):
        return selectors.owner_requests(self.request.owner_parties).select_related("unit")

    @extend_schema(summary="My disputes and hardship requests, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Raise a service dispute or a hardship request",
        description="It reaches the estate's staff as the H5 form does.",
        request=s.OwnerRequestIn,
        responses={201: s.OwnerRequestOut, 400: ERROR},
    )
    @idempotent_for(owner_key_holder)
    def post(self, request):
        data = _valid(s.OwnerRequestIn, request.data)
        item = services.owner_request_raise(
            parties=request.owner_parties,
            kind=data["kind"],
            text=data["text"],
            unit_id=data.get("unit"),
            charge_ids=data.get("charge_ids") or [],
            phone=data.get("phone") or request.owner_phone,
        )
        return Response(s.OwnerRequestOut(item).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("owner/auth/code", CodeRequest.as_view(), name="owner-auth-code"),
    path("owner/auth/token", TokenCreate.as_view(), name="owner-auth-token"),
    path("owner/auth/logout", Logout.as_view(), name="owner-auth-logout"),
    path("owner/me", Me.as_view(), name="owner-me"),
    path("owner/units", UnitList.as_view(), name="owner-unit-list"),
    path("owner/charges", ChargeList.as_view(), name="owner-charge-list"),
    path("owner/charges/<int:pk>", ChargeDetail.as_view(), name="owner-charge-detail"),
    path("owner/statement", StatementView.as_view(), name="owner-statement"),
    path("owner/receipts", ReceiptList.as_view(), name="owner-receipt-list"),
    path("owner/receipts/<int:pk>", ReceiptDetail.as_view(), name="owner-receipt-detail"),
    path("owner/receipts/<int:pk>/pdf", ReceiptPDF.as_view(), name="owner-receipt-pdf"),
    path("owner/orders", OrderList.as_view(), name="owner-order-list"),
    path("owner/orders/<str:out_trade_no>", OrderDetail.as_view(), name="owner-order-detail"),
    path("owner/requests", RequestList.as_view(), name="owner-request-list"),
]
