"""The pure money arithmetic of billing: pro-ration, vacancy, rounding, late fees."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuye.billing.calculations import (
    Relation,
    late_fee_due,
    monthly_base,
    overdue_days,
    payer_segments,
    recurring_amount,
)
from wuye.billing.periods import Period
from wuye.core.errors import DomainError

D = Decimal


def amount(period: str, billable, *, months=1, base=None, **kw):
    base = D("250.60") if base is None else base
    p = Period.parse(period)
    return recurring_amount(base=base, cycle_start=p, months=months, billable=billable, **kw)


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-13", "202612", "2026-1", "26-12", "", "2026-00", "abcd-ef"])
def test_a_malformed_period_is_refused_naming_the_field(text):
    with pytest.raises(DomainError) as err:
        Period.parse(text)
    assert err.value.field == "period"


def test_a_period_knows_its_days_including_leap_february():
    assert Period.parse("2028-02").end == date(2028, 2, 29)
    assert Period.parse("2026-02").days == 28
    assert str(Period.parse("2026-12").plus(1)) == "2027-01"


def test_quarterly_cycles_start_in_january_april_july_october():
    starts = [m for m in range(1, 13) if Period(2026, m).is_cycle_start(3)]
    assert starts == [1, 4, 7, 10]
    assert Period(2026, 1).cycle_end(3) == date(2026, 3, 31)


# --- recurring amounts -----------------------------------------------------------------------


def test_a_full_month_is_area_times_rate():
    base = monthly_base(basis="per_area_month", rate=D("2.80"), area=D("89.50"))
    assert amount("2026-12", [(date(2026, 12, 1), date(2026, 12, 31))], base=base) == D("250.60")


def test_per_unit_items_ignore_the_area():
    assert monthly_base(basis="per_unit_month", rate=D("150"), area=None) == D("150")


def test_a_per_m2_item_without_area_is_an_error():
    with pytest.raises(ValueError):
        monthly_base(basis="per_area_month", rate=D("2.80"), area=None)


def test_fee_start_in_leap_february_bills_days_over_29():
    # given a fee start on 16 Feb 2028 (leap year: 29 days), 14 days billable
    got = amount("2028-02", [(date(2028, 2, 16), date(2028, 2, 29))], base=D("290.00"))
    # then 290 x 14/29 = 140.00
    assert got == D("140.00")


def test_a_fee_start_on_the_last_day_of_a_month_bills_one_day():
    got = amount("2026-01", [(date(2026, 1, 31), date(2026, 1, 31))], base=D("310.00"))
    assert got == D("10.00")


def test_mid_month_handover_splits_a_month_by_days():
    first = amount("2026-04", [(date(2026, 4, 1), date(2026, 4, 15))], base=D("300.00"))
    second = amount("2026-04", [(date(2026, 4, 16), date(2026, 4, 30))], base=D("300.00"))
    assert first == second == D("150.00")


def test_a_quarter_prorates_each_month_by_its_own_days():
    # given a quarterly cycle Jan-Mar 2026 and a fee start on 16 February
    got = amount("2026-01", [(date(2026, 2, 16), date(2026, 3, 31))], months=3, base=D("280.00"))
    # then February 13/28 + all of March
    assert got == D("410.00")


def test_vacant_days_are_charged_at_the_vacancy_rate():
    # given December fully billable, vacant 1-10 December at 70 %
    got = amount(
        "2026-12",
        [(date(2026, 12, 1), date(2026, 12, 31))],
        base=D("310.00"),
        vacant=[(date(2026, 12, 1), date(2026, 12, 10))],
        vacancy_rate=D("0.7"),
    )
    # then 310 x (21 + 10 x 0.7) / 31 = 280.00
    assert got == D("280.00")


def test_vacancy_without_a_vacancy_rate_changes_nothing():
    got = amount(
        "2026-12",
        [(date(2026, 12, 1), date(2026, 12, 31))],
        base=D("310.00"),
        vacant=[(date(2026, 12, 1), date(2026, 12, 10))],
    )
    assert got == D("310.00")


@pytest.mark.parametrize(
    ("unit", "mode", "expected"),
    [
        ("fen", "half_up", D("250.63")),
        ("jiao", "half_up", D("250.60")),
        ("jiao", "up", D("250.70")),
        ("yuan", "down", D("250.00")),
        ("yuan", "half_up", D("251.00")),
    ],
)
def test_the_items_rounding_rule_is_applied_once(unit, mode, expected):
    base = D("89.51") * D("2.8")  # 250.628
    got = amount(
        "2026-12",
        [(date(2026, 12, 1), date(2026, 12, 31))],
        base=base,
        rounding_unit=unit,
        rounding_mode=mode,
    )
    assert got == expected


@given(
    area=st.decimals(min_value=D("1"), max_value=D("9999"), places=2),
    rate=st.decimals(min_value=D("0.1"), max_value=D("50"), places=4),
)
def test_a_full_month_never_drifts_from_area_times_rate(area, rate):
    base = monthly_base(basis="per_area_month", rate=rate, area=area)
    got = amount("2026-02", [(date(2026, 2, 1), date(2026, 2, 28))], base=base)
    assert got == (area * rate).quantize(D("0.01"), rounding="ROUND_HALF_UP")


@given(split=st.integers(min_value=2, max_value=31))
def test_two_payers_of_one_month_together_pay_the_month_within_a_fen(split):
    whole = D("333.33")
    a = amount("2026-12", [(date(2026, 12, 1), date(2026, 12, split - 1))], base=whole)
    b = amount("2026-12", [(date(2026, 12, split), date(2026, 12, 31))], base=whole)
    assert abs(a + b - whole) <= D("0.01")


# --- payer segments ----------------------------------------------------------------------------


def test_a_mid_month_sale_splits_the_month_between_old_and_new_owner():
    rels = [
        Relation(1, True, False, date(2020, 1, 1), date(2026, 12, 14)),
        Relation(2, True, False, date(2026, 12, 15), None),
    ]
    assert payer_segments(rels, date(2026, 12, 1), date(2026, 12, 31)) == [
        (1, date(2026, 12, 1), date(2026, 12, 14)),
        (2, date(2026, 12, 15), date(2026, 12, 31)),
    ]


def test_a_designated_payer_wins_over_the_owner_and_tenants_never_pay_by_default():
    rels = [
        Relation(1, True, False, date(2020, 1, 1), None),
        Relation(3, False, False, date(2026, 1, 1), None),  # a tenant
        Relation(2, False, True, date(2026, 12, 10), None),  # payer from the 10th
    ]
    assert payer_segments(rels, date(2026, 12, 1), date(2026, 12, 31)) == [
        (1, date(2026, 12, 1), date(2026, 12, 9)),
        (2, date(2026, 12, 10), date(2026, 12, 31)),
    ]


def test_days_without_an_owner_are_billed_to_nobody():
    rels = [Relation(2, True, False, date(2026, 12, 20), None)]
    assert payer_segments(rels, date(2026, 12, 1), date(2026, 12, 31)) == [
        (2, date(2026, 12, 20), date(2026, 12, 31))
    ]


# --- late fees -----------------------------------------------------------------------------


def test_late_fee_is_simple_interest_after_the_grace_days():
    # given 1000 unpaid, 0.03 % a day, due 1 Jan, 15 grace days, assessed on 31 Jan
    fee = late_fee_due(
        principal_unpaid=D("1000"),
        daily_rate=D("0.0003"),
        due_date=date(2026, 1, 1),
        as_of=date(2026, 1, 31),
        grace_days=15,
    )
    # then 15 days late: 1000 x 0.0003 x 15 = 4.50
    assert overdue_days(due_date=date(2026, 1, 1), as_of=date(2026, 1, 31), grace_days=15) == 15
    assert fee == D("4.50")


def test_late_fee_within_grace_is_nothing():
    assert late_fee_due(
        principal_unpaid=D("1000"),
        daily_rate=D("0.0003"),
        due_date=date(2026, 1, 1),
        as_of=date(2026, 1, 10),
        grace_days=15,
    ) == D("0.00")


def test_late_fee_is_capped_at_the_principal_and_nets_what_was_charged():
    kwargs = dict(
        principal_unpaid=D("100"),
        daily_rate=D("0.01"),
        due_date=date(2020, 1, 1),
        as_of=date(2026, 1, 1),
    )
    assert late_fee_due(**kwargs) == D("100.00")
    assert late_fee_due(**kwargs, cap_ratio=D("0.3")) == D("30.00")
    assert late_fee_due(**kwargs, cap_ratio=D("0.3"), already_charged=D("25")) == D("5.00")
    assert late_fee_due(**kwargs, cap_ratio=D("0.3"), already_charged=D("40")) == D("0.00")


@given(
    principal=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    days=st.integers(min_value=0, max_value=5000),
    cap=st.decimals(min_value=D("0"), max_value=D("1"), places=4),
)
def test_late_fee_never_exceeds_its_cap(principal, days, cap):
    from datetime import timedelta

    fee = late_fee_due(
        principal_unpaid=principal,
        daily_rate=D("0.0005"),
        due_date=date(2026, 1, 1),
        as_of=date(2026, 1, 1) + timedelta(days=days),
        cap_ratio=cap,
    )
    assert D("0") <= fee <= (principal * cap).quantize(D("0.01"), rounding="ROUND_HALF_UP")
