"""REST endpoints of online payments under /api/v1/online/: payment orders (list, one), the
exception queue (list) and bank statements (import, list, one with its lines), estate-scoped
like the staff pages. Provider callbacks are not
here: they live at /pay/notify/<provider> (see urls.py)."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from wuye.audit.idempotency import idempotent
from wuye.registry.models import Estate
from wuye.registry.selectors import get_scoped

from . import selectors, services
from .models import PaymentException, PaymentOrder, TransferLine, TransferStatement
from .services.bank import statement_size_check
from .statements import StatementRejected


def receipt_code(obj) -> str:
    """The code of the receipt of `obj`'s payment (an order, a statement line), or ''."""
    receipt = getattr(obj.payment, "receipt", None) if obj.payment_id else None
    return receipt.code if receipt else ""


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
        return receipt_code(obj)


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
            "business_date",
            "entry_id",
            "out_entry_id",
            "write_off_reason",
            "write_off_requested_by",
            "write_off_requested_at",
            "payment",
            "resolved_by",
            "resolved_at",
            "note",
        ]


class ExceptionActionIn(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=["credit", "refund", "write_off", "approve_write_off", "withdraw_write_off"]
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class StatementOut(serializers.ModelSerializer):
    lines_done = serializers.IntegerField(read_only=True)
    complete = serializers.BooleanField(source="is_complete", read_only=True)

    class Meta:
        model = TransferStatement
        fields = [
            "id",
            "estate",
            "file_name",
            "uploaded_at",
            "first_day",
            "last_day",
            "lines_total",
            "lines_done",
            "complete",
            "posted",
            "to_check",
        ]


class StatementLineOut(serializers.ModelSerializer):
    receipt = serializers.SerializerMethodField()

    class Meta:
        model = TransferLine
        fields = [
            "line_no",
            "booked_on",
            "amount",
            "bank_ref",
            "memo",
            "payer_name",
            "payer_account",
            "outcome",
            "detail",
            "payment",
            "receipt",
        ]

    def get_receipt(self, obj) -> str:
        return receipt_code(obj)


class StatementDetailOut(StatementOut):
    lines = StatementLineOut(many=True, read_only=True)

    class Meta(StatementOut.Meta):
        fields = [*StatementOut.Meta.fields, "lines"]


class StatementIn(serializers.Serializer):
    estate = serializers.IntegerField()
    file = serializers.FileField()


class StatementList(generics.ListCreateAPIView):
    """GET: the bank statements of my estates. POST (multipart: estate, file): import one
    and post its transfers: 201 with its lines, 200 if the same file was imported before,
    400 with every error (row, column, message) and nothing posted if it cannot be read. A
    file of more than 300 lines is posted by the background worker: its lines appear as it
    goes."""

    serializer_class = StatementOut
    queryset = TransferStatement.objects.none()
    parser_classes = [MultiPartParser]
    filterset_fields = ["estate"]

    def get_queryset(self):
        return selectors.transfer_statements_for(self.request.user)

    @extend_schema(
        request=StatementIn, responses={201: StatementDetailOut, 200: StatementDetailOut}
    )
    def post(self, request):
        data = StatementIn(data=request.data)
        data.is_valid(raise_exception=True)
        estate = get_scoped(
            Estate.objects.all(), request.user, "id", pk=data.validated_data["estate"]
        )
        upload = data.validated_data["file"]
        try:
            statement_size_check(upload.size)
            statement, new = services.transfer_statement_import(
                actor=request.user, estate=estate, file_name=upload.name, file=upload
            )
        except StatementRejected as exc:
            errors = [{"row": e.row, "column": e.column, "message": e.message} for e in exc.errors]
            return Response(
                {"detail": exc.message, "code": "statement_rejected", "errors": errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        statement = (
            selectors.transfer_statements_for(request.user)
            .prefetch_related("lines__payment__receipt")
            .get(pk=statement.pk)
        )
        body = StatementDetailOut(statement).data
        return Response(body, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)


class StatementDetail(generics.RetrieveAPIView):
    serializer_class = StatementDetailOut
    queryset = TransferStatement.objects.none()

    def get_queryset(self):
        return selectors.transfer_statements_for(self.request.user).prefetch_related(
            "lines__payment__receipt"
        )


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


class ExceptionDetail(generics.RetrieveAPIView):
    serializer_class = ExceptionOut
    queryset = PaymentException.objects.none()

    def get_queryset(self):
        return selectors.exceptions_for(self.request.user, status="")


class ExceptionResolve(generics.GenericAPIView):
    """POST {action, note, reason}: credit the item to the owner, refund it, ask to write it
    off (reason required), approve the write-off (someone else, `online.approve_write_off`)
    or withdraw it; each moves the money out of suspense with its entry. The service checks
    the action's permission."""

    permission_classes = [IsAuthenticated]
    serializer_class = ExceptionOut
    queryset = PaymentException.objects.none()

    @extend_schema(request=ExceptionActionIn, responses={200: ExceptionOut})
    @idempotent
    def post(self, request, pk: int):
        data = ExceptionActionIn(data=request.data)
        data.is_valid(raise_exception=True)
        action, note = data.validated_data["action"], data.validated_data["note"]
        items = selectors.exceptions_for(request.user, status="")
        item = get_scoped(items, request.user, pk=pk)
        if action == "write_off":
            reason = data.validated_data["reason"] or note
            services.exception_write_off_request(actor=request.user, item=item, reason=reason)
        else:
            act = {
                "credit": services.exception_credit,
                "refund": services.exception_refund,
                "approve_write_off": services.exception_write_off_approve,
                "withdraw_write_off": services.exception_write_off_withdraw,
            }[action]
            act(actor=request.user, item=item, note=note)
        return Response(ExceptionOut(items.get(pk=item.pk)).data)


urlpatterns = [
    path("online/orders/", OrderList.as_view(), name="online-order-list"),
    path("online/orders/<str:out_trade_no>/", OrderDetail.as_view(), name="online-order-detail"),
    path("online/exceptions/", ExceptionList.as_view(), name="online-exception-list"),
    path("online/exceptions/<int:pk>/", ExceptionDetail.as_view(), name="online-exception-detail"),
    path(
        "online/exceptions/<int:pk>/resolve/",
        ExceptionResolve.as_view(),
        name="online-exception-resolve",
    ),
    path("online/statements/", StatementList.as_view(), name="online-statement-list"),
    path("online/statements/<int:pk>/", StatementDetail.as_view(), name="online-statement-detail"),
]
