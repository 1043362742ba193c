"""A new owner is told: the welcome notice on a change of owner (SEED: 新入住業主 ... 起繳時間、
標準及方式), through the outbox, by letter where no channel is consented."""

from datetime import date

import pytest

from wuye.audit.models import AuditEvent
from wuye.fees import services as fees
from wuye.notifications.models import Message
from wuye.registry import services as registry
from wuye.registry.models import Party

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_staff, estate):
    return make_staff("supervisor", estates=[estate])


@pytest.fixture
def property_fee(clerk, estate):
    item = fees.fee_item_create(
        actor=clerk,
        estate=estate,
        code="PROPERTY",
        name="物业服务费",
        kind="property",
        basis="per_area_month",
    )
    std = fees.standard_create(
        actor=clerk, fee_item=item, rate="2.5", effective_from=date(2026, 1, 1)
    )
    fees.standard_approve(actor=clerk, standard=std)
    fees.standard_publish(actor=clerk, standard=std, today=date(2025, 11, 1))
    return item


def _new_owner(estate, **fields):
    return Party.objects.create(estate=estate, name="李娜", mobile="13900001111", **fields)


def test_a_change_of_owner_sends_the_new_owner_a_welcome_letter(
    clerk, estate, unit, owner, property_fee
):
    # given an estate with its collection account, and a buyer who consented to nothing
    registry.estate_collection_account_set(
        actor=clerk,
        estate=estate,
        bank_name="中国工商银行深圳南山支行",
        bank_account_name="华苑物业服务有限公司",
        bank_account_number="4000 0200 0900 1234 567",
    )
    buyer = _new_owner(estate)
    # when the unit changes hands on 2026-03-15
    registry.unit_party_add(actor=clerk, unit=unit, party=buyer, start_date=date(2026, 3, 15))
    # then the buyer's welcome notice is in the outbox, as a letter to the unit
    message = Message.objects.get(party=buyer, purpose="welcome")
    assert message.channel == "letter" and message.template_code == "welcome"
    assert message.address == f"{estate.address} {unit.number}"
    text = message.text
    assert "欢迎入住华苑小区1-1-301" in text
    assert "自2026-03-15起计收" in text
    assert "物业服务费 2.50元/m²/月" in text
    assert buyer.payment_ref in text
    assert "4000 0200 0900 1234 567" in text and "华苑物业服务有限公司" in text
    assert estate.hotline in text
    # and the seller gets none
    assert not Message.objects.filter(party=owner, purpose="welcome").exists()


def test_a_consented_channel_is_used_and_the_fee_start_date_of_the_unit_counts(
    clerk, estate, unit, owner
):
    unit.fee_start_date = date(2026, 5, 1)
    unit.save()
    buyer = _new_owner(estate, consents={"sms": True}, preferred_channels=["sms"])
    registry.unit_party_add(actor=clerk, unit=unit, party=buyer, start_date=date(2026, 3, 15))
    message = Message.objects.get(party=buyer, purpose="welcome")
    assert message.channel == "sms" and message.address == "13900001111"
    assert "自2026-05-01起计收" in message.text
    assert "以物业服务中心公示为准" in message.text  # no standard published yet
    assert "请向物业服务中心咨询" in message.text  # no collection account set yet


def test_a_payer_tenant_is_welcomed_and_a_tenant_who_does_not_pay_is_not(
    clerk, estate, unit, owner
):
    lodger = Party.objects.create(estate=estate, name="王五")
    registry.unit_party_add(
        actor=clerk, unit=unit, party=lodger, role="tenant", start_date=date(2026, 2, 1)
    )
    assert not Message.objects.filter(party=lodger).exists()
    payer = Party.objects.create(estate=estate, name="赵六")
    registry.unit_party_add(
        actor=clerk,
        unit=unit,
        party=payer,
        role="tenant",
        is_payer=True,
        start_date=date(2026, 3, 1),
    )
    assert Message.objects.filter(party=payer, purpose="welcome").count() == 1


def test_the_welcome_goes_in_the_estates_language(clerk, estate, unit, owner):
    from wuye.notifications.models import ContactPolicy

    ContactPolicy.objects.create(estate=estate, default_language="en")
    buyer = _new_owner(estate)
    registry.unit_party_add(actor=clerk, unit=unit, party=buyer, start_date=date(2026, 3, 15))
    text = Message.objects.get(party=buyer, purpose="welcome").text
    assert text.startswith("Dear 李娜, welcome to 1-1-301 at 华苑小区")
    assert "start on 2026-03-15" in text and "ask the service centre" in text


def test_an_estate_without_a_hotline_still_records_the_owner_and_says_why_no_welcome(
    clerk, estate, unit, owner
):
    estate.hotline = ""
    estate.save()
    buyer = _new_owner(estate)
    relation = registry.unit_party_add(
        actor=clerk, unit=unit, party=buyer, start_date=date(2026, 3, 15)
    )
    assert relation.pk and not Message.objects.filter(party=buyer).exists()
    event = AuditEvent.objects.get(summary__startswith="welcome notice not queued")
    assert "{hotline}" in event.summary


def test_the_unit_page_records_a_new_owner_and_queues_the_welcome(
    client, clerk, estate, unit, owner
):
    buyer = _new_owner(estate)
    client.force_login(clerk)
    response = client.post(
        f"/registry/units/{unit.pk}/parties/",
        {"party": buyer.pk, "role": "owner", "start_date": "2026-03-15", "is_payer": "on"},
    )
    assert response.status_code == 302
    assert Message.objects.filter(party=buyer, purpose="welcome").count() == 1
