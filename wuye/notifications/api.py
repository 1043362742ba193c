"""REST endpoints of notifications under /api/v1/notifications/.

Staff endpoints (token or session): the outbox (list with filters, one message, resend), the
templates (list, create, revise, preview) and campaigns (start, progress). Reads go through the
estate-scoped selectors. Provider callbacks (delivery receipts) are open endpoints guarded by
the shared `receipt_token` of WUYE_NOTIFY (`?token=`), and for WeChat also by its signature."""

import hashlib
import hmac
import xml.etree.ElementTree as ET  # noqa: S405 (WeChat's small XML event, not untrusted DTDs)

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.audit.idempotency import idempotent
from wuye.core.errors import PermissionDenied as DomainPermissionDenied
from wuye.core.names import person_name
from wuye.core.pagination import CappedLimitOffsetPagination
from wuye.core.params import query_date, query_id
from wuye.registry.models import Estate, Party
from wuye.registry.selectors import get_scoped

from . import selectors, services
from .conf import notify_settings
from .models import (
    Campaign,
    Channel,
    ChannelConsent,
    ContactPolicy,
    Language,
    Message,
    MessageTemplate,
    Purpose,
)
from .policy import CONSENT_REQUIRED, policy_for


class MessageOut(serializers.ModelSerializer):
    # Staff read a one-time code (any secret value) masked, never in clear.
    subject = serializers.CharField(source="staff_subject", read_only=True)
    text = serializers.CharField(source="staff_text", read_only=True)
    last_error = serializers.CharField(source="staff_last_error", read_only=True)
    secret = serializers.BooleanField(source="is_secret", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "estate",
            "party",
            "channel",
            "purpose",
            "template_code",
            "template_version",
            "language",
            "subject",
            "text",
            "secret",
            "status",
            "suppressed_reason",
            "not_before",
            "provider",
            "provider_id",
            "attempts",
            "last_error",
            "fallback_of",
            "campaign",
            "tracking_number",
            "created_at",
            "sent_at",
            "delivered_at",
        ]


class TemplateOut(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "code",
            "purpose",
            "channel",
            "language",
            "version",
            "name",
            "subject",
            "body",
            "is_active",
            "created_at",
        ]


class TemplateIn(serializers.Serializer):
    code = serializers.SlugField(max_length=50)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default="")
    language = serializers.ChoiceField(choices=Language.choices)
    name = serializers.CharField(max_length=100, required=False, default="")
    subject = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    body = serializers.CharField()


class RevisionIn(serializers.Serializer):
    subject = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    body = serializers.CharField()


class PreviewIn(serializers.Serializer):
    party = serializers.IntegerField()
    context = serializers.DictField(child=serializers.CharField(), required=False, default=dict)


class ResendIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)


class CampaignIn(serializers.Serializer):
    estate = serializers.IntegerField()
    period = serializers.CharField(max_length=7)
    template_code = serializers.CharField(max_length=50, required=False, default="bill_notice")


