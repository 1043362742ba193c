from datetime import date
from decimal import Decimal

import pytest

from wuye.core.errors import DomainError
from wuye.ledger import chart
from wuye.ledger.selectors import (
    account_balance,
    party_receivable_gl,
    receivable_by_party,
    trial_balance,
)
from wuye.ledger.services import Line, account_ensure, entry_reverse

D = Decimal


@pytest.fixture
def march_books(estate, other_estate, post):
    """February: a bill of 1000 to party 1. March: bills of 500 to party 1 and 300 to party 2,
    party 1 pays 800 by WeChat; the 300 bill is voided. Another estate bills 999."""
    post(estate, "1000.00", day=date(2026, 2, 1), party_id=1)
    post(estate, "500.00", day=date(2026, 3, 1), party_id=1)
    wrong = post(estate, "300.00", day=date(2026, 3, 1), party_id=2)
    post(
        estate,
        day=date(2026, 3, 15),
        lines=[
            Line(chart.CLEARING_WECHAT, debit=D("800.00")),
            Line(chart.RECEIVABLE, credit=D("800.00"), party_id=1),
        ],
    )
    entry_reverse(entry=wrong, date=date(2026, 3, 20), idempotency_key="void:300")
    post(other_estate, "999.00", day=date(2026, 3, 1), party_id=1)
    return estate


@pytest.mark.django_db
def test_account_balances_read_on_the_normal_side_up_to_a_date(march_books, other_estate):
    estate = march_books
    # receivable (asset): 1000 + 500 + 300 - 800 - 300
    assert account_balance(estate, chart.RECEIVABLE) == D("700.00")
    assert account_balance(estate, chart.RECEIVABLE, upto=date(2026, 3, 14)) == D("1800.00")
    # revenue (income) reads positive on the credit side
    assert account_balance(estate, chart.REVENUE) == D("1500.00")
    assert account_balance(estate, chart.CLEARING_WECHAT) == D("800.00")
    assert account_balance(other_estate, chart.RECEIVABLE) == D("999.00")
    assert account_balance(estate, chart.BANK) == D("0.00")


@pytest.mark.django_db
def test_a_parent_account_balance_includes_its_sub_accounts(estate, post):
    account_ensure(code="6001.PARKING", name="停车费", kind="income")
    post(estate, "100.00")
    post(
        estate,
        lines=[Line(chart.RECEIVABLE, debit=D("40")), Line("6001.PARKING", credit=D("40"))],
    )
    assert account_balance(estate, chart.REVENUE) == D("140.00")
    assert account_balance(estate, "6001.PARKING") == D("40.00")
    with pytest.raises(DomainError, match="unknown account"):
        account_balance(estate, "7777")


@pytest.mark.django_db
def test_the_receivable_per_party_is_kept_per_estate(march_books, other_estate):
    estate = march_books
    assert party_receivable_gl(estate, 1) == D("700.00")  # 1000 + 500 - 800
    assert party_receivable_gl(estate, 2) == D("0.00")  # billed, then voided
    assert party_receivable_gl(estate, 3) == D("0.00")
    assert party_receivable_gl(other_estate, 1) == D("999.00")
    assert receivable_by_party(estate) == {1: D("700.00"), 2: D("0.00")}


@pytest.mark.django_db
def test_the_trial_balance_shows_opening_period_and_closing_per_account(march_books):
    # when
    report = trial_balance([march_books.pk], date(2026, 3, 1), date(2026, 3, 31))
    # then
    rows = {row.code: row for row in report.rows}
    receivable = rows[chart.RECEIVABLE]
    assert (receivable.opening, receivable.debits, receivable.credits, receivable.closing) == (
        D("1000.00"),
        D("800.00"),
        D("1100.00"),
        D("700.00"),
    )
    revenue = rows[chart.REVENUE]
    assert (revenue.opening_credit, revenue.debits, revenue.credits, revenue.closing_credit) == (
        D("1000.00"),
        D("300.00"),
        D("800.00"),
        D("1500.00"),
    )
    assert report.totals == {
        "opening_debit": D("1000.00"),
        "opening_credit": D("1000.00"),
        "debits": D("1900.00"),
        "credits": D("1900.00"),
        "closing_debit": D("1500.00"),
        "closing_credit": D("1500.00"),
    }
    assert report.is_balanced


@pytest.mark.django_db
def test_the_trial_balance_of_several_estates_adds_them_up(march_books, other_estate):
    both = trial_balance([march_books.pk, other_estate.pk], None, None)
    one = trial_balance([other_estate.pk], None, None)
    assert {r.code: r.closing for r in one.rows} == {
        chart.RECEIVABLE: D("999.00"),
        chart.REVENUE: D("-999.00"),
    }
    assert {r.code: r.closing for r in both.rows}[chart.RECEIVABLE] == D("1699.00")
    assert both.is_balanced and one.is_balanced
