"""The staff pages and the REST API: filters, scoping, resend, templates, receipts."""

import hashlib

import pytest
from django.urls import reverse

from wuye.core.masking import mask_phone
from wuye.notifications.models import Message, MessageTemplate
from wuye.notifications.services import message_queue, message_send

pytestmark = pytest.mark.django_db
BILL = {"period": "2026-11", "amount": "268.50", "due_date": "2026-11-30"}


@pytest.fixture
def queued(reachable_owner, open_policy):
    return message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)


def test_the_outbox_filters_by_status_and_channel(client, make_staff, estate, queued):
    client.force_login(make_staff("collector", estates=[estate]))
    page = client.get(reverse("notifications:outbox"), {"status": "queued", "channel": "wechat"})
    assert page.status_code == 200 and "张伟" in page.content.decode()
    page = client.get(reverse("notifications:outbox"), {"status": "failed"})
    assert "张伟" not in page.content.decode()


def test_another_estates_staff_do_not_see_the_message(client, make_staff, other_estate, queued):
    client.force_login(make_staff("customer_service", estates=[other_estate]))
    assert "张伟" not in client.get(reverse("notifications:outbox")).content.decode()
    detail = client.get(reverse("notifications:message_detail", args=[queued.pk]))
    assert detail.status_code == 404


def test_resend_from_the_message_page(client, make_staff, estate, queued):
    Message.objects.filter(pk=queued.pk).update(status="failed")
    client.force_login(make_staff("customer_service", estates=[estate]))
    response = client.post(
        reverse("notifications:message_resend", args=[queued.pk]), {"channel": "sms"}
    )
    assert response.status_code == 302
    assert Message.objects.filter(channel="sms", party=queued.party).count() == 1


def test_template_preview_renders_with_the_owners_data(client, make_staff, estate, owner):
    client.force_login(make_staff("customer_service", estates=[estate]))
    template = MessageTemplate.objects.get(code="reminder_friendly", language="zh-hans")
    response = client.post(
        reverse("notifications:template_preview", args=[template.pk]),
        {"party": owner.pk, "period": "2026-11", "amount": "268.50"},
    )
    assert "亲爱的张伟业主" in response.content.decode()


def test_the_auditor_sees_masked_phones_in_a_template_preview(client, make_staff, estate, owner):
    # issue 11 point 14: the auditor reads everything but never an owner's full phone
    client.force_login(make_staff("auditor", estates=[estate]))
    template = MessageTemplate.objects.get(code="reminder_friendly", language="zh-hans")
    response = client.post(
        reverse("notifications:template_preview", args=[template.pk]),
        {"party": owner.pk, "period": "2026-11", "amount": "268.50"},
    )
    page = response.content.decode()
    assert "亲爱的张伟业主" in page
    assert owner.mobile not in page and mask_phone(owner.mobile) in page


def test_a_new_template_with_a_typo_shows_the_placeholder(client, make_staff, estate):
    client.force_login(make_staff("customer_service", estates=[estate]))
    response = client.post(
        reverse("notifications:template_create"),
        {"code": "typo", "purpose": "reminder", "language": "zh-hans", "body": "{owner} {amont}"},
    )
    assert response.status_code == 200 and "{amont}" in response.content.decode()


def test_campaign_page_previews_counts(client, make_staff, estate, open_policy):
    client.force_login(make_staff("finance", estates=[estate]))
    response = client.post(
        reverse("notifications:campaigns"), {"estate": estate.pk, "period": "2026-11", "preview": 1}
    )
    assert response.status_code == 200 and "campaign-preview-result" in response.content.decode()


def test_api_lists_messages_and_resends(client, make_staff, estate, queued):
    staff = make_staff("customer_service", estates=[estate])
    client.force_login(staff)
    listed = client.get("/api/v1/notifications/messages/", {"channel": "wechat"}).json()
    assert listed["count"] == 1 and listed["results"][0]["status"] == "queued"
    Message.objects.filter(pk=queued.pk).update(status="failed")
    resent = client.post(
        f"/api/v1/notifications/messages/{queued.pk}/resend/",
        {"channel": "sms"},
        "application/json",
    )
    assert resent.status_code == 201 and resent.json()["channel"] == "sms"


def test_api_template_create_refuses_unknown_placeholders(client, make_staff, estate):
    client.force_login(make_staff("finance", estates=[estate]))
    response = client.post(
        "/api/v1/notifications/templates/",
        {"code": "x", "purpose": "reminder", "language": "en", "body": "Hi {ownr}"},
        "application/json",
    )
    assert response.status_code == 400 and "{ownr}" in response.json()["detail"]


def test_auditors_read_but_may_not_resend(client, make_staff, estate, queued):
    client.force_login(make_staff("auditor"))
    assert client.get("/api/v1/notifications/messages/").json()["count"] == 1
    Message.objects.filter(pk=queued.pk).update(status="failed")
    response = client.post(f"/api/v1/notifications/messages/{queued.pk}/resend/", {})
    assert response.status_code == 403


def test_aliyun_delivery_report_needs_the_token_and_marks_delivered(
    client, settings, aliyun, reachable_owner, open_policy
):
    settings.WUYE_NOTIFY["receipt_token"] = "s3cret"
    reachable_owner.preferred_channels = ["sms"]
    reachable_owner.save()
    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)
    message = message_send(message_id=message.pk)
    report = [
        {
            "phone_number": "13812345678",
            "send_time": "2026-11-26 10:00:00",
            "report_time": "2026-11-26 10:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": message.provider_id,
            "out_id": str(message.pk),
        }
    ]
    url = "/api/v1/notifications/receipts/aliyun/"
    assert client.post(url + "?token=wrong", report, "application/json").status_code == 403
    ok = client.post(url + "?token=s3cret", report, "application/json")
    assert ok.json() == {"code": 0, "msg": "成功"}
    message.refresh_from_db()
    assert message.status == "delivered"


def test_wechat_server_verification_echoes_only_with_a_valid_signature(client, settings):
    settings.WUYE_NOTIFY = {"wechat": {"token": "wx-token"}}
    timestamp, nonce = "1700000000", "42"
    signature = hashlib.sha1("".join(sorted(["wx-token", timestamp, nonce])).encode()).hexdigest()
    url = "/api/v1/notifications/wechat/"
    good = client.get(
        url, {"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": "hi"}
    )
    assert good.status_code == 200 and good.content == b"hi"
    bad = client.get(url, {"signature": "x", "timestamp": timestamp, "nonce": nonce})
    assert bad.status_code == 403
