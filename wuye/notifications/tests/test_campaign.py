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
