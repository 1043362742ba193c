"""A period's bill notices to every party of an estate, over their channels."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing.models import Charge
from wuye.fees.models import FeeItem
from wuye.notifications.models import Campaign, Message
from wuye.notifications.selectors import campaign_outbox_counts, campaign_preview
from wuye.notifications.services import campaign_start
from wuye.registry.models import Party, Unit, UnitParty

pytestmark = pytest.mark.django_db


@pytest.fixture
def billed_estate(estate, building, open_policy):
    """Four owners billed for 2026-11: one on WeChat, one on SMS with two units, one with only
    a postal address, one on SMS in another period only; and one owner with nothing due."""
    item = FeeItem.objects.create(
        estate=estate, code="PROPERTY", name="物业服务费", kind="property", basis="per_area_month"
    )

    def owner(name, number, **fields):
        party = Party.objects.create(estate=estate, name=name, **fields)
        unit = Unit.objects.create(
            estate=estate, building=building, number=number, gross_area=Decimal("80.00")
        )
        UnitParty.objects.create(estate=estate, unit=unit, party=party, start_date=date(2025, 1, 1))
        return party, unit

    def charge(party, unit, period, amount):
        year, month = map(int, period.split("-"))
        Charge.objects.create(
            estate=estate,
            unit=unit,
            party=party,
            fee_item=item,
            period=period,
            period_start=date(year, month, 1),
            period_end=date(year, month, 28),
            amount=Decimal(amount),
            outstanding=Decimal(amount),
            bill_date=date(year, month, 1),
            due_date=date(year, month, 25),
        )

    wang, u1 = owner("王芳", "1-1-101", wechat_openid="oWX-wang", consents={"wechat": True})
    li, u2 = owner("李娜", "1-1-102", mobile="13900001111", consents={"sms": True})
    _, u3 = owner("李娜2", "1-1-103")
    UnitParty.objects.create(estate=estate, unit=u3, party=li, start_date=date(2025, 1, 1))
    zhao, u4 = owner("赵磊", "1-1-104", mailing_address="北京市朝阳区建国路88号")
    qian, u5 = owner("钱强", "1-1-105", mobile="13900002222", consents={"sms": True})
    owner("孙丽", "1-1-106", mobile="13900003333", consents={"sms": True})
    charge(wang, u1, "2026-11", "224.00")
    charge(li, u2, "2026-11", "224.00")
    charge(li, u3, "2026-11", "100.50")
    charge(zhao, u4, "2026-11", "224.00")
    charge(qian, u5, "2026-10", "224.00")
    return estate


def test_the_preview_counts_parties_amount_and_channels(billed_estate):
    preview = campaign_preview(estate_id=billed_estate.pk, period="2026-11")
    assert preview["parties"] == 3
    assert preview["amount"] == Decimal("772.50")
    assert preview["by_channel"] == {"wechat": 1, "sms": 1, "letter": 1}


def test_a_campaign_tells_every_billed_party_once_over_their_channel(
    billed_estate, make_staff, django_capture_on_commit_callbacks
):
    staff = make_staff("customer_service", estates=[billed_estate])
    # when customer service sends the 2026-11 notices
    with django_capture_on_commit_callbacks(execute=True):
        campaign = campaign_start(actor=staff, estate_id=billed_estate.pk, period="2026-11")
    campaign.refresh_from_db()
    # then the campaign is done and counted per channel
    assert campaign.status == Campaign.Status.DONE
    assert (campaign.total, campaign.processed) == (3, 3)
    assert campaign.counts == {
        "wechat": {"queued": 1},
        "sms": {"queued": 1},
        "letter": {"queued": 1},
    }
    # and the messages went out (demo backend) or joined the print queue
    assert campaign_outbox_counts(campaign) == {
        "wechat": {"delivered": 1},
        "sms": {"delivered": 1},
        "letter": {"sent": 1},
    }
    li = Message.objects.get(campaign=campaign, channel="sms")
    assert "1-1-102、1-1-103" in li.text and "324.50" in li.text and "2026-11-25" in li.text
    letter = Message.objects.get(campaign=campaign, channel="letter")
    assert letter.address == "北京市朝阳区建国路88号"
    # when sent again, nothing new is queued
    with django_capture_on_commit_callbacks(execute=True):
        again = campaign_start(actor=staff, estate_id=billed_estate.pk, period="2026-11")
    assert again.pk == campaign.pk
    assert Message.objects.filter(campaign=campaign).count() == 3


def test_a_party_without_any_channel_or_address_is_counted_as_none(
    billed_estate, make_staff, django_capture_on_commit_callbacks
):
    # given the letter owner has no address and the estate none either
    Party.objects.filter(name="赵磊").update(mailing_address="")
    billed_estate.address = ""
    billed_estate.save()
    staff = make_staff("finance", estates=[billed_estate])
    with django_capture_on_commit_callbacks(execute=True):
        campaign = campaign_start(actor=staff, estate_id=billed_estate.pk, period="2026-11")
    campaign.refresh_from_db()
    assert campaign.counts["none"] == {"suppressed": 1}


def test_collectors_may_not_send_campaigns(billed_estate, make_staff):
    from wuye.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        campaign_start(
            actor=make_staff("collector", estates=[billed_estate]),
            estate_id=billed_estate.pk,
            period="2026-11",
        )


def test_a_bad_period_is_refused_by_name(billed_estate, make_staff):
    from wuye.core.errors import DomainError

    with pytest.raises(DomainError) as exc:
        campaign_start(
            actor=make_staff("finance", estates=[billed_estate]),
            estate_id=billed_estate.pk,
            period="202611",
        )
    assert exc.value.field == "period"


def test_one_partys_missing_value_does_not_stop_the_campaign(
    billed_estate, make_staff, django_capture_on_commit_callbacks
):
    # given the estate has no hotline, which the bill notice prints: every notice is refused
    # (rather than printed with a blank), counted as an error, and the run still finishes
    billed_estate.hotline = ""
    billed_estate.save()
    staff = make_staff("finance", estates=[billed_estate])
    with django_capture_on_commit_callbacks(execute=True):
        campaign = campaign_start(actor=staff, estate_id=billed_estate.pk, period="2026-11")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE
    assert campaign.counts == {"error": {"failed": 3}}
    assert "{hotline}" in campaign.last_error
    assert not Message.objects.filter(campaign=campaign).exists()


def test_a_campaign_queues_each_notice_as_the_outbox_queues_one_at_a_time(
    billed_estate, open_policy, make_staff, monkeypatch
):
    """The campaign writes its notices set-wise (a chunk at a time); each is the message
    `message_queue` would write for that party at that moment: channel, text, address, and
    what the contact policy holds back (quiet hours, the weekly caps, an opt-out, consent)."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.db import transaction
    from django.utils import timezone

    from wuye.notifications.models import ChannelOptOut, ContactMark
    from wuye.notifications.selectors import campaign_targets
    from wuye.notifications.services import campaign_run, message_queue

    # given 22:30 in Shanghai: quiet hours 21:00-08:00, two contacts a week on a channel and
    # three on all channels together
    now = datetime(2026, 11, 10, 22, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: now)
    open_policy.quiet_start, open_policy.quiet_end = time(21, 0), time(8, 0)
    open_policy.weekly_cap, open_policy.weekly_cap_total = 2, 3
    open_policy.save()
    parties = {p.name: p for p in Party.objects.filter(estate=billed_estate)}
    wang, li, zhao = parties["王芳"], parties["李娜"], parties["赵磊"]
    # 王芳 (WeChat) was reached twice on WeChat this week: WeChat waits for the oldest to age
    for days in (2, 5):
        Message.objects.create(
            estate=billed_estate, party=wang, channel="wechat", purpose="other",
            status="sent", contacted_at=now - timedelta(days=days), text="-",
        )  # fmt: skip
    # 李娜 refused SMS, so her WeChat (consented) is tried, then the letter to her unit
    li.wechat_openid, li.consents = "oWX-li", {"sms": True, "wechat": True}
    li.save()
    ChannelOptOut.objects.create(
        estate=billed_estate, party=li, channel="sms", at=now - timedelta(days=1), source="TD"
    )
    # 赵磊 gets a letter (no quiet hours), though collectors called him three times this week
    for days in (1, 2, 3):
        ContactMark.objects.create(
            estate=billed_estate, party=zhao, channel="call", at=now - timedelta(days=days),
            source=f"test:{days}",
        )  # fmt: skip
    staff = make_staff("customer_service", estates=[billed_estate])
    campaign = campaign_start(actor=staff, estate_id=billed_estate.pk, period="2026-11")
    fields = ("party_id", "channel", "status", "suppressed_reason", "not_before", "text",
              "subject", "address", "template_id", "params", "dedupe_key")  # fmt: skip

    # what the outbox writes for each party one at a time (rolled back)
    expected = {}
    with transaction.atomic():
        for target in campaign_targets(estate_id=billed_estate.pk, period="2026-11"):
            message = message_queue(
                party=Party.objects.get(pk=target.party_id),
                purpose=campaign.purpose,
                template_code=campaign.template_code,
                context=target.context(),
                dedupe_key=f"campaign:{campaign.pk}:party:{target.party_id}",
                campaign=campaign,
            )
            expected[target.party_id] = tuple(getattr(message, f) for f in fields)
        transaction.set_rollback(True)

    # when the campaign runs, two parties to a chunk
    campaign_run(campaign_id=campaign.pk, chunk=2)

    written = {
        m.party_id: tuple(getattr(m, f) for f in fields)
        for m in Message.objects.filter(campaign=campaign)
    }
    assert written == expected
    by_party = {m.party_id: m for m in Message.objects.filter(campaign=campaign)}
    shanghai = now.tzinfo

    def outcome(party):
        m = by_party[party.pk]
        return m.channel, m.status, m.suppressed_reason, m.not_before

    # 王芳: quiet now; at 08:00 two WeChat contacts are still within the week, so after the
    # older one ages out (12 Nov 22:30), quiet again: 13 Nov 08:00
    assert outcome(wang) == (
        "wechat", "suppressed", "quiet_hours", datetime(2026, 11, 13, 8, 0, tzinfo=shanghai)
    )  # fmt: skip
    assert outcome(li) == (
        "wechat", "suppressed", "quiet_hours", datetime(2026, 11, 11, 8, 0, tzinfo=shanghai)
    )  # fmt: skip
    # 赵磊's letter: three contacts on all channels this week, the oldest ages out on 14 Nov
    assert outcome(zhao) == ("letter", "suppressed", "weekly_total_cap", now + timedelta(days=4))
