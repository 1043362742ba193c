"""REST endpoints of online payments under /api/v1/online/: payment orders (list, one) and
the exception queue (list), estate-scoped like the staff pages. Provider callbacks are not
here: they live at /pay/notify/<provider> (see urls.py)."""

from django.urls import path
from rest_framework import generics, serializers

from . import selectors
from .models import PaymentException, PaymentOrder


class OrderOut(serializers.ModelSerializer):
    receipt = serializers.SerializerMethodField()

    class Meta:
        model = PaymentOrder
        fields = [
            "id",
            "out_trade_no",
            "estate",
            "party",
            "provider",
            "kind",
            "source",
            "amount",
            "status",
            "created_at",
            "expires_at",
            "transaction_id",
            "paid_at",
            "payment",
            "receipt",
        ]

    def get_receipt(self, obj) -> str:
        receipt = getattr(obj.payment, "receipt", None) if obj.payment_id else None
        return receipt.code if receipt else ""


class ExceptionOut(serializers.ModelSerializer):
    class Meta:
        model = PaymentException
        fields = [
            "id",
            "provider",
            "transaction_id",
            "out_trade_no",
            "order",
            "estate",
            "amount",
            "reason",
            "detail",
            "status",
            "created_at",
            "payment",
            "resolved_at",
        ]


class OrderList(generics.ListAPIView):
    serializer_class = OrderOut
    queryset = PaymentOrder.objects.none()
    filterset_fields = ["status", "provider", "party"]

    def get_queryset(self):
        return selectors.orders_for(self.request.user).select_related("payment__receipt")


class OrderDetail(generics.RetrieveAPIView):
    serializer_class = OrderOut
    queryset = PaymentOrder.objects.none()
    lookup_field = "out_trade_no"

    def get_queryset(self):
        return selectors.orders_for(self.request.user).select_related("payment__receipt")


class ExceptionList(generics.ListAPIView):
    serializer_class = ExceptionOut
    queryset = PaymentException.objects.none()
    filterset_fields = ["status", "reason", "provider"]

    def get_queryset(self):
        return selectors.exceptions_for(self.request.user, status="")


urlpatterns = [
    path("online/orders/", OrderList.as_view(), name="online-order-list"),
    path("online/orders/<str:out_trade_no>/", OrderDetail.as_view(), name="online-order-detail"),
    path("online/exceptions/", ExceptionList.as_view(), name="online-exception-list"),
]
