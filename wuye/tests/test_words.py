"""Words staff and owners read right (issue 13 §4): labels mean what Chinese accounting
practice means by them, and no raw code (quiet_hours, wechat, ton) reaches a page."""

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def test_a_message_held_for_quiet_hours_is_deferred_not_blocked(client, make_staff, estate, owner):
    from wuye.notifications.models import Message

    staff = make_staff("customer_service", estates=[estate])
    Message.objects.create(
        estate=estate,
        party=owner,
        channel="sms",
        purpose="bill_notice",
        language="zh-hans",
        text="您好",
        status="suppressed",
        suppressed_reason="quiet_hours",
        not_before=timezone.now() + timedelta(hours=8),
    )
    client.force_login(staff)
    body = client.get("/notifications/", **ZH).content.decode()
    row = body[body.index('class="message-row"') :].split("</tr>")[0]
    assert "延后发送" in row and "免打扰时段" in row
    assert "quiet_hours" not in row and "已拦截" not in row


def test_the_statement_does_not_call_payments_waivers(client, make_staff, estate, owner):
    staff = make_staff("finance", estates=[estate])
    client.force_login(staff)
    body = client.get(f"/billing/statements/{owner.pk}/", **ZH).content.decode()
    assert "已收/冲减" in body
    assert '<th class="text-end">减免</th>' not in body


def test_the_owner_sign_in_asks_for_the_verification_code(client):
    body = client.get("/owner/login/", **ZH).content.decode()
    assert "验证码" in body


def test_a_partys_channels_read_as_words(client, make_staff, estate, owner):
    owner.preferred_channels = ["wechat", "sms"]
    owner.save()
    staff = make_staff("customer_service", estates=[estate])
    client.force_login(staff)
    body = client.get(f"/registry/parties/{owner.pk}/", **ZH).content.decode()
    assert "微信、短信" in body
    assert "wechat" not in body


def test_a_metered_rate_prints_in_chinese_units(estate):
    from wuye.fees.models import FeeItem

    water = FeeItem(estate=estate, code="WATER", name="水费", basis="metered", meter_unit="ton")
    power = FeeItem(estate=estate, code="POWER", name="电费", basis="metered", meter_unit="kWh")
    assert water.unit_label() == "元/吨"
    assert power.unit_label() == "元/度"
