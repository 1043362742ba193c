"""Reading one cell as staff type it: numbers with units, dates in every local spelling,
Chinese words for types and states, yes/no. Each parser returns a clean value or raises
`CellError` with the reason a clerk can act on."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.core.normalize import MOBILE, clean_phone, clean_text, is_valid_phone

from ..id_numbers import IdNumberInvalid, id_number_clean
from .hanzi import simplified


class CellError(ValueError):
    """The cell's value cannot be used; the message says why."""


def text(value: object, *, max_length: int | None = None) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as 3 in Excel arrives as 3.0
    result = clean_text(value)
    if max_length is not None and len(result) > max_length:
        raise CellError(_("longer than %(max)s characters") % {"max": max_length})
    return result


_DASHES = re.compile(r"\s*[-‐‑‒–—―−~～]+\s*")


def unit_number(value: object) -> str:
    """`１－２－３０１`, ` 1 - 2 - 301 ` and `1—2—301` are all `1-2-301`."""
    number = _DASHES.sub("-", text(value)).replace(" ", "").upper()
    if len(number) > 30:
        raise CellError(_("longer than %(max)s characters") % {"max": 30})
    return number


_AREA_SUFFIX = re.compile(r"(㎡|m²|m2|平方米|平米|平方)$", re.IGNORECASE)
_CENT = Decimal("0.01")


def positive_decimal(value: object) -> Decimal:
    """An area such as `89.5`, `89.50㎡` or `1,203.4`; more than zero, at most 2 places."""
    if isinstance(value, bool):
        raise CellError(_("not a number: %(value)s") % {"value": value})
    if isinstance(value, float):
        number = Decimal(repr(value))
        rounded = number.quantize(_CENT)
        if abs(number - rounded) < Decimal("0.000001"):
            number = rounded  # a formula's float noise, e.g. 89.55000000000001
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
    else:
        raw = text(value).replace(",", "").replace("，", "").replace(" ", "")
        raw = _AREA_SUFFIX.sub("", raw)
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise CellError(_("not a number: %(value)s") % {"value": text(value)}) from None
    if not number.is_finite():
        raise CellError(_("not a number: %(value)s") % {"value": value})
    if number <= 0:
        raise CellError(_("must be more than zero (is %(number)s)") % {"number": number})
    if number != number.quantize(_CENT):
        raise CellError(_("at most 2 decimal places (is %(number)s)") % {"number": number})
    if number >= Decimal("100000000"):
        raise CellError(_("too large (%(number)s)") % {"number": number})
    return number.quantize(_CENT)


_BASEMENT = re.compile(r"^(B|负|地下)(\d+)层?$", re.IGNORECASE)
_FLOOR = re.compile(r"^(-?\d+)(层|楼|F)?$", re.IGNORECASE)


def floor(value: object) -> int:
    """`3`, `3层`, `3F`, `-1`, `B1`, `负1` (basements are negative)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raw = text(value).replace(" ", "")
        if match := _BASEMENT.match(raw):
            number = -int(match.group(2))
        elif match := _FLOOR.match(raw):
            number = int(match.group(1))
        else:
            raise CellError(_("not a floor number: %(value)s") % {"value": raw})
    if not -32768 <= number <= 32767:
        raise CellError(_("not a floor number: %(value)s") % {"value": number})
    return number


def positive_int(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raw = text(value).replace(" ", "").removesuffix("层")
        if not raw.isdigit():
            raise CellError(_("not a whole number: %(value)s") % {"value": text(value)})
        number = int(raw)
    if not 0 < number <= 32767:
        raise CellError(_("must be a whole number above zero (is %(number)s)") % {"number": number})
    return number


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_PART = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def a_date(value: object) -> date:
    """2026-01-05, 2026/1/5, 2026.1.5, 2026年1月5日, 20260105, or an Excel date cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # an Excel serial day number in a cell not formatted as a date
        if 1 <= value < 2958466 and float(value).is_integer():
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise CellError(_("not a date: %(value)s") % {"value": value})
    raw = _TIME_PART.sub("", text(value))
    match = _DATE.match(raw) or _COMPACT_DATE.match(raw)
    if not match:
        raise CellError(_("not a date: %(value)s (write it as 2026-01-05)") % {"value": raw})
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise CellError(_("not a real date: %(value)s") % {"value": raw}) from None


