"""Pure arithmetic of the window: discounts and small change spread over receipt lines add up
to the whole (issue 11 point 19)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wuye.payments import calculations

D = Decimal


def test_an_offers_discount_lines_add_up_to_the_discount():
    # two months of 100.10 at 5% off: 10.01 off in all, not 5.01 + 5.01
    lines = calculations.offer_discount([D("100.10"), D("100.10")], D("0.05"))
    assert lines == [D("5.01"), D("5.00")]
    assert sum(lines) == D("10.01")


def test_a_spread_never_gives_a_line_a_negative_share():
    # 0.02 spread over four equal receipt lines: the last line took -0.01 before
    assert calculations.spread(D("0.02"), [D("1")] * 4) == [D("0.01"), D("0.01"), D("0"), D("0")]


@given(
    months=st.lists(
        st.decimals(min_value=1, max_value=10**5, places=2, allow_nan=False),
        min_size=1,
        max_size=24,
    ),
    rate=st.decimals(min_value=0, max_value=1, places=4, allow_nan=False),
)
def test_discount_lines_always_add_up_and_never_exceed_their_month(months, rate):
    lines = calculations.offer_discount(months, rate)
    assert sum(lines) == (sum(months) * rate).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert all(D(0) <= line <= month for line, month in zip(lines, months, strict=True))
