"""Issue 11 §15 at the window: months paid ahead are advance receipts (合同负债), not this
month's revenue; the monthly recognition moves each month's fee when it comes; a void after
that moves recognised months back before withdrawing them."""

from datetime import date
from decimal import Decimal

from wuye.billing import checks
from wuye.billing.models import Charge
from wuye.billing.services import revenue_recognise
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.payments.services import PayAhead, payment_take, payment_void

from .conftest import TODAY, books

D = Decimal


def _revenue(estate):
    return account_balance(estate, chart.revenue_account("PROPERTY"))


def test_a_year_paid_ahead_is_revenue_month_by_month_and_a_void_undoes_it(
    cashier, supervisor, owner, unit, shift, property_item, estate
):
    # 10 March: a year paid ahead (March to February, 250.60 a month)
    payment = payment_take(
        actor=cashier,
        party=owner,
        unit=unit,
        amount="3007.20",
        channel="cash",
        pay_ahead=PayAhead(fee_item=property_item, months=12),
        today=TODAY,
    )
    # March (begun) is March's revenue; April to February are a contract liability
    # (booked as revenue, March would show 3,007.20 of revenue)
    assert _revenue(estate) == D("250.60")
    assert account_balance(estate, chart.CONTRACT_LIABILITY) == D("2756.60")
    # April and May come: two months move to revenue
    revenue_recognise(estate=estate, month="2026-04", today=date(2026, 4, 1))
    revenue_recognise(estate=estate, month="2026-05", today=date(2026, 5, 1))
    assert _revenue(estate) == D("751.80")
    assert account_balance(estate, chart.CONTRACT_LIABILITY) == D("2255.40")
    # the payment is voided: April to February are withdrawn, the recognised
    # April and May moved back first, so neither account keeps anything of them
    payment_void(
        requested_by=cashier, approved_by=supervisor, payment=payment, reason="收错", today=TODAY
    )
    assert Charge.objects.filter(unit=unit, status=Charge.Status.CANCELLED).count() == 11
    assert _revenue(estate) == D("250.60")
    assert account_balance(estate, chart.CONTRACT_LIABILITY) == D("0.00")
    b = books(estate)
    assert b["receivable"] == b["open_charges"] == D("250.60")
    assert b["debits"] == b["credits"]
    assert all(c.ok for c in checks.run(estate.code) if c.estate == estate.code)
