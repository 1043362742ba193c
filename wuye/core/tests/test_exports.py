"""The one rule for export cells: formula-like text is text, plain numbers stay numbers."""

import pytest

from wuye.core.exports import csv_cell, is_formula_like


@pytest.mark.parametrize("value", ["=1+1", "+86 138", "-x", "@A1", "\tTAB", "\rCR"])
def test_formula_starts_are_escaped(value):
    assert is_formula_like(value) and csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.50", "+3", "42", "张伟", "", 5, None])
def test_numbers_and_plain_text_are_kept(value):
    assert not is_formula_like(value)
    assert csv_cell(value) == ("" if value is None else value)
