"""The outbox: written in the business transaction, sent after commit, retried with backoff,
falling back to the next preferred channel, deduplicated, updated by delivery receipts."""

import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from wuye.notifications.models import DeliveryReceipt, Message
from wuye.notifications.services import (
    letter_batch_create,
    letter_tracking_record,
    message_dispatch_due,
    message_queue,
    message_receipt,
    message_resend,
    message_send,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
BILL = {"period": "2026-11", "amount": "268.50", "due_date": "2026-11-30"}


def test_the_message_is_sent_only_after_the_business_transaction_commits(
    reachable_owner, open_policy, django_capture_on_commit_callbacks
):
    # given a business event that queues a notice and then fails
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)
                raise RuntimeError("the business event failed")
        except RuntimeError:
            pass
    # then nothing was written and nothing was sent
    assert Message.objects.count() == 0
    assert callbacks == []


def test_a_retried_business_event_queues_once(reachable_owner, open_policy):
    first = message_queue(
        party=reachable_owner, purpose="bill_notice", context=BILL, dedupe_key="charge:1:notice"
    )
    again = message_queue(
        party=reachable_owner, purpose="bill_notice", context=BILL, dedupe_key="charge:1:notice"
    )
    assert first.pk == again.pk
    assert Message.objects.count() == 1


def test_without_a_channel_the_first_preferred_reachable_one_is_used(reachable_owner, open_policy):
    # given the owner prefers WeChat, then SMS, then a letter, and consented to WeChat
    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)
    assert message.channel == "wechat" and message.address == "oWX-openid-1"
    assert message.template.code == "bill_notice" and message.template_version == 1
    assert "268.50" in message.text and "华苑小区" in message.text


def test_a_party_nobody_can_reach_is_recorded_as_suppressed_no_channel(owner, open_policy):
    # given an owner with no consent, no address on file and an estate without address
    owner.estate.address = ""
    owner.estate.save()
    message = message_queue(party=owner, purpose="bill_notice", context=BILL)
    assert message.status == "suppressed" and message.suppressed_reason == "no_channel"


def test_a_retryable_failure_is_retried_with_exponential_backoff_then_falls_back(
    aliyun, settings, reachable_owner, open_policy
):
    # given SMS first, and Aliyun answering "flow control" three times
    reachable_owner.preferred_channels = ["sms", "wechat"]
    reachable_owner.save()
    settings.WUYE_NOTIFY["max_attempts"] = 3
    limit = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"})
    aliyun.fail_next = [limit, limit, limit]
    t0 = datetime(2026, 11, 26, 10, 0, tzinfo=SH)
    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL, now=t0)
    # when the worker tries: 1st attempt fails -> retry in 60 s
    message = message_send(message_id=message.pk, now=t0)
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.not_before == t0 + timedelta(seconds=60)
    assert "BUSINESS_LIMIT_CONTROL" in message.last_error
    # not due yet: nothing happens
    assert message_send(message_id=message.pk, now=t0 + timedelta(seconds=30)).attempts == 1
    # 2nd attempt fails -> retry in 120 s
    message = message_send(message_id=message.pk, now=t0 + timedelta(seconds=60))
    assert message.not_before == t0 + timedelta(seconds=180)
    # 3rd attempt fails -> failed, and the same notice goes to WeChat
    message = message_send(message_id=message.pk, now=t0 + timedelta(seconds=180))
    assert (message.status, message.attempts) == ("failed", 3)
    fallback = Message.objects.get(fallback_of=message)
    assert fallback.channel == "wechat" and fallback.status == "queued"
    assert fallback.text.replace("\n", "") == message.text.replace("\n", "")
    # and the fallback is delivered (WeChat is on the demo backend here)
    assert message_dispatch_due(now=t0 + timedelta(seconds=181)) == 1
    fallback.refresh_from_db()
    assert fallback.status == "delivered"


def test_a_recovered_provider_is_sent_on_the_retry(aliyun, reachable_owner, open_policy):
    reachable_owner.preferred_channels = ["sms"]
    reachable_owner.save()
    aliyun.fail_next = [(503, {"Code": "ServiceUnavailable"})]
    t0 = datetime(2026, 11, 26, 10, 0, tzinfo=SH)
    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL, now=t0)
    assert message_send(message_id=message.pk, now=t0).status == "queued"
    message = message_send(message_id=message.pk, now=t0 + timedelta(minutes=1))
    assert message.status == "sent" and message.attempts == 2 and message.provider == "aliyun"


def test_a_permanent_failure_falls_back_through_every_channel_to_a_letter(
    aliyun, settings, reachable_owner, open_policy
):
    # given SMS only and a wrong secret: a permanent failure
    reachable_owner.preferred_channels = ["sms"]
    reachable_owner.consents = {"sms": True}
    reachable_owner.save()
    settings.WUYE_NOTIFY["aliyun"]["access_key_secret"] = "wrong"
    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)
    message = message_send(message_id=message.pk)
    # then the notice becomes a printed letter to the mailing address
    assert message.status == "failed" and message.attempts == 1
    letter = message.fallbacks.get()
    assert letter.channel == "letter" and letter.address.startswith("深圳市南山区")


