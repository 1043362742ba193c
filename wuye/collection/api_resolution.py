"""REST endpoints of the resolution paths under /api/v1/collection/: installment plans,
disputes, work orders, formal demands, legal cases, and the limitation list. Same permissions
and estate scoping as the pages (another estate's record is a 404); creating writes honour
`Idempotency-Key`. Each view parses, then calls one service."""

from django.http import FileResponse, Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.audit.idempotency import idempotent
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.masking import mask_name
from wuye.core.params import query_int
from wuye.registry.models import Estate
from wuye.registry.selectors import get_scoped, scope

from . import resolution_selectors as sel
from .limitation_selectors import periods_ending_within
from .models import Dispute, FormalDemand, InstallmentPlan, LegalCase, WorkOrder
from .services import demands, disputes, legal, plans


def _need(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied()


def _valid(cls, request):
    data = cls(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


def _case(request, pk: int):
    return get_scoped(sel.cases_for(request.user), request.user, pk=pk)


def _file(request, name: str) -> tuple[bytes, str]:
    f = request.FILES.get(name)
    if f is None:
        raise DomainError(
            _("upload the file as the multipart field %(name)s") % {"name": name}, field=name
        )
    return f.read(), f.name


# --- serializers -----------------------------------------------------------------------------


class InstalmentOut(serializers.Serializer):
    number = serializers.IntegerField()
    due_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    covered = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField()


class PlanOut(serializers.ModelSerializer):
    instalments = InstalmentOut(many=True, read_only=True)
    charges = serializers.SerializerMethodField()

    class Meta:
        model = InstallmentPlan
        fields = [
            "id", "number", "case", "party", "status", "kind", "total", "grace_days",
            "signed_on", "signed_sha256", "approved_by", "approved_at", "ended_on",
            "end_reason", "instalments", "charges",
        ]  # fmt: skip

    def get_charges(self, plan) -> list[int]:
        return list(plan.plan_charges.values_list("charge_id", flat=True))


class ScheduleRowIn(serializers.Serializer):
    due_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class PlanIn(serializers.Serializer):
    case = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=InstallmentPlan.Kind.choices)
    charge_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    count = serializers.IntegerField(required=False)
    first_due = serializers.DateField(required=False)
    every_months = serializers.IntegerField(required=False, default=1)
    schedule = ScheduleRowIn(many=True, required=False)
    grace_days = serializers.IntegerField(required=False, default=5)
    note = serializers.CharField(required=False, default="", allow_blank=True)


class WorkOrderOut(serializers.ModelSerializer):
    class Meta:
        model = WorkOrder
        fields = [
            "id", "number", "dispute", "department", "category", "description", "owner",
            "promised_by", "status", "escalated_at", "created_at", "closed_at", "resolution",
        ]  # fmt: skip


class DisputeOut(serializers.ModelSerializer):
    work_orders = WorkOrderOut(many=True, read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id", "party", "case", "category", "description", "amount", "source",
            "portal_request_id", "status", "raised_at", "resolved_at", "outcome",
            "outcome_note", "resolution_hours", "work_orders",
        ]  # fmt: skip


class DisputeIn(serializers.Serializer):
    case = serializers.IntegerField()
    category = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    department = serializers.CharField(required=False, default="", allow_blank=True)
    promised_by = serializers.DateTimeField(required=False)


class DemandOut(serializers.ModelSerializer):
    class Meta:
        model = FormalDemand
        fields = [
            "id", "number", "case", "party", "batch", "issued_on", "deadline", "principal",
            "late_fee", "total", "periods", "charge_ids", "pdf_sha256", "delivery", "status",
            "tracking_number", "sent_on", "delivered_on", "received_by", "proof_name",
            "proof_sha256",
        ]  # fmt: skip


class DemandIn(serializers.Serializer):
    case = serializers.IntegerField()
    delivery = serializers.ChoiceField(choices=FormalDemand.Delivery.choices)
    deadline = serializers.DateField(required=False)


class LegalOut(serializers.ModelSerializer):
    class Meta:
        model = LegalCase
        fields = [
            "id", "case", "party", "kind", "status", "amount_claimed", "reason", "stages",
            "proposed_by", "proposed_at", "decided_by", "decided_at", "decision_note",
            *legal.TRACKED, "evidence_sha256", "evidence_made_at",
        ]  # fmt: skip


class LegalIn(serializers.Serializer):
    case = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LegalCase.Kind.choices)
    reason = serializers.CharField()


class LegalUpdateIn(serializers.Serializer):
    court = serializers.CharField(required=False, allow_blank=True)
    case_number = serializers.CharField(required=False, allow_blank=True)
    filed_on = serializers.DateField(required=False, allow_null=True)
    hearing_on = serializers.DateField(required=False, allow_null=True)
    judgment_on = serializers.DateField(required=False, allow_null=True)
    judgment = serializers.CharField(required=False, allow_blank=True)
    judgment_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    enforcement_number = serializers.CharField(required=False, allow_blank=True)
    enforcement = serializers.CharField(required=False, allow_blank=True)
    costs = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    costs_note = serializers.CharField(required=False, allow_blank=True)
    closed_on = serializers.DateField(required=False, allow_null=True)


