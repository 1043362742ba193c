"""Amounts in Chinese capitals as a receipt prints them (会计基础工作规范 art. 52)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuye.core.amount_words import DIGITS, amount_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.05", "伍分"),
        ("10", "壹拾元整"),
        ("10.00", "壹拾元整"),
        ("100.10", "壹佰元壹角整"),
        ("1000005", "壹佰万零伍元整"),
        ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
        ("0", "零元整"),
        ("0.50", "伍角整"),
        ("0.55", "伍角伍分"),
        ("1.05", "壹元零伍分"),
        ("1409.50", "壹仟肆佰零玖元伍角整"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("101000", "壹拾万壹仟元整"),
        ("100000", "壹拾万元整"),
        ("10010", "壹万零壹拾元整"),
        ("100000001", "壹亿零壹元整"),
        ("100010000", "壹亿零壹万元整"),
        ("110", "壹佰壹拾元整"),
        ("-25.30", "负贰拾伍元叁角整"),
    ],
)
def test_capitals_follow_the_financial_convention(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_the_issue_example_in_traditional_characters():
    assert amount_in_words(Decimal("1234.50"), traditional=True) == "壹仟貳佰叁拾肆元伍角整"
    assert amount_in_words(Decimal("1000005"), traditional=True) == "壹佰萬零伍元整"


def test_a_float_is_refused():
    with pytest.raises(TypeError):
        amount_in_words(0.1)


def _back_to_number(words: str) -> Decimal:
    """A tiny reader of the capitals, to check the writer against (not the same algorithm)."""
    digit = {c: i for i, c in enumerate(DIGITS)}
    place = {"拾": 10, "佰": 100, "仟": 1000}
    sign = -1 if words.startswith("负") else 1
    words = words.lstrip("负").removesuffix("整")
    yuan_part, _, small = words.partition("元") if "元" in words else ("", "", words)
    total, section, current = 0, 0, 0
    for char in yuan_part:
        if char in digit:
            current = digit[char]
        elif char in place:
            section += current * place[char]
            current = 0
        elif char == "万":  # amounts below 1亿 only (see the strategy)
            total = (section + current) * 10_000
            section = current = 0
    total += section + current
    cents = 0
    if "角" in small:
        cents += digit[small[small.index("角") - 1]] * 10
    if "分" in small:
        cents += digit[small[small.index("分") - 1]]
    return sign * (Decimal(total) + Decimal(cents) / 100)


@given(st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))
def test_the_words_read_back_to_the_same_amount(amount):
    words = amount_in_words(amount)
    assert _back_to_number(words) == amount
    assert words.endswith("分") != words.endswith("整")
    assert "零零" not in words
