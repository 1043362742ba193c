"""REST endpoints under /api/v1/: billing runs (create, preview, post, cancel), charges (list,
filter, raise ad hoc, one with its history), their corrections (waiver requests, credit and
debit notes, deposit refunds and forfeits) and the decisions on them, fee stops, closing a
billing period, statements of account. Same permissions and estate scoping as the staff
pages (another estate's record is a 404); writes honour `Idempotency-Key`."""

import uuid

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.audit.idempotency import HEADER, idempotent
from wuye.core.errors import PermissionDenied
from wuye.core.params import query_id, query_month
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate, Party, Unit
from wuye.registry.selectors import get_scoped, scope

from . import selectors, services, tasks
from .models import BillingPeriod, BillingRun, Charge, CreditNote, DepositRelease, FeeStop, Waiver


class RunOut(serializers.ModelSerializer):
    stalled = serializers.BooleanField(
        read_only=True,
        help_text="running, but its worker has given no sign of life: post it again to resume",
    )

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
            "heartbeat_at",
            "finished_at",
            "stalled",
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
        raise PermissionDenied(_("missing permission %(perm)s") % {"perm": perm})


class RunList(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RunOut(many=True), operation_id="billing_runs_list")
    def get(self, request):
        _need(request.user, "billing.view_billingrun")
        runs = selectors.runs_for(request.user)[:100]
        return Response(RunOut(runs, many=True).data)

    @extend_schema(request=RunIn, responses={201: RunOut})
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

    @extend_schema(responses=RunOut)
    def get(self, request, pk: int):
        _need(request.user, "billing.view_billingrun")
        return Response(RunOut(_run(request, pk)).data)


