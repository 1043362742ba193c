"""Late fees: only with a contract clause, simple, capped, once per charge and day."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import Charge, LateFeeAssessment
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance
from wuye.registry.models import ServiceContract

D = Decimal
pytestmark = pytest.mark.django_db


def test_late_fees_follow_the_contract_clause(owner, property_fee, bill, books_balance):
    # given December billed (due 31 Dec), clause 0.03 % a day after 15 grace days
    bill("2026-12")
    # when assessed on 10 February 2027: 26 days late after grace
    result = services.late_fee_assess(
        estate=owner.estate, as_of=date(2027, 2, 10), today=date(2027, 2, 10)
    )
    # then 250.60 x 0.0003 x 26 = 1.95
    fee = Charge.objects.get(kind=Charge.Kind.LATE_FEE)
    assert (result.charges, fee.amount, fee.source.period) == (1, D("1.95"), "2026-12")
    assert account_balance(owner.estate, chart.LATE_FEE_INCOME) == D("1.95")
    assert books_balance(owner.estate) == (D("252.55"), D("252.55"))


def test_assessing_twice_on_a_day_adds_nothing_and_late_fees_never_compound(
    owner, property_fee, bill
):
    bill("2026-12")
    services.late_fee_assess(estate=owner.estate, as_of=date(2027, 2, 10), today=date(2027, 2, 10))
    again = services.late_fee_assess(
        estate=owner.estate, as_of=date(2027, 2, 10), today=date(2027, 2, 10)
    )
    assert again.charges == 0
    later = services.late_fee_assess(
        estate=owner.estate, as_of=date(2027, 3, 12), today=date(2027, 3, 12)
    )
    # only the increment (30 more days) on the principal, none on the late fee itself
    assert later.charges == 1 and later.amount == D("2.26")
    assert LateFeeAssessment.objects.filter(principal__kind=Charge.Kind.LATE_FEE).count() == 0


def test_late_fees_stop_at_the_cap(owner, property_fee, bill):
    ServiceContract.objects.update(late_fee_cap_ratio=D("0.01"))
    bill("2026-12")
    services.late_fee_assess(estate=owner.estate, as_of=date(2027, 6, 1), today=date(2027, 6, 1))
    services.late_fee_assess(estate=owner.estate, as_of=date(2027, 9, 1), today=date(2027, 9, 1))
    total = sum(
        c.amount
        for c in Charge.objects.filter(kind=Charge.Kind.LATE_FEE).exclude(status="cancelled")
    )
    assert total == D("2.51")  # 1 % of 250.60


def test_no_clause_no_late_fee(owner, property_fee, bill):
    ServiceContract.objects.update(has_late_fee_clause=False, late_fee_daily_rate=None)
    bill("2026-12")
    result = services.late_fee_assess(
        estate=owner.estate, as_of=date(2027, 6, 1), today=date(2027, 6, 1)
    )
    assert result.skipped and not Charge.objects.filter(kind=Charge.Kind.LATE_FEE).exists()
