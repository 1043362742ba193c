"""REST endpoints of the dunning engine under /api/v1/collection/: the arrears list, policies,
runs, cases, tasks and contacts. Same permissions and estate scoping as the pages (another
estate's record is a 404); writes honour `Idempotency-Key`. Each view parses, then calls one
service or selector."""

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.audit.idempotency import idempotent
from wuye.core.errors import PermissionDenied
from wuye.core.masking import mask_name
from wuye.core.params import query_amount, query_date, query_id, query_int
from wuye.registry.models import Estate, Party
from wuye.registry.selectors import get_scoped

from . import selectors as sel
from .models import ActionKind, ContactChannel, ContactLog, DunningPolicy, Reason
from .services import contacts, policies, run


def _need(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied()


def _reveal(request) -> dict:
    """Serializer context: may the caller see owners' names in full? Roles without
    `registry.view_pii` (the auditor) get 张* as on the pages and in the xlsx export."""
    return {"reveal": request.user.has_perm("registry.view_pii")}


class _PartyName(serializers.CharField):
    """The owner's name, masked (张*) unless the context says `reveal`."""

    def to_representation(self, value):
        name = super().to_representation(value)
        return name if self.context.get("reveal") else mask_name(name)


def _valid(cls, request):
    data = cls(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


class ArrearsRowOut(serializers.Serializer):
    party = serializers.IntegerField(source="party_id")
    party_name = _PartyName(source="party__name")
    estate = serializers.IntegerField(source="estate_id")
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    d30 = serializers.DecimalField(max_digits=14, decimal_places=2)
    d90 = serializers.DecimalField(max_digits=14, decimal_places=2)
    d180 = serializers.DecimalField(max_digits=14, decimal_places=2)
    d365 = serializers.DecimalField(max_digits=14, decimal_places=2)
    over = serializers.DecimalField(max_digits=14, decimal_places=2)
    oldest = serializers.CharField()


class ActionIO(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActionKind.choices)
    channel = serializers.CharField(required=False, allow_blank=True, default="")
    template_code = serializers.CharField(required=False, allow_blank=True, default="")
    task_role = serializers.CharField(required=False, allow_blank=True, default="")


class StageIO(serializers.Serializer):
    number = serializers.IntegerField(required=False)
    name = serializers.CharField(max_length=50)
    min_days = serializers.IntegerField(min_value=0)
    repeat_days = serializers.IntegerField(min_value=0, default=0)
    assignee_role = serializers.CharField(default="collector")
    needs_approval = serializers.BooleanField(default=False)
    needs_reason = serializers.CharField(required=False, allow_blank=True, default="")
    actions = ActionIO(many=True)


class PolicyIO(serializers.Serializer):
    estate = serializers.IntegerField(source="estate_id", read_only=True)
    name = serializers.CharField(max_length=100)
    is_active = serializers.BooleanField(default=True)
    escalate_after_days = serializers.IntegerField(min_value=0, default=21)
    stages = StageIO(many=True)


def _policy_out(policy: DunningPolicy) -> dict:
    return {
        "estate": policy.estate_id,
        "name": policy.name,
        "is_active": policy.is_active,
        "escalate_after_days": policy.escalate_after_days,
        "stages": [
            {
                "number": s.number,
                "name": s.name,
                "min_days": s.min_days,
                "repeat_days": s.repeat_days,
                "assignee_role": s.assignee_role,
                "needs_approval": s.needs_approval,
                "needs_reason": s.needs_reason,
                "actions": [
                    {
                        "kind": a.kind,
                        "channel": a.channel,
                        "template_code": a.template_code,
                        "task_role": a.task_role,
                    }
                    for a in s.actions.all()
                ],
            }
            for s in policy.stages.all()
        ],
    }


class ArrearsApi(APIView):
    """GET collection/arrears/?estate=&building=&bucket=&min_amount=&max_amount=&stage=&reason=
    &collector=&sort=&as_of= : the arrears list, one row per party, with totals."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_arrearscase")
        q = request.query_params
        as_of = query_date(q, "as_of", timezone.localdate())
        filters = sel.ArrearsFilters(
            estate_id=query_id(q, "estate"),
            building_id=query_id(q, "building"),
            bucket=q.get("bucket", ""),
            min_amount=query_amount(q, "min_amount"),
            max_amount=query_amount(q, "max_amount"),
            stage=query_int(q, "stage", maximum=99),
            reason=q.get("reason", ""),
            collector_id=query_id(q, "collector"),
            sort=q.get("sort", "-total"),
        )
        rows = sel.arrears_list(request.user, as_of=as_of, filters=filters)
        page = list(rows[:500])
        totals = sel.arrears_totals(rows)
        return Response(
            {
                "as_of": as_of,
                "totals": {k: str(v) for k, v in totals.items()},
                "results": ArrearsRowOut(page, many=True, context=_reveal(request)).data,
            }
        )


class PolicyApi(APIView):
    """GET/PUT collection/policies/<estate id>/ : the estate's dunning policy."""

    permission_classes = [IsAuthenticated]

    def _estate(self, request, estate_id):
        return get_scoped(Estate.objects.all(), request.user, field="id", pk=estate_id)

    def get(self, request, estate_id: int):
        _need(request.user, "collection.view_dunningpolicy")
        estate = self._estate(request, estate_id)
        return Response(_policy_out(policies.policy_default(estate=estate)))

    @idempotent
    def put(self, request, estate_id: int):
        estate = self._estate(request, estate_id)
        data = _valid(PolicyIO, request)
        policy = policies.policy_default(estate=estate)
        stages = data.pop("stages")
        policy = policies.policy_update(actor=request.user, policy=policy, stages=stages, **data)
        return Response(_policy_out(DunningPolicy.objects.get(pk=policy.pk)))


class RunIn(serializers.Serializer):
    as_of = serializers.DateField(required=False)
    estate = serializers.IntegerField()


class RunsApi(APIView):
    """GET collection/runs/ ; POST {"estate", "as_of"} runs the engine (idempotent per day)."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_dunningrun")
        rows = sel.runs_for(request.user)[:100]
        return Response(
            [
                {
                    "id": r.pk,
                    "estate": r.estate_id,
                    "as_of": r.as_of,
                    "status": r.status,
                    "counts": r.counts,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                }
                for r in rows
            ]
        )

    @idempotent
    def post(self, request):
        data = _valid(RunIn, request)
        get_scoped(Estate.objects.all(), request.user, field="id", pk=data["estate"])
        done = run.dunning_run(
            as_of=data.get("as_of") or timezone.localdate(),
            estate_id=data["estate"],
            actor=request.user,
        )
        return Response({"id": done.pk, "status": done.status, "counts": done.counts}, status=201)


class CaseOut(serializers.Serializer):
    id = serializers.IntegerField()
    estate = serializers.IntegerField(source="estate_id")
    party = serializers.IntegerField(source="party_id")
    party_name = _PartyName(source="party.name")
    status = serializers.CharField()
    stage = serializers.IntegerField(source="stage_number")
    reason = serializers.CharField()
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    oldest_due_date = serializers.DateField(allow_null=True)
    opened_on = serializers.DateField()
    closed_on = serializers.DateField(allow_null=True)
    next_action_date = serializers.DateField(allow_null=True)
    broken_promises = serializers.IntegerField()


class CasesApi(APIView):
    """GET collection/cases/?status=&stage=&reason=&assignee="""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_arrearscase")
        qs = sel.cases_for(request.user)
        q = request.query_params
        if q.get("status"):
            qs = qs.filter(status=q["status"])
        if (stage := query_int(q, "stage", maximum=99)) is not None:
            qs = qs.filter(stage_number=stage)
        if q.get("reason"):
            qs = qs.filter(reason=q["reason"])
        if (assignee := query_id(q, "assignee")) is not None:
            qs = qs.filter(assignee_id=assignee)
        return Response(CaseOut(qs[:500], many=True, context=_reveal(request)).data)


class CaseApi(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk: int):
        _need(request.user, "collection.view_arrearscase")
        case = get_scoped(sel.cases_for(request.user), request.user, pk=pk)
        data = CaseOut(case, context=_reveal(request)).data
        data["charges"] = list(case.case_charges.values_list("charge_id", flat=True))
        data["promises"] = [
            {"id": p.pk, "amount": str(p.amount), "due_on": p.due_on, "status": p.status}
            for p in case.promises.all()
        ]
        return Response(data)


class TasksApi(APIView):
    """GET collection/tasks/?mine=1&status=open"""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_task")
        q = request.query_params
        qs = sel.tasks_for(request.user, mine=q.get("mine") == "1", status=q.get("status", "open"))
        return Response(
            [
                {
                    "id": t.pk,
                    "case": t.case_id,
                    "party": t.case.party_id,
                    "kind": t.kind,
                    "role": t.role,
                    "assignee": t.assignee_id,
                    "due_on": t.due_on,
                    "status": t.status,
                    "stage": t.stage_number,
                    "note": t.note_text,
                }
                for t in qs[:500]
            ]
        )


class ContactIn(serializers.Serializer):
    party = serializers.IntegerField()
    case = serializers.IntegerField(required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    outcome = serializers.ChoiceField(choices=ContactLog.Outcome.choices)
    reason = serializers.ChoiceField(choices=Reason.choices, required=False, allow_blank=True)
    said = serializers.CharField(required=False, allow_blank=True, default="")
    response = serializers.CharField(required=False, allow_blank=True, default="")
    # Not the client's to declare: see ContactsApi. `false` is accepted (older clients).
    inbound = serializers.BooleanField(required=False, default=False)

    def validate_inbound(self, value: bool) -> bool:
        if value:
            raise serializers.ValidationError(
                _(
                    "the API records the office's contacts, which the contact policy checks; "
                    "an owner who comes to the office is recorded with channel in_person"
                )
            )
        return value


class ContactOut(serializers.ModelSerializer):
    class Meta:
        model = ContactLog
        fields = [
            "id", "estate", "seq", "party", "case", "at", "channel", "staff", "said",
            "response", "outcome", "reason", "message", "corrects", "hash",
        ]  # fmt: skip


class ContactsApi(APIView):
    """GET collection/contacts/?party=&case= ; POST records a contact (append-only).

    A posted contact is the office's own (outbound): a call or visit goes through the contact
    policy (quiet hours, the weekly cap, opt-outs) and is recorded as `suppressed` when the
    policy refuses it. The client cannot declare it "inbound" (`"inbound": true` is a 400):
    that would skip the policy in a log that is court evidence. Only a channel that is
    inbound by nature counts as inbound: `in_person`, the owner at the office, which the
    policy does not check anyway. Contacts the system knows to be the owner's own (a portal
    request, a delivery receipt) are recorded by their services, not through this API."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        _need(request.user, "collection.view_contactlog")
        qs = sel.contacts_for(request.user)
        q = request.query_params
        if (party := query_id(q, "party")) is not None:
            qs = qs.filter(party_id=party)
        if (case := query_id(q, "case")) is not None:
            qs = qs.filter(case_id=case)
        return Response(ContactOut(qs[:500], many=True).data)

    @idempotent
    def post(self, request):
        data = _valid(ContactIn, request)
        party = get_scoped(Party.objects.all(), request.user, pk=data["party"])
        case = None
        if data.get("case"):
            case = get_scoped(sel.cases_for(request.user), request.user, pk=data["case"])
        entry = contacts.contact_record(
            actor=request.user,
            party=party,
            case=case,
            channel=data["channel"],
            outcome=data["outcome"],
            reason=data.get("reason", ""),
            said=data["said"],
            response=data["response"],
            inbound=data["channel"] == ContactChannel.IN_PERSON,
        )
        return Response(ContactOut(entry).data, status=201)


urlpatterns = [
    path("collection/arrears/", ArrearsApi.as_view(), name="collection-arrears"),
    path("collection/policies/<int:estate_id>/", PolicyApi.as_view(), name="collection-policy"),
    path("collection/runs/", RunsApi.as_view(), name="collection-runs"),
    path("collection/cases/", CasesApi.as_view(), name="collection-cases"),
    path("collection/cases/<int:pk>/", CaseApi.as_view(), name="collection-case"),
    path("collection/tasks/", TasksApi.as_view(), name="collection-tasks"),
    path("collection/contacts/", ContactsApi.as_view(), name="collection-contacts"),
]