class RunPreview(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        _need(request.user, "billing.add_billingrun")
        run = _run(request, pk)
        return Response(services.billing_run_preview(run=run, actor=request.user))


class RunPost(APIView):
    """Starts the run in the background; poll GET /billing/runs/{id}/ for progress."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: RunOut})
    def post(self, request, pk: int):
        _need(request.user, "billing.add_billingrun")
        run = _run(request, pk)
        BillingRun.objects.filter(pk=run.pk).update(started_by=request.user)
        tasks.run_billing.enqueue(run.pk)
        run.refresh_from_db()
        return Response(RunOut(run).data, status=202)


class WaiverOut(serializers.ModelSerializer):
    class Meta:
        model = Waiver
        fields = ["id", "charge", "amount", "reason", "status", "requested_at", "decided_at"]


class CreditNoteOut(serializers.ModelSerializer):
    class Meta:
        model = CreditNote
        fields = ["id", "charge", "amount", "reason", "created_at"]


class ReleaseOut(serializers.ModelSerializer):
    class Meta:
        model = DepositRelease
        fields = ["id", "charge", "action", "amount", "reason", "status", "requested_at"]


class FeeStopOut(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.number")
    fee_item = serializers.CharField(source="fee_item.code")

    class Meta:
        model = FeeStop
        fields = ["id", "unit", "fee_item", "from_date", "reason", "created_at"]


class PeriodOut(serializers.ModelSerializer):
    estate = serializers.CharField(source="estate.code")

    class Meta:
        model = BillingPeriod
        fields = ["estate", "period", "status", "closed_at"]


class AdhocIn(serializers.Serializer):
    unit = serializers.IntegerField(help_text="unit id")
    fee_item = serializers.IntegerField(help_text="fee item id")
    amount = serializers.CharField(help_text="yuan, 2 places at most")
    description = serializers.CharField(max_length=200)
    bill_date = serializers.DateField(required=False)
    due_date = serializers.DateField(required=False)


class AmountReasonIn(serializers.Serializer):
    amount = serializers.CharField(help_text="yuan, 2 places at most")
    reason = serializers.CharField(max_length=255)


class ReleaseIn(AmountReasonIn):
    action = serializers.ChoiceField(choices=DepositRelease.Action.choices)


class DecideIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class FeeStopIn(serializers.Serializer):
    unit = serializers.IntegerField(help_text="unit id")
    fee_item = serializers.IntegerField(help_text="fee item id")
    from_date = serializers.DateField()
    reason = serializers.CharField(max_length=255)


class BillingPeriodCloseIn(serializers.Serializer):
    estate = serializers.CharField(help_text="estate code")
    period = serializers.CharField(help_text="YYYY-MM")


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


def _valid(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


def _key(request, action: str) -> str:
    """The service-level idempotency key of a write: from the client's `Idempotency-Key`, else
    a fresh one (the request is then not deduplicated)."""
    given = (request.headers.get(HEADER) or "").strip()[:64]
    return f"api:{action}:{request.user.pk}:{given or uuid.uuid4().hex}"


def _charge(request, pk: int) -> Charge:
    return get_scoped(Charge.objects.select_related("unit", "fee_item"), request.user, pk=pk)


class ChargeList(generics.ListAPIView):
    """Charges of your estates (filters: estate, unit, party, run, period, status, kind); POST
    raises an ad hoc charge on a unit (billing.add_adhoc_charge): a repair, a card, money
    collected on behalf of a utility (pass-through), a deposit."""

    serializer_class = ChargeOut
    queryset = Charge.objects.none()

    @extend_schema(request=AdhocIn, responses={201: ChargeOut})
    @extend_schema(request=BillingPeriodCloseIn, responses={200: PeriodOut})
    @idempotent
    def post(self, request):
        data = _valid(AdhocIn, request)
        unit = get_scoped(Unit.objects.all(), request.user, pk=data["unit"])
        item = get_scoped(FeeItem.objects.all(), request.user, pk=data["fee_item"])
        charge = services.charge_adhoc_create(
            actor=request.user,
            unit=unit,
            fee_item=item,
            amount=data["amount"],
            description=data["description"],
            bill_date=data.get("bill_date"),
            due_date=data.get("due_date"),
            idempotency_key=_key(request, "adhoc"),
        )
        return Response(ChargeOut(charge).data, status=201)

    def get_queryset(self):
        q = self.request.query_params

        def number(name):
            return query_id(q, name)

        return selectors.charges_for(
            self.request.user,
            estate_id=number("estate"),
            unit_id=number("unit"),
            party_id=number("party"),
            run_id=number("run"),
            period=query_month(q, "period"),
            status=q.get("status", ""),
            kind=q.get("kind", ""),
        ).order_by("id")


class ChargeDetailOut(ChargeOut):
    """The schema of ChargeDetail's answer: the charge and its history."""

    waivers = WaiverOut(many=True)
    credit_notes = CreditNoteOut(many=True)
    debit_notes = ChargeOut(many=True)
    late_fees = ChargeOut(many=True)
    deposit_releases = ReleaseOut(many=True)
    deposit_held = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta(ChargeOut.Meta):
        fields = [
            *ChargeOut.Meta.fields,
            "waivers",
            "credit_notes",
            "debit_notes",
            "late_fees",
            "deposit_releases",
            "deposit_held",
        ]


class PartyStatementLineOut(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.CharField()
    text = serializers.CharField()
    debit = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)


class PartyStatementOut(serializers.Serializer):
    """The schema of StatementView's answer."""

    party = serializers.IntegerField()
    payment_ref = serializers.CharField()
    closing = serializers.DecimalField(max_digits=14, decimal_places=2)
    open_charges = serializers.DecimalField(max_digits=14, decimal_places=2)
    prepaid = serializers.DecimalField(max_digits=14, decimal_places=2)
    lines = PartyStatementLineOut(many=True)


class ChargeDetail(APIView):
    """One charge with its waivers, credit notes, debit notes, late fees and deposit
    releases."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ChargeDetailOut)
    def get(self, request, pk: int):
        _need(request.user, "billing.view_charge")
        charge = _charge(request, pk)
        history = selectors.charge_history(charge)
        return Response(
            {
                **ChargeOut(charge).data,
                "waivers": WaiverOut(history.waivers, many=True).data,
                "credit_notes": CreditNoteOut(history.credit_notes, many=True).data,
                "debit_notes": ChargeOut(history.debit_notes, many=True).data,
                "late_fees": ChargeOut(history.late_fees, many=True).data,
                "deposit_releases": ReleaseOut(history.releases, many=True).data,
                "deposit_held": str(history.deposit_held),
            }
        )


class ChargeWaiver(APIView):
    """Ask to waive part or all of an open charge (billing.add_waiver); a supervisor decides."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=AmountReasonIn, responses={201: WaiverOut})
    @idempotent
    def post(self, request, pk: int):
        data = _valid(AmountReasonIn, request)
        waiver = services.waiver_request(actor=request.user, charge=_charge(request, pk), **data)
        return Response(WaiverOut(waiver).data, status=201)


class ChargeCreditNote(APIView):
    """Lower a charge raised too high (billing.add_creditnote)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=AmountReasonIn, responses={201: CreditNoteOut})
    @idempotent
    def post(self, request, pk: int):
        data = _valid(AmountReasonIn, request)
        note = services.charge_credit_note(
            actor=request.user,
            charge=_charge(request, pk),
            idempotency_key=_key(request, "credit"),
            **data,
        )
        return Response(CreditNoteOut(note).data, status=201)


class ChargeDebitNote(APIView):
    """Raise more on a charge raised too low: a new charge of kind debit_note
    (billing.add_creditnote)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=AmountReasonIn, responses={201: ChargeOut})
    @idempotent
    def post(self, request, pk: int):
        data = _valid(AmountReasonIn, request)
        note = services.charge_debit_note(
            actor=request.user,
            charge=_charge(request, pk),
            idempotency_key=_key(request, "debit"),
            **data,
        )
        return Response(ChargeOut(note).data, status=201)