class CampaignOut(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = [
            "id",
            "estate",
            "period",
            "purpose",
            "template_code",
            "status",
            "total",
            "processed",
            "counts",
            "last_error",
            "created_at",
            "finished_at",
        ]


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _Staff(APIView):
    permission_classes = [IsAuthenticated]
    perm = ""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.perm and not request.user.has_perm(self.perm):
            raise DomainPermissionDenied(f"missing permission {self.perm}")


class MessageList(_Staff, GenericAPIView):
    """The outbox, a page at a time (`limit`, `offset`: the schema documents the page)."""

    perm = "notifications.view_message"
    serializer_class = MessageOut
    pagination_class = CappedLimitOffsetPagination
    queryset = Message.objects.none()  # for the schema; reads are scoped by the selector

    @extend_schema(responses=MessageOut(many=True), operation_id="notifications_messages_list")
    def get(self, request: Request) -> Response:
        q = request.query_params
        qs = selectors.message_search(
            request.user,
            status=q.get("status", ""),
            channel=q.get("channel", ""),
            purpose=q.get("purpose", ""),
            party=q.get("party", ""),
            estate_id=query_id(q, "estate"),
            date_from=query_date(q, "date_from"),
            date_to=query_date(q, "date_to"),
            campaign_id=query_id(q, "campaign"),
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(MessageOut(page, many=True).data)


class MessageDetail(_Staff):
    perm = "notifications.view_message"

    @extend_schema(responses=MessageOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(MessageOut(get_scoped(Message.objects.all(), request.user, pk=pk)).data)


class MessageResend(_Staff):
    @extend_schema(request=ResendIn, responses={201: MessageOut})
    def post(self, request: Request, pk: int) -> Response:
        message = get_scoped(Message.objects.all(), request.user, pk=pk)
        data = _valid(ResendIn, request)
        new = services.message_resend(
            actor=request.user, message=message, channel=data.get("channel")
        )
        return Response(MessageOut(new).data, status=status.HTTP_201_CREATED)


class TemplateList(_Staff):
    perm = "notifications.view_messagetemplate"

    @extend_schema(responses=TemplateOut(many=True), operation_id="notifications_templates_list")
    def get(self, request: Request) -> Response:
        qs = selectors.template_list(
            code=request.query_params.get("code", ""),
            language=request.query_params.get("language", ""),
            active_only=request.query_params.get("active") in ("1", "true"),
        )
        return Response(TemplateOut(qs, many=True).data)

    @extend_schema(request=TemplateIn, responses={201: TemplateOut})
    def post(self, request: Request) -> Response:
        template = services.template_create(actor=request.user, **_valid(TemplateIn, request))
        return Response(TemplateOut(template).data, status=status.HTTP_201_CREATED)


class TemplateDetail(_Staff):
    perm = "notifications.view_messagetemplate"

    @extend_schema(responses=TemplateOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(TemplateOut(get_object_or_404(MessageTemplate, pk=pk)).data)


class TemplateRevise(_Staff):
    @extend_schema(request=RevisionIn, responses={201: TemplateOut})
    def post(self, request: Request, pk: int) -> Response:
        template = get_object_or_404(MessageTemplate, pk=pk)
        new = services.template_revise(
            actor=request.user, template=template, **_valid(RevisionIn, request)
        )
        return Response(TemplateOut(new).data, status=status.HTTP_201_CREATED)


class TemplatePreview(_Staff):
    perm = "notifications.view_messagetemplate"

    @extend_schema(request=PreviewIn, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        template = get_object_or_404(MessageTemplate, pk=pk)
        data = _valid(PreviewIn, request)
        party = get_scoped(Party.objects.select_related("estate"), request.user, pk=data["party"])
        return Response(
            services.template_preview(template=template, party=party, context=data["context"])
        )


class CampaignStart(_Staff):
    @extend_schema(request=CampaignIn, responses={202: CampaignOut})
    def post(self, request: Request) -> Response:
        data = _valid(CampaignIn, request)
        campaign = services.campaign_start(
            actor=request.user,
            estate_id=data["estate"],
            period=data["period"],
            template_code=data["template_code"],
        )
        return Response(CampaignOut(campaign).data, status=status.HTTP_202_ACCEPTED)


class CampaignDetail(_Staff):
    perm = "notifications.view_campaign"

    @extend_schema(responses=CampaignOut)
    def get(self, request: Request, pk: int) -> Response:
        campaign = get_scoped(Campaign.objects.all(), request.user, pk=pk)
        body = CampaignOut(campaign).data
        body["outbox"] = selectors.campaign_outbox_counts(campaign)
        return Response(body)


# --- provider callbacks ----------------------------------------------------------------------
class PolicyOut(serializers.ModelSerializer):
    class Meta:
        model = ContactPolicy
        fields = [
            "estate",
            "time_zone",
            "quiet_start",
            "quiet_end",
            "weekly_cap",
            "weekly_cap_total",
            "channels_enabled",
            "default_language",
        ]
        read_only_fields = fields


class PolicyIn(serializers.Serializer):
    quiet_start = serializers.TimeField(required=False)
    quiet_end = serializers.TimeField(required=False)
    weekly_cap = serializers.IntegerField(required=False, min_value=0, max_value=50)
    weekly_cap_total = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100
    )
    channels_enabled = serializers.DictField(child=serializers.BooleanField(), required=False)
    default_language = serializers.ChoiceField(choices=Language.choices, required=False)


class ContactPolicyDetail(_Staff):
    """An estate's contact policy (defaults when never set); PUT changes it (supervisors)."""

    perm = "notifications.view_contactpolicy"

    def _estate_id(self, request: Request, estate_pk: int) -> int:
        return get_scoped(Estate.objects.all(), request.user, "id", pk=estate_pk).pk

    @extend_schema(responses=PolicyOut)
    def get(self, request: Request, estate_pk: int) -> Response:
        return Response(PolicyOut(policy_for(self._estate_id(request, estate_pk))).data)

    @extend_schema(request=PolicyIn, responses=PolicyOut)
    @idempotent
    def put(self, request: Request, estate_pk: int) -> Response:
        policy = services.contact_policy_update(
            actor=request.user,
            estate_id=self._estate_id(request, estate_pk),
            **_valid(PolicyIn, request),
        )
        return Response(PolicyOut(policy).data)


class ConsentOut(serializers.ModelSerializer):
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = ChannelConsent
        fields = [
            "id",
            "party",
            "channel",
            "given",
            "at",
            "source",
            "method",
            "note",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_recorded_by(self, record: ChannelConsent) -> str:
        return person_name(record.recorded_by)


class ConsentIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=sorted(CONSENT_REQUIRED))
    given = serializers.BooleanField()
    source = serializers.ChoiceField(choices=ChannelConsent.Source.choices)
    method = serializers.ChoiceField(choices=ChannelConsent.Method.choices)
    at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=255)


class PartyConsents(_Staff):
    """A party's consents per channel, newest first; POST records one (when, where, how).
    The party's current word is `consents` on the party."""

    perm = "notifications.view_channelconsent"

    @extend_schema(responses=ConsentOut(many=True), operation_id="notifications_consents_list")
    def get(self, request: Request, party_pk: int) -> Response:
        party = get_scoped(Party.objects.all(), request.user, pk=party_pk)
        records = party.channel_consents.select_related("recorded_by").order_by("-at", "-id")
        return Response(ConsentOut(records, many=True).data)

    @extend_schema(request=ConsentIn, responses={201: ConsentOut})
    @idempotent
    def post(self, request: Request, party_pk: int) -> Response:
        party = get_scoped(Party.objects.all(), request.user, pk=party_pk)
        record = services.consent_record(
            actor=request.user, party=party, **_valid(ConsentIn, request)
        )
        return Response(ConsentOut(record).data, status=status.HTTP_201_CREATED)


class _Receipt(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def check_token(self, request: Request) -> None:
        token = notify_settings().get("receipt_token") or ""
        given = request.query_params.get("token", "")
        if not token or not hmac.compare_digest(token, given):
            raise DomainPermissionDenied("bad receipt token")


class AliyunReceipt(_Receipt):
    """Aliyun SmsReport push: a JSON list of {biz_id, success, err_code, err_msg, ...}."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        self.check_token(request)
        for report in request.data if isinstance(request.data, list) else [request.data]:
            services.message_receipt(
                provider="aliyun",
                provider_id=str(report.get("biz_id", "")),
                delivered=bool(report.get("success")),
                event_id=f"{report.get('biz_id')}:{report.get('report_time', '')}",
                detail={**report, "error": f"{report.get('err_code')} {report.get('err_msg')}"},
            )
        return Response({"code": 0, "msg": "成功"})


class TencentReceipt(_Receipt):
    """Tencent SMS status callback: a JSON list of {sid, report_status, errmsg, ...}."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        self.check_token(request)
        for report in request.data if isinstance(request.data, list) else [request.data]:
            services.message_receipt(
                provider="tencent",
                provider_id=str(report.get("sid", "")),
                delivered=report.get("report_status") == "SUCCESS",
                event_id=f"{report.get('sid')}:{report.get('user_receive_time', '')}",
                detail={**report, "error": f"{report.get('errmsg')} {report.get('description')}"},
            )
        return Response({"result": 0, "errmsg": "OK"})


class PushReceipt(_Receipt):
    """The app gateway's receipt: {"id": provider id, "delivered": bool, "error": "..."}."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        self.check_token(request)
        services.message_receipt(
            provider="push",
            provider_id=str(request.data.get("id", "")),
            delivered=bool(request.data.get("delivered")),
            event_id=str(request.data.get("event_id") or ""),
            detail=dict(request.data),
        )
        return Response({"ok": True})


def wechat_signature_ok(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324  # WeChat's signature is SHA-1 by protocol  # nosec B324
    return bool(token) and hmac.compare_digest(expected, signature or "")


# WeChat reads the answers as plain text: the echo, "success", or an empty 403 (a wrong
# signature) or 400 (a body that is not XML).
WECHAT_ANSWERS = {
    (200, "text/plain"): OpenApiTypes.STR,
    (400, "text/plain"): OpenApiTypes.STR,
    (403, "text/plain"): OpenApiTypes.STR,
}


def _text(body: str = "", status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


class WeChatEvent(_Receipt):
    """The official account's server URL: echo for verification (GET), and the
    TEMPLATESENDJOBFINISH event (POST XML) with Status success / failed:user block / ..."""

    @extend_schema(responses=WECHAT_ANSWERS)
    def get(self, request: Request):
        q = request.query_params
        ok = wechat_signature_ok(
            notify_settings()["wechat"].get("token", ""),
            q.get("signature", ""),
            q.get("timestamp", ""),
            q.get("nonce", ""),
        )
        return _text(q.get("echostr", "") if ok else "", status=200 if ok else 403)

    @extend_schema(request=OpenApiTypes.STR, responses=WECHAT_ANSWERS)
    def post(self, request: Request):
        q = request.query_params
        if not wechat_signature_ok(
            notify_settings()["wechat"].get("token", ""),
            q.get("signature", ""),
            q.get("timestamp", ""),
            q.get("nonce", ""),
        ):
            return _text(status=403)
        try:
            root = ET.fromstring(request.body)  # noqa: S314  # expat: no external entities; size checked first  # nosec B314
        except ET.ParseError:
            return _text(status=400)
        if root.findtext("Event") == "TEMPLATESENDJOBFINISH":
            result = root.findtext("Status") or ""
            msg_id = root.findtext("MsgID") or ""
            services.message_receipt(
                provider="wechat",
                provider_id=msg_id,
                delivered=result == "success",
                event_id=f"{msg_id}:{result}",
                detail={"status": result, "error": result},
            )
        return _text("success")


urlpatterns = [
    path("notifications/messages/", MessageList.as_view(), name="notify-messages"),
    path("notifications/messages/<int:pk>/", MessageDetail.as_view(), name="notify-message"),
    path(
        "notifications/messages/<int:pk>/resend/",
        MessageResend.as_view(),
        name="notify-message-resend",
    ),
    path("notifications/templates/", TemplateList.as_view(), name="notify-templates"),
    path("notifications/templates/<int:pk>/", TemplateDetail.as_view(), name="notify-template"),
    path(
        "notifications/templates/<int:pk>/revise/",
        TemplateRevise.as_view(),
        name="notify-template-revise",
    ),
    path(
        "notifications/templates/<int:pk>/preview/",
        TemplatePreview.as_view(),
        name="notify-template-preview",
    ),
    path(
        "notifications/policies/<int:estate_pk>/",
        ContactPolicyDetail.as_view(),
        name="notify-policy",
    ),
    path("parties/<int:party_pk>/consents/", PartyConsents.as_view(), name="party-consents"),
    path("notifications/campaigns/", CampaignStart.as_view(), name="notify-campaigns"),
    path("notifications/campaigns/<int:pk>/", CampaignDetail.as_view(), name="notify-campaign"),
    path("notifications/receipts/aliyun/", AliyunReceipt.as_view(), name="notify-receipt-aliyun"),
    path(
        "notifications/receipts/tencent/", TencentReceipt.as_view(), name="notify-receipt-tencent"
    ),
    path("notifications/receipts/push/", PushReceipt.as_view(), name="notify-receipt-push"),
    path("notifications/wechat/", WeChatEvent.as_view(), name="notify-wechat-event"),
]
