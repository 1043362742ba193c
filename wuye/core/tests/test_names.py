"""Staff are shown by their names, in the order their language writes them."""

from types import SimpleNamespace

from wuye.core.names import person_name


def user(username="li.na", first="", last=""):
    return SimpleNamespace(username=username, first_name=first, last_name=last)


def test_a_chinese_name_split_in_two_reads_family_name_first_without_a_space():
    assert person_name(user(first="娜", last="李")) == "李娜"


def test_a_whole_name_kept_in_one_field_is_shown_as_it_is():
    assert person_name(user(last="欧阳娜娜")) == "欧阳娜娜"


def test_a_latin_name_reads_given_name_first():
    assert person_name(user(first="Anna", last="Li")) == "Anna Li"


def test_the_login_is_shown_only_for_an_account_without_any_name():
    assert person_name(user(username="script-1")) == "script-1"
    assert person_name(None) == ""
