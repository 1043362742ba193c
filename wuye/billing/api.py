"""REST endpoints under /api/v1/: billing runs (create, preview, post), charges (list and
filter), statements of account. Same permissions and estate scoping as the staff pages."""

from django.urls import path
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.core.errors import PermissionDenied
from wuye.registry.models import Estate, Party
from wuye.registry.selectors import get_scoped, scope

from . import selectors, services, tasks
from .models import BillingRun, Charge


class RunOut(serializers.ModelSerializer):
    class Meta:
        model = BillingRun
        fields = [
            "id",
            "estate",
            "period",
            "status",
            "as_of",
            "units_total",
            "units_done",
            "charges_created",
            "total_amount",
            "attempts",
            "error",
            "preview",
            "created_at",
            "finished_at",
        ]


class RunIn(serializers.Serializer):
    estate = serializers.CharField(help_text="estate code")
    period = serializers.CharField(help_text="YYYY-MM")
    as_of = serializers.DateField(required=False)


class ChargeOut(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.number")
    fee_item = serializers.CharField(source="fee_item.code")
    label = serializers.CharField()

    class Meta:
        model = Charge
        fields = [
            "id",
            "unit",
            "party",
            "fee_item",
            "kind",
            "period",
            "period_start",
            "period_end",
            "part",
            "label",
            "amount",
            "outstanding",
            "bill_date",
            "due_date",
            "status",
            "run",
        ]


def _need(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(f"missing permission {perm}")


class RunList(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "billing.view_billingrun")
        runs = selectors.runs_for(request.user)[:100]
        return Response(RunOut(runs, many=True).data)

    def post(self, request):
        data = RunIn(data=request.data)
        data.is_valid(raise_exception=True)
        estate = get_scoped(
            scope(Estate.objects.all(), request.user, "id"),
            request.user,
            "id",
            code=data.validated_data["estate"],
        )
        run = services.billing_run_create(
            actor=request.user,
            estate=estate,
            period=data.validated_data["period"],
            as_of=data.validated_data.get("as_of"),
        )
        return Response(RunOut(run).data, status=201)


def _run(request, pk: int) -> BillingRun:
    return get_scoped(selectors.runs_for(request.user), request.user, "estate_id", pk=pk)


class RunDetail(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "billing.view_billingrun")
        return Response(RunOut(_run(request, pk)).data)


class RunPreview(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request, pk: int):
        _need(request.user, "billing.add_billingrun")
        run = _run(request, pk)
        return Response(services.billing_run_preview(run=run, actor=request.user))


class RunPost(APIView):
    """Starts the run in the background; poll GET /billing/runs/{id}/ for progress."""

    permission_classes = [IsAuthenticated]

    def post(self, request, pk: int):
        _need(request.user, "billing.add_billingrun")
        run = _run(request, pk)
        BillingRun.objects.filter(pk=run.pk).update(started_by=request.user)
        tasks.run_billing.enqueue(run.pk)
        run.refresh_from_db()
        return Response(RunOut(run).data, status=202)


class ChargeList(generics.ListAPIView):
    serializer_class = ChargeOut
    queryset = Charge.objects.none()

    def get_queryset(self):
        q = self.request.query_params

        def number(name):
            value = q.get(name, "")
            return int(value) if value.isdigit() else None

        return selectors.charges_for(
            self.request.user,
            estate_id=number("estate"),
            unit_id=number("unit"),
            party_id=number("party"),
            run_id=number("run"),
            period=q.get("period", ""),
            status=q.get("status", ""),
            kind=q.get("kind", ""),
        ).order_by("id")


class StatementView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, party_pk: int):
        _need(request.user, "billing.view_statement")
        party = get_scoped(scope(Party.objects.all(), request.user), request.user, pk=party_pk)
        st = selectors.party_statement(party)
        return Response(
            {
                "party": party.pk,
                "payment_ref": party.payment_ref,
                "closing": str(st.closing),
                "open_charges": str(st.open_charges),
                "prepaid": str(st.prepaid),
                "lines": [
                    {
                        "date": line.date,
                        "kind": line.kind,
                        "text": line.text,
                        "debit": str(line.debit),
                        "credit": str(line.credit),
                        "balance": str(line.balance),
                    }
                    for line in st.lines
                ],
            }
        )


urlpatterns = [
    path("billing/runs/", RunList.as_view(), name="billing-runs"),
    path("billing/runs/<int:pk>/", RunDetail.as_view(), name="billing-run"),
    path("billing/runs/<int:pk>/preview/", RunPreview.as_view(), name="billing-run-preview"),
    path("billing/runs/<int:pk>/post/", RunPost.as_view(), name="billing-run-post"),
    path("billing/charges/", ChargeList.as_view(), name="billing-charges"),
    path("billing/statements/<int:party_pk>/", StatementView.as_view(), name="billing-statement"),
]