def words(mapping: dict[str, str], shown: str):
    """A parser for a closed list of words (Chinese or English, any case) -> stored value.
    `shown` (the accepted words, for the message) is marked with gettext_noop where it is
    written and translated when the message is made."""
    lookup = {clean_text(k).lower().replace(" ", ""): v for k, v in mapping.items()}

    def parse(value: object) -> str:
        key = simplified(text(value).lower().replace(" ", ""))
        try:
            return lookup[key]
        except KeyError:
            raise CellError(
                _("unknown value %(value)s (use %(choices)s)")
                % {"value": repr(text(value)), "choices": _(shown)}
            ) from None

    return parse


UNIT_TYPE_WORDS = {
    "住宅": "residential",
    "商铺": "commercial",
    "车位": "parking",
    "储藏室": "storage",
    "住房": "residential",
    "公寓": "residential",
    "商业": "commercial",
    "商铺/商业": "commercial",
    "车库": "parking",
    "停车位": "parking",
    "储藏间": "storage",
    "储物间": "storage",
    "杂物间": "storage",
    "residential": "residential",
    "commercial": "commercial",
    "parking": "parking",
    "storage": "storage",
}
OCCUPANCY_WORDS = {
    "空置": "vacant",
    "入住": "occupied",
    "装修": "renovating",
    "已入住": "occupied",
    "自住": "occupied",
    "出租": "occupied",
    "未入住": "vacant",
    "装修中": "renovating",
    "vacant": "vacant",
    "occupied": "occupied",
    "renovating": "renovating",
}
unit_type = words(
    UNIT_TYPE_WORDS,
    gettext_noop("住宅/商铺/车位/储藏室 or residential/commercial/parking/storage"),
)
occupancy = words(OCCUPANCY_WORDS, gettext_noop("空置/入住/装修 or vacant/occupied/renovating"))

# What an export writes, so that an exported file imports back unchanged.
UNIT_TYPE_LABELS = {
    "residential": "住宅",
    "commercial": "商铺",
    "parking": "车位",
    "storage": "储藏室",
}
OCCUPANCY_LABELS = {"vacant": "空置", "occupied": "入住", "renovating": "装修"}

_YES = {"是", "y", "yes", "true", "1", "√", "✓", "x", "缴费人"}
_NO = {"否", "n", "no", "false", "0", "×", "不是"}


def yes_no(value: object) -> bool:
    if isinstance(value, bool):
        return value
    key = text(value).lower()
    if key in _YES:
        return True
    if key in _NO or key == "":
        return False
    raise CellError(_("write 是 or 否, not %(value)s") % {"value": repr(text(value))})


def phone(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile typed into a number cell
    number = clean_phone(value)
    if MOBILE.match(number.replace("-", "")):
        number = number.replace("-", "")  # 139-0000-2222 is a mobile written in groups
    if not is_valid_phone(number):
        raise CellError(_("not a valid phone number: %(phone)s") % {"phone": text(value)})
    return number


def email(value: object) -> str:
    address = text(value)
    try:
        validate_email(address)
    except ValidationError:
        raise CellError(
            _("not a valid email address: %(address)s") % {"address": address}
        ) from None
    return address


def id_number(value: object) -> str:
    if isinstance(value, float):
        if abs(value) >= 1e15:
            raise CellError(
                _("the ID number was stored as a number and lost digits; format the column as text")
            )
        value = int(value) if value.is_integer() else value
    try:
        return id_number_clean(text(value))
    except IdNumberInvalid as exc:
        raise CellError(str(exc)) from None
