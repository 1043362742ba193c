from decimal import Decimal

import pytest
from django.db import connection, models, transaction
from hypothesis import given
from hypothesis import strategies as st

from wuye.core.money import ZERO, MoneySum, money, split


class Amount(models.Model):
    """A throwaway table of amounts (created by the test itself)."""

    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        app_label = "core"
        db_table = "test_money_amount"
        managed = False

    def __str__(self) -> str:
        return str(self.amount)


def test_money_rounds_half_up_to_the_fen_by_default():
    assert money(Decimal("2.345")) == Decimal("2.35")
    assert money(Decimal("2.344")) == Decimal("2.34")


def test_money_rounds_to_the_jiao_or_yuan_up_or_down():
    assert money(Decimal("12.34"), unit="jiao", mode="up") == Decimal("12.40")
    assert money(Decimal("12.99"), unit="yuan", mode="down") == Decimal("12.00")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        money(1.1)


@pytest.mark.django_db
@given(
    st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2),
        min_size=1,
        max_size=60,
    )
)
def test_a_money_sum_is_exact_on_every_database(amounts):
    # given 2-place amounts in a DECIMAL column (which SQLite adds up as floats)
    with transaction.atomic(), connection.cursor() as cursor:
        key = "SERIAL PRIMARY KEY" if connection.vendor == "postgresql" else "INTEGER PRIMARY KEY"
        cursor.execute("DROP TABLE IF EXISTS test_money_amount")
        cursor.execute(f"CREATE TABLE test_money_amount (id {key}, amount DECIMAL(14,2))")
        cursor.executemany(
            "INSERT INTO test_money_amount (amount) VALUES (%s)", [[a] for a in amounts]
        )
    # when summed with MoneySum
    total = Amount.objects.aggregate(s=MoneySum("amount"))["s"]
    # then the sum is exact, with 2 places, and an empty sum is 0.00
    assert total == sum(amounts) and total.as_tuple().exponent == -2
    assert Amount.objects.filter(amount__lt=0).aggregate(s=MoneySum("amount"))["s"] == ZERO


def test_amounts_are_shown_with_thousands_separators():
    from wuye.core.money import format_yuan

    assert format_yuan(Decimal("1234567.5")) == "1,234,567.50"
    assert format_yuan("-12345.678") == "-12,345.68"
    assert format_yuan(Decimal("0")) == "0.00"
    assert format_yuan(None) == "" and format_yuan("") == ""
    assert format_yuan("n/a") == "n/a"  # never a crashed page over a label


# --- split: parts add up to the whole (largest remainder) ------------------------------------


def test_split_gives_the_leftover_fen_to_the_largest_remainders():
    # 0.02 over four equal weights: two parts of 0.01, never a negative last part
    assert split(Decimal("0.02"), [1, 1, 1, 1]) == [Decimal("0.01")] * 2 + [Decimal("0.00")] * 2
    # 100.00 over 1:1:1 -> 33.34, 33.33, 33.33
    assert split(Decimal("100.00"), [1, 1, 1]) == [Decimal(x) for x in ("33.34", "33.33", "33.33")]
    # to the yuan
    assert split(Decimal("10"), [1, 2], step=Decimal("1")) == [Decimal("3.00"), Decimal("7.00")]


@given(
    total=st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
    weights=st.lists(
        st.decimals(min_value=0, max_value=10**5, places=4, allow_nan=False),
        min_size=1,
        max_size=12,
    ).filter(lambda ws: sum(ws) > 0),
)
def test_split_parts_always_sum_to_the_whole_and_stay_within_a_fen(total, weights):
    parts = split(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / whole
        assert abs(part - exact) < Decimal("0.01")
        assert part * total >= 0  # a part never has the other sign
