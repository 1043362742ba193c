"""ID numbers as staff type them: resident ID cards by their check digit and birth date,
companies' unified social credit codes by theirs, other documents kept as typed."""

import pytest

from wuye.registry.id_numbers import IdNumberInvalid, id_number_clean


@pytest.mark.parametrize(
    "typed, kept",
    [
        ("11010519491231002x", "11010519491231002X"),  # a lower-case x
        (" 4403 0119 8001 0112 3X ", "44030119800101123X"),  # spaces
        ("110105491231002", "110105491231002"),  # a first-generation card (15 digits)
        ("E12345678", "E12345678"),  # a passport
        ("H0123456701", "H0123456701"),  # a Hong Kong and Macau home-return permit
        ("", ""),
    ],
)
def test_valid_numbers_are_kept_cleaned(typed, kept):
    assert id_number_clean(typed) == kept


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("110105194912310021", "last character does not match the other 17"),
        ("11010519491331002X", "not a real date"),  # month 13, check digit right
        ("1101051949123100", "has 16 digits"),
        ("110105491331002", "not a real date"),
    ],
)
def test_wrong_numbers_are_refused_saying_what_is_wrong(typed, reason):
    if typed == "11010519491331002X":  # give it the right check digit, so the date is at fault
        from stdnum.cn import ric

        typed = typed[:17] + ric.calc_check_digit(typed)
    with pytest.raises(IdNumberInvalid, match=reason):
        id_number_clean(typed)


def test_a_companys_credit_code_is_checked_by_its_own_check_character():
    from stdnum.cn import uscc

    code = "91440300MA5" + "F12345"  # a Shenzhen company's code, check character added
    code += uscc.calc_check_digit(code)
    assert id_number_clean(code) == code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(IdNumberInvalid, match="unified social credit code"):
        id_number_clean(wrong)
