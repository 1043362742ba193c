"""REST endpoints of the ledger under /api/v1/ledger/: read-only, estate-scoped.

- `accounts/` the chart of accounts
- `entries/` journal entries with their postings (`?estate=ID&date_from=&date_to=&source_type=`)
- `trial-balance/` per account: opening, debits, credits, closing (`?estate=ID&date_from=&date_to=`)
- `periods/` the accounting period closes (结账); POST {estate, month: "2026-11", note} closes
  one (`ledger.close_period`, `Idempotency-Key`)
"""

from datetime import date

import django_filters
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from wuye.audit.idempotency import idempotent
from wuye.registry.models import Estate
from wuye.registry.selectors import get_scoped, scope, visible_estate_ids

from . import selectors, services
from .models import Account, JournalEntry, PeriodClose, Posting


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "code", "name", "kind", "parent", "is_active"]


class PostingSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Posting
        fields = ["id", "account", "account_name", "party_id", "debit", "credit"]


class JournalEntrySerializer(serializers.ModelSerializer):
    voucher = serializers.CharField(read_only=True)
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "estate",
            "date",
            "voucher",
            "voucher_year",
            "voucher_no",
            "memo",
            "source_type",
            "source_id",
            "idempotency_key",
            "reverses",
            "created_at",
            "postings",
        ]


class JournalEntryFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = JournalEntry
        fields = ["estate", "source_type", "source_id", "voucher_year", "voucher_no"]


class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    filterset_fields = ["kind", "is_active", "parent"]


class JournalEntryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = JournalEntry.objects.all()
    serializer_class = JournalEntrySerializer
    filterset_class = JournalEntryFilter

    def get_queryset(self):
        return scope(selectors.journal(None), self.request.user)


class TrialBalanceRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    opening = serializers.DecimalField(max_digits=16, decimal_places=2)
    debits = serializers.DecimalField(max_digits=16, decimal_places=2)
    credits = serializers.DecimalField(max_digits=16, decimal_places=2)
    closing = serializers.DecimalField(max_digits=16, decimal_places=2)


class TrialBalanceSerializer(serializers.Serializer):
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    rows = TrialBalanceRowSerializer(many=True)
    totals = serializers.DictField(child=serializers.DecimalField(max_digits=16, decimal_places=2))
    is_balanced = serializers.BooleanField()


class TrialBalanceQuery(serializers.Serializer):
    estate = serializers.IntegerField(required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class TrialBalanceView(APIView):
    """The trial balance of one estate (`?estate=ID`) or of all the caller's estates."""

    queryset = JournalEntry.objects.none()  # permissions: ledger.view_journalentry

    @extend_schema(
        parameters=[
            OpenApiParameter("estate", int),
            OpenApiParameter("date_from", str),
            OpenApiParameter("date_to", str),
        ],
        responses=TrialBalanceSerializer,
    )
    def get(self, request):
        query = TrialBalanceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if "estate" in params:
            estate = get_scoped(Estate.objects.all(), request.user, "id", pk=params["estate"])
            estate_ids = {estate.pk}
        else:
            estate_ids = visible_estate_ids(request.user)
        date_from = params.get("date_from") or timezone.localdate().replace(month=1, day=1)
        date_to = params.get("date_to") or timezone.localdate()
        report = selectors.trial_balance(estate_ids, date_from, date_to)
        return Response(
            TrialBalanceSerializer(
                {
                    "date_from": report.date_from,
                    "date_to": report.date_to,
                    "rows": report.rows,
                    "totals": report.totals,
                    "is_balanced": report.is_balanced,
                }
            ).data
        )


MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2026-11"})
class MonthField(serializers.ReadOnlyField):
    """A month as "YYYY-MM" (not a date: the schema said `format: date` of "2026-11")."""

    def to_representation(self, value: date) -> str:
        return f"{value.year:04d}-{value.month:02d}"


class PeriodCloseOut(serializers.ModelSerializer):
    month = MonthField()

    class Meta:
        model = PeriodClose
        fields = ["id", "estate", "month", "closed_by", "closed_at", "note"]


class PeriodCloseIn(serializers.Serializer):
    estate = serializers.IntegerField()
    month = serializers.RegexField(MONTH_PATTERN, help_text="YYYY-MM")
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_month(self, value: str) -> date:
        year, month = (int(part) for part in value.split("-"))
        if year < 1:  # "0000-01" matches the pattern; there is no year 0
            raise serializers.ValidationError(_("There is no year 0."))
        return date(year, month, 1)


class PeriodCloseList(generics.ListAPIView):
    """GET: the closed months of my estates. POST: close a month (结账)."""

    serializer_class = PeriodCloseOut
    queryset = PeriodClose.objects.none()  # permissions: view / add periodclose

    def get_queryset(self):
        return selectors.period_closes(visible_estate_ids(self.request.user))

    def get_permissions(self):
        if self.request.method == "POST":  # the service checks ledger.close_period
            return [IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(request=PeriodCloseIn, responses={201: PeriodCloseOut})
    @idempotent
    def post(self, request):
        data = PeriodCloseIn(data=request.data)
        data.is_valid(raise_exception=True)
        estate = get_scoped(
            Estate.objects.all(), request.user, "id", pk=data.validated_data["estate"]
        )
        close = services.period_close(
            actor=request.user,
            estate=estate,
            month=data.validated_data["month"],
            note=data.validated_data["note"],
        )
        return Response(PeriodCloseOut(close).data, status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("ledger/accounts", AccountViewSet, basename="ledger-account")
router.register("ledger/entries", JournalEntryViewSet, basename="ledger-entry")

urlpatterns = [
    *router.urls,
    path("ledger/trial-balance/", TrialBalanceView.as_view(), name="ledger-trial-balance"),
    path("ledger/periods/", PeriodCloseList.as_view(), name="ledger-periods"),
]
