"""The schedule of an installment plan and how it stands; the agreement's PDF."""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuye.collection.agreements import AgreementContent, agreement_pdf
from wuye.collection.instalments import (
    add_months,
    check_custom_schedule,
    equal_schedule,
    plan_states,
)
from wuye.core.errors import DomainError

from .test_demand_pdf import pdf_text


def test_an_equal_schedule_is_monthly_and_the_odd_fen_go_last():
    rows = equal_schedule(total=D("1000.00"), count=3, first_due=date(2027, 1, 31))
    assert rows == [
        (date(2027, 1, 31), D("333.33")),
        (date(2027, 2, 28), D("333.33")),
        (date(2027, 3, 31), D("333.34")),
    ]


@given(
    total=st.decimals(min_value="0.05", max_value="99999.99", places=2),
    count=st.integers(min_value=2, max_value=36),
)
def test_equal_instalments_always_add_up_to_the_total(total, count):
    if total < D("0.01") * count:
        with pytest.raises(DomainError, match="below one fen"):
            equal_schedule(total=total, count=count, first_due=date(2027, 1, 15))
        return
    rows = equal_schedule(total=total, count=count, first_due=date(2027, 1, 15))
    assert sum(a for _, a in rows) == total
    assert len({a for _, a in rows[:-1]}) <= 1 and all(a > 0 for _, a in rows)
    assert [d for d, _ in rows] == sorted({d for d, _ in rows})


def test_a_custom_schedule_is_checked_row_by_row():
    ok = check_custom_schedule(
        total=D("500.00"),
        rows=[(date(2027, 1, 10), D("100.00")), (date(2027, 3, 1), D("400.00"))],
        not_before=date(2026, 12, 7),
    )
    assert len(ok) == 2
    with pytest.raises(DomainError, match="add up to 450.00, the plan covers 500.00"):
        check_custom_schedule(
            total=D("500.00"),
            rows=[(date(2027, 1, 10), D("50.00")), (date(2027, 3, 1), D("400.00"))],
            not_before=date(2026, 12, 7),
        )
    with pytest.raises(DomainError, match="instalment 2: 2027-01-10 is not after"):
        check_custom_schedule(
            total=D("500.00"),
            rows=[(date(2027, 1, 10), D("100.00")), (date(2027, 1, 10), D("400.00"))],
            not_before=date(2026, 12, 7),
        )


def test_payments_cover_instalments_in_order_and_a_missed_one_shows():
    schedule = [(date(2027, 1, 10), D("100.00")), (date(2027, 2, 10), D("100.00"))]
    # 150 paid by 2027-02-20, 5 days' grace: the first kept, the second missed
    states = plan_states(schedule=schedule, paid=D("150.00"), today=date(2027, 2, 16), grace_days=5)
    assert [(s.state, s.covered) for s in states] == [("kept", D("100.00")), ("missed", D("50.00"))]
    # within the grace days it is only due
    states = plan_states(schedule=schedule, paid=D("150.00"), today=date(2027, 2, 15), grace_days=5)
    assert states[1].state == "due"


def test_add_months_keeps_the_day_or_takes_the_last_one():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)


def test_the_agreement_pdf_lists_parties_debt_schedule_and_the_missed_instalment_rule(tmp_path):
    content = AgreementContent(
        company="深圳华苑物业服务有限公司",
        estate_name="华苑小区",
        estate_address="深圳市南山区华苑路1号",
        hotline="0755-86001234",
        number="FQ-HY-0001",
        party_name="张伟",
        party_id_number="44030119800101123X",
        party_mobile="13812345678",
        payment_ref="HY0001",
        units=["1-1-301"],
        covered=[("2026-09", "物业服务费", D("250.60")), ("2026-10", "物业服务费", D("250.60"))],
        schedule=equal_schedule(total=D("501.20"), count=2, first_due=date(2027, 1, 10)),
        grace_days=5,
        drafted_on=date(2026, 12, 7),
    )
    text = pdf_text(agreement_pdf(content), tmp_path)
    for expected in ["分期缴费协议", "FQ-HY-0001", "深圳华苑物业服务有限公司", "张伟", "1-1-301"]:
        assert expected in text
    assert "44030119800101123X" not in text  # the ID number is masked on paper
    assert "2026-09" in text and "501.20" in text and "伍佰零壹元贰角整" in text
    assert "2027年01月10日" in text and "2027年02月10日" in text and "250.60" in text
    assert "超过约定日期5日仍未足额缴纳" in text and "恢复催缴" in text
