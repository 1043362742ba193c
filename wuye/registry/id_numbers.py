"""Checking an ID number (证件号) as staff type it, on the owner form, the API and the import.

- 18 characters, 17 digits and a digit or X: a resident identity card number (居民身份证,
  GB 11643). Its check digit (ISO 7064 MOD 11-2) and birth date must be right, through
  `python-stdnum`'s `cn.ric`. The region code is not checked: stdnum's table of counties
  lags behind new districts, and a real card must never be refused.
- 15 digits: a first-generation card (no check digit): its birth date (19YYMMDD) must be real.
- Any other run of 14 to 19 digits is a card number with a digit missing or extra.
- 18 characters of digits and capitals, not a card number: a unified social credit code
  (统一社会信用代码) of a company owner, checked by `cn.uscc`.
- Anything else (a passport, a Hong Kong, Macau or Taiwan permit, a foreign ID) is kept as
  typed: there is no single rule for those.

The messages do not repeat the number: they are kept with import jobs, and ID numbers are
encrypted at rest everywhere else."""

import re
from datetime import date

from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as NumberInvalid

RESIDENT = re.compile(r"^\d{17}[\dX]$")
ALL_DIGITS = re.compile(r"^\d{14,19}$")
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class IdNumberInvalid(ValueError):
    """The number is not a valid ID number; the message says what is wrong."""


def _real_birth_date(year: int, month: int, day: int) -> None:
    try:
        born = date(year, month, day)
    except ValueError:
        raise IdNumberInvalid(
            _("the birth date in the ID number (digits 7-14) is not a real date")
        ) from None
    if born.year < 1890 or born > date.today():
        raise IdNumberInvalid(_("the birth date in the ID number (digits 7-14) is not possible"))


def id_number_clean(value: str) -> str:
    """The number without spaces, in capitals (a lower-case x is an X), or IdNumberInvalid."""
    number = re.sub(r"\s+", "", value or "").upper()
    if not number:
        return ""
    if len(number) > 30:
        raise IdNumberInvalid(_("longer than %(max)s characters") % {"max": 30})
    if RESIDENT.match(number):
        if ric.calc_check_digit(number) != number[-1]:
            raise IdNumberInvalid(
                _(
                    "the ID number's last character does not match the other 17 (a digit "
                    "was mistyped): check it against the ID card"
                )
            )
        _real_birth_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        return number
    if re.fullmatch(r"\d{15}", number):
        _real_birth_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
        return number
    if ALL_DIGITS.match(number):
        raise IdNumberInvalid(
            _("the ID number has %(count)s digits; a resident ID card number has 18")
            % {"count": len(number)}
        )
    if len(number) == 18 and USCC.match(number):
        try:
            uscc.validate(number)
        except NumberInvalid:
            raise IdNumberInvalid(
                _(
                    "not a valid unified social credit code: its last character does not "
                    "match the others (a character was mistyped)"
                )
            ) from None
    return number
