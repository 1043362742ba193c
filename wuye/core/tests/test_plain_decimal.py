"""Amounts are plain decimals: "1e3" is not 1000.00, in a form or through the API."""

from decimal import Decimal

import pytest
from django import forms
from rest_framework import serializers

from wuye.core.money import plain_decimal


@pytest.mark.parametrize("text", ["1e3", "1E3", "NaN", "Infinity", "-inf", "1.2.3", "0x10", ""])
def test_exponents_and_words_are_refused(text):
    with pytest.raises(ValueError):
        plain_decimal(text)


@pytest.mark.parametrize(("text", "value"), [("1000", "1000"), (" 1,234.50 ", "1234.50")])
def test_plain_numbers_are_read(text, value):
    assert plain_decimal(text) == Decimal(value)


class AmountForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2)


class AmountIn(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


def test_forms_and_the_api_refuse_an_exponent():
    assert not AmountForm({"amount": "1e3"}).is_valid()
    assert AmountForm({"amount": "1000.00"}).is_valid()
    assert not AmountIn(data={"amount": "1e3"}).is_valid()
    assert AmountIn(data={"amount": "1000.00"}).is_valid()