def test_delivery_receipts_mark_delivered_once(aliyun, reachable_owner, open_policy):
    reachable_owner.preferred_channels = ["sms"]
    reachable_owner.save()
    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)
    message = message_send(message_id=message.pk)
    # when Aliyun reports delivery, twice
    for _ in range(2):
        message_receipt(
            provider="aliyun", provider_id=message.provider_id, delivered=True, event_id="r-1"
        )
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None
    assert DeliveryReceipt.objects.count() == 1


def test_a_failed_delivery_receipt_falls_back(aliyun, reachable_owner, open_policy):
    reachable_owner.preferred_channels = ["sms", "wechat"]
    reachable_owner.save()
    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)
    message = message_send(message_id=message.pk)
    message_receipt(
        provider="aliyun",
        provider_id=message.provider_id,
        delivered=False,
        detail={"error": "MK:0012 停机"},
    )
    message.refresh_from_db()
    assert message.status == "failed" and "停机" in message.last_error
    assert message.fallbacks.get().channel == "wechat"


def test_staff_resend_a_failed_message(make_staff, estate, reachable_owner, open_policy):
    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)
    Message.objects.filter(pk=message.pk).update(status="failed")
    message.refresh_from_db()
    staff = make_staff("customer_service", estates=[estate])
    new = message_resend(actor=staff, message=message, channel="sms")
    assert new.pk != message.pk and new.channel == "sms" and new.text == message.text


def test_collectors_may_not_resend(make_staff, estate, reachable_owner, open_policy):
    from wuye.core.errors import PermissionDenied

    message = message_queue(party=reachable_owner, purpose="bill_notice", context=BILL)
    Message.objects.filter(pk=message.pk).update(status="failed")
    with pytest.raises(PermissionDenied):
        message_resend(actor=make_staff("collector", estates=[estate]), message=message)


def test_letters_are_printed_one_page_each_with_the_address_block(
    make_staff, estate, reachable_owner, open_policy, tmp_path, settings
):
    # given two letters in the print queue
    settings.MEDIA_ROOT = tmp_path
    for key in ("a", "b"):
        letter = message_queue(
            party=reachable_owner,
            purpose="formal_demand",
            template_code="reminder_formal",
            channel="letter",
            context=BILL,
            dedupe_key=key,
        )
        assert message_send(message_id=letter.pk).status == "sent"
    staff = make_staff("customer_service", estates=[estate])
    # when the batch is printed
    batch = letter_batch_create(actor=staff, estate_id=estate.pk)
    # then one PDF with one page per letter, the address and the text readable
    assert batch.letters == 2
    path = batch.file.path
    text = subprocess.run(
        ["pdftotext", "-layout", path, "-"], capture_output=True, text=True
    ).stdout
    assert text.count("催缴通知书") == 2
    assert "深圳市南山区华苑路1号" in text and "张伟" in text
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
    pages = [line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")]
    assert pages == ["2"]
    # and nothing is printed twice
    assert letter_batch_create(actor=staff, estate_id=estate.pk) is None
    # and a registered-mail number and the signed receipt are recorded
    letter = batch.messages.first()
    letter = letter_tracking_record(
        actor=staff, message=letter, tracking_number="XA123456789CN", delivered=True
    )
    assert letter.status == "delivered" and letter.tracking_number == "XA123456789CN"


def test_a_formal_demand_never_goes_on_a_channel_the_owner_refused(reachable_owner, open_policy):
    from wuye.notifications.services import channel_opt_out

    # given an owner who replied TD to our SMS
    channel_opt_out(actor=None, party=reachable_owner, channel="sms", source="sms_reply")
    demand = {"amount": "600.00", "period": "2026-09", "due_date": "2026-12-31"}
    # when a formal demand is queued for SMS
    sent = message_queue(
        party=reachable_owner,
        purpose="formal_demand",
        template_code="reminder_formal",
        channel="sms",
        context=demand,
        dedupe_key="demand-1",
    )
    # then it goes by letter to the owner's address instead, and no SMS is written
    assert sent.channel == "letter" and sent.status == "queued"
    assert sent.address == reachable_owner.mailing_address
    assert not Message.objects.filter(party=reachable_owner, channel="sms").exists()
    # and an ordinary reminder on SMS stays held back as refused
    reminder = message_queue(
        party=reachable_owner,
        purpose="reminder",
        template_code="reminder_friendly",
        channel="sms",
        context=BILL,
        dedupe_key="reminder-1",
    )
    assert (reminder.status, reminder.suppressed_reason) == ("suppressed", "opted_out")
    # when letters were refused as well, the demand is not posted either (a visit by hand)
    channel_opt_out(actor=None, party=reachable_owner, channel="letter", source="hotline")
    held = message_queue(
        party=reachable_owner,
        purpose="formal_demand",
        template_code="reminder_formal",
        channel="sms",
        context=demand,
        dedupe_key="demand-2",
    )
    assert (held.status, held.suppressed_reason) == ("suppressed", "opted_out")
