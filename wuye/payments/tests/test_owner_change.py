"""Issue 11 §9: after a change of owner the charges raised before it for later days (months the
seller paid ahead) are re-split by the transfer date; the window shows the buyer only his own
charges, the fees-settled certificate refuses him only for his own debt, the seller's debt
follows the seller (his letters go to his own address, not the sold unit), and the seller's
money for the buyer's days is his prepayment."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import checks
from wuye.billing.models import Charge, PrepaymentMovement
from wuye.core.errors import DomainError
from wuye.notifications.models import Channel
from wuye.notifications.services import address_for
from wuye.payments.selectors import unit_account
from wuye.payments.services import (
    PayAhead,
    payment_refund,
    payment_take,
    payment_void,
    settled_certificate,
)
from wuye.registry.models import Party
from wuye.registry.services import unit_party_add

from .conftest import TODAY, books

D = Decimal
SOLD_ON = date(2026, 5, 16)


@pytest.fixture
def sold(cashier, supervisor, owner, unit, shift, property_item, make_charge, estate):
    """张伟 owes January, pays February to June ahead on 10 March, and sells the unit to 李娜
    from 16 May (she is the payer from then)."""
    estate.address = "深圳市南山区华苑路1号"
    estate.save()
    january = make_charge(property_item, "2026-01", "250.60")
    paid = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="1253.00",
        channel="cash",
        pay_ahead=PayAhead(fee_item=property_item, months=5),
        today=TODAY,
    )
    buyer = Party.objects.create(estate=estate, name="李娜", mobile="13900001111")
    unit_party_add(actor=supervisor, unit=unit, party=buyer, start_date=SOLD_ON, is_payer=True)
    return january, paid, buyer


def test_months_the_seller_paid_ahead_are_re_split_and_his_money_is_his(
    sold, owner, unit, estate, cashier, supervisor
):
    january, paid, buyer = sold
    live = Charge.objects.filter(unit=unit).exclude(status=Charge.Status.CANCELLED)
    # May: 15 days the seller's (121.26), 16 the buyer's (129.34); June is the buyer's
    # (without the re-split both months stay 张伟's, paid, and 李娜 owes nothing)
    theirs = {
        (c.period, c.party_id): (c.amount, c.outstanding)
        for c in live.filter(period__in=["2026-05", "2026-06"])
    }
    assert theirs[("2026-05", buyer.pk)] == (D("129.34"), D("129.34"))
    assert theirs[("2026-06", buyer.pk)] == (D("250.60"), D("250.60"))
    may = live.get(period="2026-05", party=owner)
    assert may.amount - may.credit_notes.get().amount == D("121.26")
    assert may.outstanding == D("0.00")
    # what 张伟 paid for 李娜's days (129.34 + 250.60) is his prepayment
    pool = sum(m.amount for m in PrepaymentMovement.objects.filter(party=owner))
    assert pool == D("379.94")
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == D("250.60") + D("379.94")
    assert b["debits"] == b["credits"]
    assert all(c.ok for c in checks.run(estate.code) if c.estate == estate.code)
    # his payment is no longer voided whole; the moved money is refunded to him instead
    with pytest.raises(DomainError) as refused:
        payment_void(
            requested_by=cashier,
            approved_by=supervisor,
            payment=paid,
            reason="作废",
            today=TODAY,
        )
    assert refused.value.code == "owner_change"


def test_the_seller_is_refunded_what_he_paid_for_the_buyers_days(
    sold, owner, cashier, supervisor, estate
):
    __, paid, __ = sold
    payment_refund(
        requested_by=cashier,
        approved_by=supervisor,
        payment=paid,
        reason="过户退预交",
        from_prepayment="379.94",
        today=date(2026, 5, 20),
    )
    assert sum(m.amount for m in PrepaymentMovement.objects.filter(party=owner)) == D("0.00")
    assert all(c.ok for c in checks.run(estate.code) if c.estate == estate.code)


def test_the_buyer_sees_and_is_refused_only_for_his_own(sold, owner, unit, cashier):
    january, __, buyer = sold
    account = unit_account(unit, date(2026, 5, 20))
    assert account["party"] == buyer
    # (before: 张伟's January arrears under 李娜's name)
    assert all(c.party_id == buyer.pk for c in account["charges"])
    assert account["open_total"] == D("379.94")
    assert account["others_total"] == D("250.60")  # the seller's, collected from him
    # her certificate is not refused for 张伟's January ...
    assert settled_certificate(actor=cashier, unit=unit, today=date(2026, 5, 20))
    # ... only for her own debt once it is due
    with pytest.raises(DomainError) as refused:
        settled_certificate(actor=cashier, unit=unit, today=date(2027, 1, 31))
    assert refused.value.code == "arrears" and "379.94" in refused.value.message


def test_the_sellers_letters_go_to_his_own_address_not_the_sold_unit(sold, owner, estate):
    values = {"unit": "1-1-301"}
    # (before: 深圳市南山区华苑路1号 1-1-301, the unit he sold)
    assert address_for(owner, Channel.LETTER, values) == ""
    owner.mailing_address = "广州市天河区体育西路100号"
    owner.save()
    assert address_for(owner, Channel.LETTER, values) == "广州市天河区体育西路100号"
    # the buyer's letters go to the unit
    buyer = sold[2]
    assert address_for(buyer, Channel.LETTER, values) == "深圳市南山区华苑路1号 1-1-301"


def test_the_window_page_shows_the_buyer_his_own_and_the_sellers_debt_apart(
    sold, client, cashier, unit
):
    from django.urls import reverse

    january, __, buyer = sold
    client.force_login(cashier)
    page = client.get(reverse("payments:window"), {"unit": unit.pk}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert buyer.name in text
    # 张伟's January is not offered under 李娜's name, only named as the previous owners' debt
    assert f'id="pick-{january.pk}"' not in text
    assert "原业主在本房屋仍欠 250.60" in text


def test_a_second_change_of_payer_moves_only_the_first_buyers_days(
    sold, owner, unit, estate, supervisor
):
    """李娜 names her tenant 王芳 as the payer from 1 June: June moves from 李娜 to 王芳 once;
    张伟's May and June (already split from 16 May) are not split again, he is not refunded
    twice, and nobody owes a month twice."""
    __, __, buyer = sold
    pool_before = sum(m.amount for m in PrepaymentMovement.objects.filter(party=owner))
    tenant = Party.objects.create(estate=estate, name="王芳", mobile="13900002222")
    unit_party_add(
        actor=supervisor,
        unit=unit,
        party=tenant,
        role="tenant",
        start_date=date(2026, 6, 1),
        is_payer=True,
    )
    live = Charge.objects.filter(unit=unit, kind="regular").exclude(status="cancelled")
    owed = {}
    for c in live.filter(period="2026-06"):
        owed[c.party_id] = owed.get(c.party_id, D(0)) + c.outstanding
    assert owed.get(tenant.pk) == D("250.60")
    assert owed.get(buyer.pk, D(0)) == D(0) and owed.get(owner.pk, D(0)) == D(0)
    # June is owed once in all, and May is not touched
    assert sum(owed.values()) == D("250.60")
    may = {c.party_id: c.outstanding for c in live.filter(period="2026-05")}
    assert may == {owner.pk: D("0.00"), buyer.pk: D("129.34")}
    # the seller is not refunded a second time for days he had already given up
    assert sum(m.amount for m in PrepaymentMovement.objects.filter(party=owner)) == pool_before
    b = books(estate)
    assert b["receivable"] == b["open_charges"]
    assert b["debits"] == b["credits"]
    assert all(c.ok for c in checks.run(estate.code) if c.estate == estate.code)