class ChargeDepositRelease(APIView):
    """Ask to refund or forfeit (part of) a paid deposit (billing.add_depositrelease)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReleaseIn, responses={201: ReleaseOut})
    @idempotent
    def post(self, request, pk: int):
        data = _valid(ReleaseIn, request)
        release = services.deposit_release_request(
            actor=request.user, charge=_charge(request, pk), **data
        )
        return Response(ReleaseOut(release).data, status=201)


class WaiverDecide(APIView):
    """Approve or reject a requested waiver (billing.approve_waiver, not who asked)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=DecideIn, responses={200: WaiverOut})
    @idempotent
    def post(self, request, pk: int):
        data = _valid(DecideIn, request)
        waiver = get_scoped(Waiver.objects.all(), request.user, pk=pk)
        note = data.get("note", "")
        if data["decision"] == "approve":
            waiver = services.waiver_approve(actor=request.user, waiver=waiver, note=note)
        else:
            waiver = services.waiver_reject(actor=request.user, waiver=waiver, note=note)
        return Response(WaiverOut(waiver).data)


class DepositReleaseDecide(APIView):
    """Approve or reject a deposit refund or forfeit (billing.approve_depositrelease)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=DecideIn, responses={200: ReleaseOut})
    @idempotent
    def post(self, request, pk: int):
        data = _valid(DecideIn, request)
        release = get_scoped(DepositRelease.objects.all(), request.user, pk=pk)
        if data["decision"] == "approve":
            release = services.deposit_release_approve(actor=request.user, release=release)
        else:
            release = services.deposit_release_reject(actor=request.user, release=release)
        return Response(ReleaseOut(release).data)


class FeeStopList(APIView):
    """Fee stops of your estates; POST stops a unit's recurring fee from a date
    (billing.stop_fee)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=FeeStopOut(many=True), operation_id="billing_fee_stops_list")
    def get(self, request):
        _need(request.user, "billing.view_feestop")
        return Response(FeeStopOut(selectors.fee_stops_for(request.user)[:500], many=True).data)

    @extend_schema(request=FeeStopIn, responses={201: FeeStopOut})
    @idempotent
    def post(self, request):
        data = _valid(FeeStopIn, request)
        stop = services.unit_fee_stop(
            actor=request.user,
            unit=get_scoped(Unit.objects.all(), request.user, pk=data["unit"]),
            fee_item=get_scoped(FeeItem.objects.all(), request.user, pk=data["fee_item"]),
            from_date=data["from_date"],
            reason=data["reason"],
        )
        return Response(FeeStopOut(stop).data, status=201)


class PeriodClose(APIView):
    """Close an estate's billing period: no run may bill it afterwards
    (billing.change_billingperiod)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=BillingPeriodCloseIn, responses={200: PeriodOut})
    @idempotent
    def post(self, request):
        data = _valid(BillingPeriodCloseIn, request)
        estate = get_scoped(
            scope(Estate.objects.all(), request.user, "id"),
            request.user,
            "id",
            code=data["estate"],
        )
        bp = services.billing_period_close(actor=request.user, estate=estate, period=data["period"])
        return Response(PeriodOut(bp).data)


class RunCancel(APIView):
    """Cancel a posted run by reversal while none of its charges is touched
    (billing.cancel_billingrun)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReasonIn, responses={200: RunOut})
    @idempotent
    def post(self, request, pk: int):
        data = _valid(ReasonIn, request)
        run = services.billing_run_cancel(
            run=_run(request, pk), actor=request.user, reason=data["reason"]
        )
        return Response(RunOut(run).data)


class StatementView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PartyStatementOut)
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
    path("billing/runs/<int:pk>/cancel/", RunCancel.as_view(), name="billing-run-cancel"),
    path("billing/charges/", ChargeList.as_view(), name="billing-charges"),
    path("billing/charges/<int:pk>/", ChargeDetail.as_view(), name="billing-charge"),
    path("billing/charges/<int:pk>/waivers/", ChargeWaiver.as_view(), name="billing-charge-waiver"),
    path(
        "billing/charges/<int:pk>/credit-notes/",
        ChargeCreditNote.as_view(),
        name="billing-charge-credit-note",
    ),
    path(
        "billing/charges/<int:pk>/debit-notes/",
        ChargeDebitNote.as_view(),
        name="billing-charge-debit-note",
    ),
    path(
        "billing/charges/<int:pk>/deposit-releases/",
        ChargeDepositRelease.as_view(),
        name="billing-charge-deposit-release",
    ),
    path("billing/waivers/<int:pk>/decide/", WaiverDecide.as_view(), name="billing-waiver-decide"),
    path(
        "billing/deposit-releases/<int:pk>/decide/",
        DepositReleaseDecide.as_view(),
        name="billing-deposit-release-decide",
    ),
    path("billing/fee-stops/", FeeStopList.as_view(), name="billing-fee-stops"),
    path("billing/periods/close/", PeriodClose.as_view(), name="billing-period-close"),
    path("billing/statements/<int:party_pk>/", StatementView.as_view(), name="billing-statement"),
]
