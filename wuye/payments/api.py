"""REST endpoints of the window under /api/v1/: payments, receipts, shifts.

Every write takes an `Idempotency-Key` header (`wuye.audit.idempotency`): a resent request
returns the first answer. The payment service is idempotent on its own too (the key, or the
channel + external reference), so even two racing requests post one payment.

- `payments/` list (`?estate=&date=&party=&unit=&owner=&method=&cashier=&amount_min=
  &amount_max=`, as the payment list page filters), take a payment (POST)
- `payments/<id>/` one payment with its allocations and receipt
- `receipts/<id>/` a receipt; `receipts/<id>/pdf/` its PDF (`?paper=a5|a4|thermal80`)
- `shifts/` list, open (POST); `shifts/<id>/close/` close with the counted amounts (POST)
"""

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.response import Response

from wuye.audit.idempotency import HEADER, idempotent
from wuye.core.errors import DomainError
from wuye.core.params import query_id
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate, Party, Unit
from wuye.registry.selectors import get_scoped, scope

from . import forms, selectors, services
from .models import Allocation, CashierShift, Payment, Receipt


class AllocationOutput(serializers.ModelSerializer):
    class Meta:
        model = Allocation
        fields = ["charge", "amount", "reverses"]


class ReceiptOutput(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)

    class Meta:
        model = Receipt
        fields = ["id", "code", "estate", "year", "number", "status", "issued_at", "lines", "token"]


class PaymentOutput(serializers.ModelSerializer):
    allocations = AllocationOutput(many=True, read_only=True)
    receipt = ReceiptOutput(read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "estate",
            "party",
            "unit",
            "channel",
            "source",
            "external_ref",
            "terminal",
            "amount",
            "allocated",
            "prepaid",
            "rounded_off",
            "earmark",
            "business_date",
            "received_at",
            "status",
            "allocations",
            "receipt",
        ]


class PaymentInput(serializers.Serializer):
    party = serializers.IntegerField()
    unit = serializers.IntegerField(required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    channel = serializers.ChoiceField(
        choices=[c for c in Payment.Channel.values if c != Payment.Channel.PREPAYMENT]
    )
    external_ref = serializers.CharField(required=False, allow_blank=True, max_length=64)
    terminal = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="POS terminal (终端号)"
    )
    charges = serializers.ListField(child=serializers.IntegerField(), required=False)
    keep_change_as_prepayment = serializers.BooleanField(required=False, default=False)
    earmark = serializers.IntegerField(required=False, allow_null=True)
    round_off = serializers.BooleanField(required=False, default=False)
    pay_ahead_item = serializers.IntegerField(required=False, allow_null=True)
    pay_ahead_months = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    pay_ahead_until = serializers.DateField(required=False, allow_null=True)
    payer_name = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ShiftOutput(serializers.ModelSerializer):
    class Meta:
        model = CashierShift
        fields = [
            "id",
            "estate",
            "cashier",
            "business_date",
            "status",
            "opened_at",
            "float_amount",
            "closed_at",
            "expected_cash",
            "counted_cash",
            "cash_variance",
            "expected_pos",
            "counted_pos",
            "pos_variance",
        ]


class ShiftOpenInput(serializers.Serializer):
    estate = serializers.IntegerField()
    float_amount = serializers.DecimalField(max_digits=12, decimal_places=2, default="0.00")


class ShiftCloseInput(serializers.Serializer):
    counted_cash = serializers.DecimalField(max_digits=12, decimal_places=2)
    counted_pos = serializers.DecimalField(max_digits=12, decimal_places=2, default="0.00")
    note = serializers.CharField(required=False, allow_blank=True, max_length=255)
    confirm_variance = serializers.BooleanField(
        default=False,
        help_text="A count that differs from what is expected is refused (code `variance`) "
        "unless confirmed, with the reason in `note`.",
    )