class NoteIn(serializers.Serializer):
    note = serializers.CharField(required=False, default="", allow_blank=True)


# --- plans -----------------------------------------------------------------------------------


class PlanList(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_installmentplan")
        qs = sel.plans_for(request.user, status=request.query_params.get("status", ""))
        return Response(PlanOut(qs.prefetch_related("instalments")[:200], many=True).data)

    @idempotent
    def post(self, request):
        data = _valid(PlanIn, request)
        case = _case(request, data.pop("case"))
        schedule = [(r["due_on"], r["amount"]) for r in data.pop("schedule", [])]
        plan = plans.plan_draft(actor=request.user, case=case, schedule=schedule or None, **data)
        return Response(PlanOut(plan).data, status=201)


def _plan(request, pk):
    return get_scoped(sel.plans_for(request.user), request.user, pk=pk)


class PlanDetail(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_installmentplan")
        return Response(PlanOut(_plan(request, pk)).data)


class PlanAction(APIView):
    """POST sign (multipart: file, signed_on), approve, cancel (reason)."""

    permission_classes = [IsAuthenticated]

    def post(self, request, pk: int, action: str):
        plan = _plan(request, pk)
        if action == "sign":
            content, name = _file(request, "file")
            signed_on = serializers.DateField().to_internal_value(
                request.data.get("signed_on") or str(timezone.localdate())
            )
            plan = plans.plan_sign(
                actor=request.user, plan=plan, content=content, name=name, signed_on=signed_on
            )
        elif action == "approve":
            plan = plans.plan_approve(
                actor=request.user, plan=plan, note=request.data.get("note", "")
            )
        elif action == "cancel":
            plan = plans.plan_cancel(
                actor=request.user, plan=plan, reason=request.data.get("reason", "")
            )
        else:
            raise Http404(action)
        return Response(PlanOut(plan).data)


class PlanAgreement(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_installmentplan")
        from django.http import HttpResponse

        plan = _plan(request, pk)
        return HttpResponse(plans.plan_agreement_pdf(plan), content_type="application/pdf")


# --- disputes and work orders ----------------------------------------------------------------


class DisputeList(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_dispute")
        qs = sel.disputes_for(request.user, status=request.query_params.get("status", ""))
        return Response(DisputeOut(qs.prefetch_related("work_orders")[:200], many=True).data)

    @idempotent
    def post(self, request):
        data = _valid(DisputeIn, request)
        case = _case(request, data.pop("case"))
        dispute = disputes.dispute_raise(actor=request.user, party=case.party, case=case, **data)
        return Response(DisputeOut(dispute).data, status=201)


class DisputeDetail(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_dispute")
        return Response(
            DisputeOut(get_scoped(sel.disputes_for(request.user), request.user, pk=pk)).data
        )


class DisputeResolve(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request, pk: int):
        dispute = get_scoped(sel.disputes_for(request.user), request.user, pk=pk)
        dispute = disputes.dispute_resolve(
            actor=request.user,
            dispute=dispute,
            outcome=request.data.get("outcome", ""),
            note=request.data.get("note", ""),
        )
        return Response(DisputeOut(dispute).data)


class WorkOrderList(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_workorder")
        qs = sel.work_orders_for(
            request.user,
            status=request.query_params.get("status", ""),
            department=request.query_params.get("department", ""),
        )
        return Response(WorkOrderOut(qs[:200], many=True).data)


class WorkOrderDetail(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_workorder")
        order = get_scoped(sel.work_orders_for(request.user), request.user, pk=pk)
        return Response(WorkOrderOut(order).data)


class WorkOrderClose(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request, pk: int):
        order = get_scoped(sel.work_orders_for(request.user), request.user, pk=pk)
        order = disputes.work_order_close(
            actor=request.user, order=order, resolution=request.data.get("resolution", "")
        )
        return Response(WorkOrderOut(order).data)


# --- demands ---------------------------------------------------------------------------------


class DemandList(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_formaldemand")
        qs = sel.demands_for(request.user, status=request.query_params.get("status", ""))
        return Response(DemandOut(qs[:200], many=True).data)

    @idempotent
    def post(self, request):
        data = _valid(DemandIn, request)
        case = _case(request, data.pop("case"))
        demand = demands.demand_issue(actor=request.user, case=case, **data)
        return Response(DemandOut(demand).data, status=201)


def _demand(request, pk):
    return get_scoped(sel.demands_for(request.user), request.user, pk=pk)


class DemandDetail(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_formaldemand")
        return Response(DemandOut(_demand(request, pk)).data)


class DemandAction(APIView):
    """POST post (tracking_number), deliver (multipart: proof, delivered_on, received_by)."""

    permission_classes = [IsAuthenticated]

    def post(self, request, pk: int, action: str):
        demand = _demand(request, pk)
        if action == "post":
            demand = demands.demand_post(
                actor=request.user,
                demand=demand,
                tracking_number=request.data.get("tracking_number", ""),
            )
        elif action == "deliver":
            proof, name = _file(request, "proof")
            delivered_on = serializers.DateField().to_internal_value(
                request.data.get("delivered_on") or str(timezone.localdate())
            )
            demand = demands.demand_deliver(
                actor=request.user,
                demand=demand,
                proof=proof,
                proof_name=name,
                delivered_on=delivered_on,
                received_by=request.data.get("received_by", ""),
            )
        else:
            raise Http404(action)
        return Response(DemandOut(demand).data)


class DemandPdf(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_formaldemand")
        demand = _demand(request, pk)
        return FileResponse(demand.pdf.open("rb"), filename=f"{demand.number}.pdf")


# --- legal cases -----------------------------------------------------------------------------


class LegalList(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_legalcase")
        qs = sel.legal_cases_for(request.user, status=request.query_params.get("status", ""))
        return Response(LegalOut(qs[:200], many=True).data)

    @idempotent
    def post(self, request):
        data = _valid(LegalIn, request)
        case = _case(request, data.pop("case"))
        item = legal.legal_propose(actor=request.user, case=case, **data)
        return Response(LegalOut(item).data, status=201)


def _legal(request, pk):
    return get_scoped(sel.legal_cases_for(request.user), request.user, pk=pk)


class LegalDetail(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_legalcase")
        return Response(LegalOut(_legal(request, pk)).data)

    def patch(self, request, pk: int):
        data = _valid(LegalUpdateIn, request)
        item = legal.legal_update(actor=request.user, legal=_legal(request, pk), **data)
        return Response(LegalOut(item).data)


class LegalAction(APIView):
    """POST approve (note), reject (note), evidence (build the ZIP)."""

    permission_classes = [IsAuthenticated]

    def post(self, request, pk: int, action: str):
        item = _legal(request, pk)
        note = _valid(NoteIn, request)["note"]
        if action == "approve":
            item = legal.legal_approve(actor=request.user, legal=item, note=note)
        elif action == "reject":
            item = legal.legal_reject(actor=request.user, legal=item, note=note)
        elif action == "evidence":
            item = legal.evidence_build(actor=request.user, legal=item)
        else:
            raise Http404(action)
        return Response(LegalOut(item).data)


class LegalEvidence(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_legalcase")
        item = _legal(request, pk)
        if not item.evidence:
            raise Http404("no evidence file")
        return FileResponse(item.evidence.open("rb"), filename=f"evidence-{item.pk}.zip")


# --- limitation ------------------------------------------------------------------------------


class LimitationList(APIView):
    """Periods of an estate whose limitation ends within `days` (default 90), or `barred=1`."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_arrearscase")
        estate = get_scoped(
            scope(Estate.objects.all(), request.user, "id"),
            request.user,
            "id",
            code=request.query_params.get("estate", ""),
        )
        days = query_int(request.query_params, "days", 90, maximum=3650)
        rows = periods_ending_within(
            estate,
            today=timezone.localdate(),
            days=days,
            barred=request.query_params.get("barred") == "1",
        )
        reveal = request.user.has_perm("registry.view_pii")
        return Response(
            [
                {
                    "party": r.party.pk,
                    "party_name": r.party.name if reveal else mask_name(r.party.name),
                    "period": r.clock.period,
                    "outstanding": str(r.outstanding),
                    "due_date": r.clock.due_date,
                    "ends_on": r.clock.ends_on,
                    "days_left": r.clock.days_left,
                    "barred": r.clock.barred,
                    "restarts": [
                        {"on": e.on, "kind": e.kind, "evidence": e.evidence}
                        for e in r.clock.restarts
                    ],
                }
                for r in rows
            ]
        )


urlpatterns = [
    path("collection/plans/", PlanList.as_view()),
    path("collection/plans/<int:pk>/", PlanDetail.as_view()),
    path("collection/plans/<int:pk>/agreement.pdf", PlanAgreement.as_view()),
    path("collection/plans/<int:pk>/<str:action>/", PlanAction.as_view()),
    path("collection/disputes/", DisputeList.as_view()),
    path("collection/disputes/<int:pk>/", DisputeDetail.as_view()),
    path("collection/disputes/<int:pk>/resolve/", DisputeResolve.as_view()),
    path("collection/work-orders/", WorkOrderList.as_view()),
    path("collection/work-orders/<int:pk>/", WorkOrderDetail.as_view()),
    path("collection/work-orders/<int:pk>/close/", WorkOrderClose.as_view()),
    path("collection/demands/", DemandList.as_view()),
    path("collection/demands/<int:pk>/", DemandDetail.as_view()),
    path("collection/demands/<int:pk>/pdf/", DemandPdf.as_view()),
    path("collection/demands/<int:pk>/<str:action>/", DemandAction.as_view()),
    path("collection/legal-cases/", LegalList.as_view()),
    path("collection/legal-cases/<int:pk>/", LegalDetail.as_view()),
    path("collection/legal-cases/<int:pk>/evidence.zip", LegalEvidence.as_view()),
    path("collection/legal-cases/<int:pk>/<str:action>/", LegalAction.as_view()),
    path("collection/limitation/", LimitationList.as_view()),
]
