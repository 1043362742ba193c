"""The daily business report (营业日报) nets out what was voided or refunded, names people and
labels methods and states in Chinese, never by their codes (issue 11 §18)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from wuye.payments.selectors import daily_report, report_display
from wuye.payments.services import payment_take, payment_void, shift_close

from .conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(cashier):
    cashier.last_name = "李娜"
    cashier.save()
    return cashier


def test_a_receipt_voided_the_same_day_counts_nothing(
    named, supervisor, owner, unit, shift, property_item, make_charge
):
    # given two cash payments, and the first voided the same day
    make_charge(property_item, "2026-01", "250.60")
    make_charge(property_item, "2026-02", "250.60")
    first = payment_take(
        actor=named, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY
    )
    payment_take(actor=named, party=owner, unit=unit, amount="100.00", channel="cash", today=TODAY)
    payment_void(
        requested_by=named, approved_by=supervisor, payment=first, reason="收错户", today=TODAY
    )
    # when the day's report is drawn up
    report = daily_report(estate_id=unit.estate_id, business_date=TODAY)
    # then what was received is net of the void, in every breakdown
    assert report["received"] == "350.60" and report["voids"] == "250.60"
    assert report["total"] == "100.00"
    assert report["by_method"] == {"cash": "100.00"}
    assert report["by_cashier"] == {"李娜": "100.00"}
    items = {(r["item"], r["method"]): r["amount"] for r in report["by_item_and_method"]}
    assert sum(Decimal(v) for v in items.values()) == Decimal("100.00")


def test_the_report_page_shows_labels_and_names_not_codes(
    client, named, owner, unit, shift, property_item, make_charge, finance
):
    make_charge(property_item, "2026-01", "250.60")
    payment_take(actor=named, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY)
    shift_close(actor=named, shift=shift, counted_cash="450.60")
    client.force_login(finance)
    with translation.override("zh-hans"):
        page = client.get(
            reverse("payments:day_report"),
            {"date": TODAY.isoformat()},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        ).content.decode()
    by_method = page.split('id="day-by-method"')[1].split("</table>")[0]
    shifts = page.split('id="day-shifts"')[1].split("</table>")[0]
    assert "现金" in by_method and ">cash<" not in by_method
    assert "李娜" in shifts and named.username not in shifts
    assert ">closed<" not in shifts and "已关闭" in shifts


def test_a_frozen_report_is_labelled_when_shown():
    frozen = {
        "total": "10.00",
        "by_method": {"wechat": "10.00"},
        "by_item_and_method": [{"item": "物业服务费", "method": "wechat", "amount": "10.00"}],
        "shifts": [{"cashier": "李娜", "status": "handed_over"}],
    }
    with translation.override("zh-hans"):
        shown = report_display(frozen)
    assert shown["by_method"] == [{"method": "微信支付", "amount": "10.00"}]
    assert shown["by_item_and_method"][0]["method"] == "微信支付"
    assert shown["shifts"][0]["status"] != "handed_over"
    assert shown["received"] == "10.00"


def test_money_paid_back_counts_against_the_cashier_whose_drawer_paid_it(
    named, make_staff, estate, supervisor, owner, unit, shift, property_item, make_charge
):
    from wuye.payments.services import shift_open

    # 李娜 takes 250.60 in cash and closes her shift with it
    make_charge(property_item, "2026-01", "250.60")
    paid = payment_take(
        actor=named, party=owner, unit=unit, amount="250.60", channel="cash", today=TODAY
    )
    shift_close(actor=named, shift=shift, counted_cash="450.60")
    # the afternoon cashier 王强 hands it back from his drawer (the payment was taken wrongly)
    other = make_staff("cashier", estates=[estate])
    other.last_name = "王强"
    other.save()
    shift_open(actor=other, estate=estate, float_amount="500.00", today=TODAY)
    payment_void(
        requested_by=other, approved_by=supervisor, payment=paid, reason="收错户", today=TODAY
    )
    report = daily_report(estate_id=unit.estate_id, business_date=TODAY)
    # 李娜's column is what her closed shift holds; 王强's drawer is 250.60 short of his float
    assert report["by_cashier"] == {"李娜": "250.60", "王强": "-250.60"}
    assert report["total"] == "0.00"