def _valid(serializer_class, request) -> dict:
    ser = serializer_class(data=request.data)
    ser.is_valid(raise_exception=True)
    return ser.validated_data


def _int(request, name):
    return query_id(request.query_params, name)


class PaymentList(ListModelMixin, GenericAPIView):
    """Payments of your estates; take a payment (payments.take_payment)."""

    serializer_class = PaymentOutput
    queryset = Payment.objects.none()

    def get_queryset(self):
        r = self.request
        form = forms.PaymentFilterForm(r.query_params, cashiers=selectors.cashiers_for(r.user))
        if not form.is_valid():  # a bad filter is a 400 naming it, not an unfiltered list
            raise ValidationError(form.errors)
        return selectors.payments_for(
            r.user,
            estate_id=_int(r, "estate"),
            party_id=_int(r, "party"),
            **form.selector_params(),
        ).prefetch_related("allocations")

    @extend_schema(
        parameters=[
            OpenApiParameter("estate", int),
            OpenApiParameter("date", str),
            OpenApiParameter("party", int),
            OpenApiParameter("unit", str, description="unit number or part of it"),
            OpenApiParameter("owner", str, description="payer's name or payment reference"),
            OpenApiParameter("method", str, enum=[c for c, _ in Payment.Channel.choices]),
            OpenApiParameter("cashier", int, description="user id of who took it"),
            OpenApiParameter("amount_min", str),
            OpenApiParameter("amount_max", str),
        ]
    )
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(request=PaymentInput, responses={201: PaymentOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        _need_key(request)
        data = _valid(PaymentInput, request)
        party = get_scoped(Party.objects.all(), request.user, pk=data["party"])
        unit = (
            get_scoped(Unit.objects.all(), request.user, pk=data["unit"])
            if data.get("unit")
            else None
        )
        items = scope(FeeItem.objects.all(), request.user)
        earmark = (
            get_scoped(items, request.user, pk=data["earmark"]) if data.get("earmark") else None
        )
        pay_ahead = None
        if data.get("pay_ahead_item"):
            pay_ahead = services.PayAhead(
                fee_item=get_scoped(items, request.user, pk=data["pay_ahead_item"]),
                months=data.get("pay_ahead_months"),
                until=data.get("pay_ahead_until"),
            )
        key = request.headers.get(HEADER, "").strip()
        payment = services.payment_take(
            actor=request.user,
            party=party,
            unit=unit,
            amount=data["amount"],
            channel=data["channel"],
            external_ref=data.get("external_ref", ""),
            terminal=data.get("terminal", ""),
            charge_ids=data.get("charges") or None,
            pay_ahead=pay_ahead,
            keep_change_as_prepayment=data["keep_change_as_prepayment"],
            earmark=earmark,
            round_off=data["round_off"],
            idempotency_key=f"api:{request.user.pk}:{key}" if key else None,
            source=Payment.Source.API,
            payer_name=data.get("payer_name", ""),
        )
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class PaymentDetail(GenericAPIView):
    serializer_class = PaymentOutput
    queryset = Payment.objects.none()

    def get(self, request: Request, pk: int) -> Response:
        payment = get_scoped(Payment.objects.select_related("receipt"), request.user, pk=pk)
        return Response(PaymentOutput(payment).data)


class ReceiptDetail(GenericAPIView):
    serializer_class = ReceiptOutput
    queryset = Receipt.objects.none()

    def get(self, request: Request, pk: int) -> Response:
        return Response(ReceiptOutput(get_scoped(Receipt.objects.all(), request.user, pk=pk)).data)


class ReceiptPdf(GenericAPIView):
    """The receipt PDF (a reprint is marked as a copy)."""

    queryset = Receipt.objects.none()

    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, pk: int):
        from .views import verify_url

        receipt = get_scoped(Receipt.objects.all(), request.user, pk=pk)
        content = services.receipt_print(
            actor=request.user,
            receipt=receipt,
            verify_url=verify_url(request, receipt),
            paper=request.query_params.get("paper", ""),
        )
        return HttpResponse(content, content_type="application/pdf")


class ShiftList(ListModelMixin, GenericAPIView):
    serializer_class = ShiftOutput
    queryset = CashierShift.objects.none()

    def get_queryset(self):
        return selectors.shifts_for(self.request.user, estate_id=_int(self.request, "estate"))

    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(request=ShiftOpenInput, responses={201: ShiftOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(ShiftOpenInput, request)
        estate = get_scoped(Estate.objects.all(), request.user, "id", pk=data["estate"])
        shift = services.shift_open(
            actor=request.user, estate=estate, float_amount=data["float_amount"]
        )
        return Response(ShiftOutput(shift).data, status=status.HTTP_201_CREATED)


class ShiftClose(GenericAPIView):
    serializer_class = ShiftOutput
    queryset = CashierShift.objects.none()

    @extend_schema(request=ShiftCloseInput, responses={200: ShiftOutput})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(ShiftCloseInput, request)
        shift = get_scoped(CashierShift.objects.all(), request.user, pk=pk)
        if not request.user.has_perm("payments.take_payment"):
            raise DomainError(_("missing permission payments.take_payment"))
        shift = services.shift_close(actor=request.user, shift=shift, **data)
        return Response(ShiftOutput(shift).data)


class RefundPayoutInput(serializers.Serializer):
    release = serializers.IntegerField(help_text="the approved deposit refund (DepositRelease)")
    channel = serializers.ChoiceField(choices=services.RefundPayout.Channel.choices)
    external_ref = serializers.CharField(required=False, allow_blank=True, max_length=64)


class RefundPayoutOutput(serializers.ModelSerializer):
    class Meta:
        model = services.RefundPayout
        fields = [
            "id",
            "estate",
            "party",
            "release",
            "amount",
            "channel",
            "external_ref",
            "shift",
            "business_date",
            "paid_at",
            "entry_id",
        ]


class RefundPayoutCreate(GenericAPIView):
    """Pay out an approved deposit refund (issue 11 §6): cash from the caller's open shift,
    or a bank transfer with its reference. Needs an Idempotency-Key; paying the same refund
    again returns the payout already made."""

    serializer_class = RefundPayoutOutput
    queryset = services.RefundPayout.objects.none()

    @extend_schema(request=RefundPayoutInput, responses={201: RefundPayoutOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        _need_key(request)
        from wuye.billing.models import DepositRelease

        data = _valid(RefundPayoutInput, request)
        release = get_scoped(DepositRelease.objects.all(), request.user, pk=data["release"])
        payout = services.refund_payout(
            actor=request.user,
            release=release,
            channel=data["channel"],
            external_ref=data.get("external_ref", ""),
        )
        return Response(RefundPayoutOutput(payout).data, status=status.HTTP_201_CREATED)


def _need_key(request) -> None:
    """Money taken or paid out through the API moves only with an Idempotency-Key, so a
    retried request never moves it twice (issue 11 §22)."""
    if not request.headers.get(HEADER, "").strip():
        raise DomainError(
            _("send an Idempotency-Key header (any unique text per request) with this request"),
            field=HEADER,
            code="idempotency_key_missing",
        )


urlpatterns = [
    path("payments/", PaymentList.as_view(), name="payment-list"),
    path("payments/<int:pk>/", PaymentDetail.as_view(), name="payment-detail"),
    path("receipts/<int:pk>/", ReceiptDetail.as_view(), name="receipt-detail"),
    path("receipts/<int:pk>/pdf/", ReceiptPdf.as_view(), name="receipt-pdf"),
    path("shifts/", ShiftList.as_view(), name="shift-list"),
    path("shifts/<int:pk>/close/", ShiftClose.as_view(), name="shift-close"),
    path("refund-payouts/", RefundPayoutCreate.as_view(), name="refund-payout-create"),
]
