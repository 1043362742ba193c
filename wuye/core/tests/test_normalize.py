"""Ids from query strings and forms: what a hand-edited URL or a pasted value may hold."""

import pytest

from wuye.core.normalize import as_id, as_ids


@pytest.mark.parametrize(
    "raw, wanted",
    [
        ("12", 12),
        (" 7 ", 7),
        (42, 42),
        ("", None),
        (None, None),
        ("-3", None),
        ("1.5", None),
        ("²", None),  # str.isdigit() says yes, int() refuses
        ("١٢", None),  # Arabic-Indic digits: int() takes them, no id is written so
        ("9" * 19, None),  # beyond a bigint
    ],
)
def test_an_id_is_ascii_digits_that_fit_a_bigint(raw, wanted):
    assert as_id(raw) == wanted


def test_ids_keep_their_order_once_each_and_drop_the_rest():
    assert as_ids(["3", "x", "3", "²", "5", ""]) == [3, 5]
