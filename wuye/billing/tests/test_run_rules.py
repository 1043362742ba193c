"""Run rules the business checks on its bills: items billed in arrears (后付费) wait until the
day after their cycle and are due counted from that bill date; half-yearly and yearly items bill
only in their cycle months, for the whole cycle."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import Charge

D = Decimal
pytestmark = pytest.mark.django_db


def test_an_arrears_item_waits_for_the_day_after_its_month(owner, make_item, finance, bill):
    # given garbage disposal billed in arrears at 30.00 a month, 15 days to pay
    make_item(
        "GARBAGE", "垃圾处理费", rate="30", basis="per_unit_month", timing="arrears", due_days=15
    )
    # when December is run on its last day, it waits and says until when
    run = services.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-12", as_of=date(2026, 12, 31)
    )
    preview = services.billing_run_preview(run=run)
    assert "not billable before 2027-01-01" in preview["items"][0]["waiting"]
    services.billing_run_post(run=run, actor=finance)
    assert not Charge.objects.exists()
    # then on the first of January it is billed, dated that day and due 15 days later
    bill("2026-12", as_of=date(2027, 1, 1))
    charge = Charge.objects.get()
    assert (charge.amount, charge.period_start, charge.period_end) == (
        D("30.00"),
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert (charge.bill_date, charge.due_date) == (date(2027, 1, 1), date(2027, 1, 16))


def test_a_quarterly_arrears_item_is_billed_after_the_quarter(owner, make_item, bill):
    make_item(
        "SHARED",
        "公共能耗分摊",
        rate="12.50",
        basis="per_unit_month",
        timing="arrears",
        cycle="quarterly",
        due_days=10,
    )
    bill("2027-01", as_of=date(2027, 3, 31))
    assert not Charge.objects.exists()
    bill("2027-01", as_of=date(2027, 4, 1))
    charge = Charge.objects.get()
    assert (charge.amount, charge.period_end) == (D("37.50"), date(2027, 3, 31))
    assert (charge.bill_date, charge.due_date) == (date(2027, 4, 1), date(2027, 4, 11))


def test_a_half_yearly_item_bills_only_in_january_and_july(owner, make_item, bill):
    make_item("PARKHY", "车位管理费(半年)", rate="100", basis="per_unit_month", cycle="half_yearly")
    for period in ("2026-12", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06"):
        bill(period, as_of=date(2027, 12, 31))
    assert not Charge.objects.exists()
    bill("2027-01", as_of=date(2027, 12, 31))
    bill("2027-07", as_of=date(2027, 12, 31))
    assert list(
        Charge.objects.order_by("period").values_list("period", "period_end", "amount")
    ) == [
        ("2027-01", date(2027, 6, 30), D("600.00")),
        ("2027-07", date(2027, 12, 31), D("600.00")),
    ]


def test_a_yearly_item_bills_only_in_january_for_the_whole_year(owner, make_item, bill):
    make_item("INSURE", "公共责任险", rate="5", basis="per_unit_month", cycle="yearly")
    for period in ("2026-12", "2027-02", "2027-06", "2027-07", "2027-12"):
        bill(period, as_of=date(2027, 12, 31))
    assert not Charge.objects.exists()
    bill("2027-01", as_of=date(2027, 12, 31))
    charge = Charge.objects.get()
    assert (charge.period_start, charge.period_end, charge.amount) == (
        date(2027, 1, 1),
        date(2027, 12, 31),
        D("60.00"),
    )
