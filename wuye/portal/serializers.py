"""What the owners' app sends (…In) and gets back (…Out). Output is read-only and shaped for a
phone screen: names and numbers, not foreign keys to look up."""

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wuye.billing.models import Charge
from wuye.core.badinput import BIGINT_MAX
from wuye.online import services as online
from wuye.online.models import PaymentOrder, Provider

from .models import OwnerRequest


def _absolute(request, url: str) -> str:
    """Provider and sandbox URLs may be site-relative; the app needs them whole."""
    if url.startswith("/") and request is not None:
        return request.build_absolute_uri(url)
    return url


# --- sign-in ---------------------------------------------------------------------------------
class OwnerCodeIn(serializers.Serializer):
    phone = serializers.CharField(max_length=20)


class OwnerTokenIn(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    code = serializers.CharField(max_length=12)


class OwnerTokenOut(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Owner <token>`.")
    token_type = serializers.CharField(default="Owner")
    expires_at = serializers.DateTimeField(
        help_text="Moves forward while the app is used (30 days after last use, 180 at most)."
    )


class OwnerDetailOut(serializers.Serializer):
    detail = serializers.CharField()


# --- who I am, my units ----------------------------------------------------------------------
class OwnerEstateOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    hotline = serializers.CharField()


class OwnerPartyOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    estate = OwnerEstateOut()


class OwnerMeOut(serializers.Serializer):
    phone = serializers.CharField()
    parties = OwnerPartyOut(many=True)


class OwnerUnitOut(serializers.Serializer):
    """One unit the owner holds now (from the register's ownership or tenancy)."""

    id = serializers.IntegerField(source="unit.id")
    estate = OwnerEstateOut(source="unit.estate")
    building = serializers.CharField(source="unit.building.name")
    number = serializers.CharField(source="unit.number")
    area = serializers.DecimalField(
        source="unit.gross_area", max_digits=10, decimal_places=2, allow_null=True
    )
    role = serializers.CharField(help_text="owner or tenant")
    role_display = serializers.CharField(source="get_role_display")
    is_payer = serializers.BooleanField()
    since = serializers.DateField(source="start_date")


# --- charges and statement -------------------------------------------------------------------
class OwnerUnitRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class OwnerChargeOut(serializers.Serializer):
    id = serializers.IntegerField()
    estate = serializers.CharField(source="estate.name")
    unit = OwnerUnitRefOut()
    item = serializers.CharField(source="fee_item.name")
    label = serializers.CharField()
    period = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    due_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField(help_text="open, paid, waived or cancelled")
    is_late_fee = serializers.SerializerMethodField(help_text="A late fee (滯納金) itself.")
    overdue = serializers.SerializerMethodField(help_text="Open and past its due date.")
    payable_online = serializers.BooleanField(source="fee_item.online_payable")

    def get_is_late_fee(self, charge) -> bool:
        return charge.kind == Charge.Kind.LATE_FEE

    def get_overdue(self, charge) -> bool:
        return charge.is_open and charge.due_date < timezone.localdate()


class OwnerStatementLineOut(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.CharField(help_text="regular, late_fee, waiver, payment, ...")
    text = serializers.CharField()
    debit = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)


class OwnerAccountOut(serializers.Serializer):
    """One party's statement of account: lines in date order with the running balance."""

    estate = OwnerEstateOut(source="party.estate")
    party = serializers.CharField(source="party.name")
    opening = serializers.DecimalField(max_digits=14, decimal_places=2)
    closing = serializers.DecimalField(max_digits=14, decimal_places=2)
    lines = OwnerStatementLineOut(many=True)


class OwnerPaymentOut(serializers.Serializer):
    id = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    channel = serializers.CharField(source="get_channel_display")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    receipt = serializers.SerializerMethodField()

    def get_receipt(self, payment) -> str:
        receipt = getattr(payment, "receipt", None)
        return receipt.code if receipt else ""


class OwnerStatementOut(serializers.Serializer):
    """The H5 statement page (open total, charges, payments) and each account's running
    balance."""

    open_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    charges = OwnerChargeOut(many=True)
    payments = OwnerPaymentOut(many=True)
    accounts = OwnerAccountOut(many=True)


# --- receipts and orders ---------------------------------------------------------------------
class OwnerReceiptOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(source="code")
    estate = serializers.CharField(source="estate.name")
    issued_at = serializers.DateTimeField()
    amount = serializers.DecimalField(source="payment.amount", max_digits=14, decimal_places=2)
    status = serializers.CharField()
    pdf = serializers.SerializerMethodField(help_text="Where to download it as a PDF.")

    def get_pdf(self, receipt) -> str:
        path = reverse("api:owner-receipt-pdf", args=[receipt.pk])
        return _absolute(self.context.get("request"), path)


class OwnerOrderIn(serializers.Serializer):
    charge_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=BIGINT_MAX),
        min_length=1,
        max_length=200,
    )
    provider = serializers.ChoiceField(choices=Provider.choices)
    kind = serializers.ChoiceField(
        choices=["native", "jsapi", "wap"],
        required=False,
        help_text="WeChat: native (default, a QR code) or jsapi (needs openid); "
        "Alipay: wap (default, the mobile pay page) or native.",
    )
    openid = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        help_text="The payer's WeChat openid, for jsapi (default: the one on the register).",
    )


class OwnerPayOut(serializers.Serializer):
    """What the app does to pay an open order."""

    sandbox = serializers.BooleanField(help_text="A sandbox merchant: no real money.")
    sandbox_pay_url = serializers.CharField(
        help_text="Sandbox only: the page that pays the order (open it, or POST to it)."
    )
    code_url = serializers.CharField(help_text="Native: the QR code's content.")
    pay_url = serializers.CharField(help_text="Alipay wap: the pay page to open.")
    prepay_id = serializers.CharField(help_text="WeChat jsapi: the prepay id.")
    jsapi = serializers.DictField(
        child=serializers.CharField(),
        help_text="WeChat jsapi: the signed parameters for getBrandWCPayRequest.",
    )


class OwnerOrderOut(serializers.Serializer):
    out_trade_no = serializers.CharField()
    status = serializers.CharField(help_text="created, paid, closed or expired")
    provider = serializers.CharField()
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    description = serializers.CharField()
    charge_ids = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    receipt = serializers.SerializerMethodField()
    pay = serializers.SerializerMethodField()

    def get_charge_ids(self, order) -> list[int]:
        return [line.charge_id for line in order.lines.all()]

    @extend_schema_field(OwnerReceiptOut(allow_null=True))
    def get_receipt(self, order):
        receipt = getattr(order.payment, "receipt", None) if order.payment_id else None
        return OwnerReceiptOut(receipt, context=self.context).data if receipt else None

    @extend_schema_field(OwnerPayOut(allow_null=True))
    def get_pay(self, order):
        if order.status != PaymentOrder.Status.CREATED:
            return None
        request = self.context.get("request")
        sandbox = order.merchant.mode == "sandbox"
        code_url = _absolute(request, order.code_url)
        pay_url = _absolute(request, order.pay_url)
        return {
            "sandbox": sandbox,
            "sandbox_pay_url": (code_url or pay_url) if sandbox else "",
            "code_url": code_url,
            "pay_url": pay_url,
            "prepay_id": order.prepay_id,
            "jsapi": online.jsapi_params(order) if order.kind == "jsapi" else {},
        }


# --- requests --------------------------------------------------------------------------------
class OwnerRequestIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OwnerRequest.Kind.choices)
    unit = serializers.IntegerField(required=False, allow_null=True, help_text="A unit id.")
    text = serializers.CharField(max_length=4000)
    charge_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="Call back on (default: mine)."
    )


class OwnerRequestOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="dispute or hardship")
    status = serializers.CharField(help_text="new, in_progress or closed")
    unit = OwnerUnitRefOut(allow_null=True)
    text = serializers.CharField()
    charge_ids = serializers.ListField(child=serializers.IntegerField())
    phone = serializers.CharField()
    created_at = serializers.DateTimeField()
    answer = serializers.CharField()
    handled_at = serializers.DateTimeField(allow_null=True)
