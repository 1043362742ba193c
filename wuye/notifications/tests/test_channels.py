"""Each channel adapter against a local fake of its provider that checks the signature."""

import json
from decimal import Decimal
from email import message_from_bytes, policy

import pytest

from wuye.notifications.channels.sms import aliyun_signature
from wuye.notifications.models import Message
from wuye.notifications.services import message_queue

from .fakes import aliyun_expected_signature

pytestmark = pytest.mark.django_db

BILL = {"period": "2026-11", "amount": Decimal("268.50"), "due_date": "2026-11-30"}


def queue_and_send(django_capture_on_commit_callbacks, party, channel, code="bill_notice"):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue(
            party=party, purpose="bill_notice", template_code=code, channel=channel, context=BILL
        )
    message.refresh_from_db()
    return message


def test_aliyun_signature_matches_the_documented_example():
    # given the worked example of Aliyun's SMS signature documentation (GET)
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    # when / then: both our adapter and the fake's independent reading agree with the doc
    assert aliyun_signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert aliyun_expected_signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_aliyun_sms_is_signed_and_accepted(
    aliyun, reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    # when a bill notice goes out by SMS through Aliyun
    message = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "sms")
    # then the fake accepted the signature, and the outbox has Aliyun's BizId
    assert len(aliyun.accepted) == 1
    assert message.status == Message.Status.SENT
    assert message.provider == "aliyun" and message.provider_id.endswith("^0")
    sent = dict(__import__("urllib.parse").parse.parse_qsl(aliyun.requests[0]["body"].decode()))
    assert sent["PhoneNumbers"] == "13812345678"
    assert sent["TemplateCode"] == "SMS_100001"
    assert json.loads(sent["TemplateParam"])["amount"] == "268.50"


def test_aliyun_refuses_a_wrong_secret_and_the_message_fails_without_retry(
    aliyun, settings, reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    # given a deployment with the wrong secret
    settings.WUYE_NOTIFY["aliyun"]["access_key_secret"] = "wrong"
    reachable_owner.preferred_channels = ["sms"]
    reachable_owner.save()
    # when
    message = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "sms")
    # then the fake refused the signature: a permanent failure after one attempt
    assert aliyun.requests[0]["answer"]["Code"] == "SignatureDoesNotMatch"
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert "SignatureDoesNotMatch" in message.last_error


def test_tencent_sms_is_signed_with_tc3_and_accepted(
    tencent, reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    message = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "sms")
    assert len(tencent.accepted) == 1, tencent.requests[0]["answer"]
    assert message.status == Message.Status.SENT and message.provider == "tencent"
    payload = json.loads(tencent.requests[0]["body"])
    assert payload["PhoneNumberSet"] == ["+8613812345678"]
    assert payload["TemplateParamSet"] == ["1-1-301", "268.50"]


def test_tencent_refuses_a_wrong_key(
    tencent, settings, reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    settings.WUYE_NOTIFY["tencent"]["secret_key"] = "wrong"
    reachable_owner.preferred_channels = ["sms"]
    reachable_owner.save()
    message = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "sms")
    assert message.status == Message.Status.FAILED
    assert "AuthFailure.SignatureFailure" in message.last_error


def test_wechat_fetches_a_token_caches_it_and_refreshes_it_when_expired(
    wechat, reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    # when two messages go out, the access token is fetched once
    first = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "wechat")
    second = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "wechat")
    assert wechat.token_fetches == 1
    # and when WeChat expires it (errcode 42001), the next send fetches a new one and succeeds
    wechat.expire_tokens()
    third = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "wechat")
    assert wechat.token_fetches == 2
    assert [m.status for m in (first, second, third)] == ["sent"] * 3
    assert any(r["answer"].get("errcode") == 42001 for r in wechat.requests)
    payload = json.loads(wechat.accepted[-1]["body"])
    assert payload["touser"] == "oWX-openid-1" and payload["template_id"] == "TPL-BILL"
    assert payload["data"]["amount2"] == {"value": "268.50"}


def test_app_push_is_signed_with_hmac_over_timestamp_and_body(
    push, reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    reachable_owner.consents["app"] = True
    reachable_owner.save()
    message = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "app")
    assert push.requests[0]["status"] == 200
    assert message.status == Message.Status.SENT and message.provider_id == "push-1"


def test_email_goes_through_smtp(
    smtp, reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    message = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "email")
    assert message.status == Message.Status.SENT
    assert len(smtp.messages) == 1
    envelope = smtp.messages[0]
    assert envelope.rcpt_tos == ["zhangwei@example.com"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert "物业费缴费通知" in mail["Subject"]
    assert "268.50" in mail.get_content()
    assert mail["Message-ID"].strip("<>") == message.provider_id


def test_demo_backend_records_sent_and_delivered_without_network(
    reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    message = queue_and_send(django_capture_on_commit_callbacks, reachable_owner, "sms")
    assert message.status == Message.Status.DELIVERED
    assert message.provider == "demo" and message.delivered_at is not None
