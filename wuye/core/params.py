"""Query parameters of list pages and the API, read in one place (issue 12 §8): an impossible
date (`?date=2026-02-30`), a month 13, an id or a number that is not one is a 400 naming the
parameter, never ignored (a 200 showing everything) nor a 500. A missing or empty parameter
is "no filter" (an empty field of a filter form sends `name=`).

`BadParameter` is a `BadRequest`: pages answer it with the styled 400 page saying what was
wrong (wuye.views.bad_request), the API with `{"detail", "code": "invalid", "field"}`
(wuye.core.api.exception_handler). Filter forms go through `filters_valid`, the same answer."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import BadRequest
from django.utils.translation import gettext as _

BIGINT_MAX = 2**63 - 1


class BadParameter(BadRequest):
    """A query parameter that cannot be read; `name` is the parameter, `message` says why."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return self.message


def _raw(params, name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value).strip()


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "…"


def parse_date(name: str, value: str) -> date:
    """`value` (YYYY-MM-DD) as a date, or BadParameter naming `name`."""
    try:
        if len(value) == 10 and value.isascii():
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise BadParameter(
        name,
        _("%(name)s: “%(value)s” is not a date (YYYY-MM-DD)")
        % {"name": name, "value": _shown(value)},
    )


def query_date(params, name: str, default: date | None = None) -> date | None:
    """The date in parameter `name` (YYYY-MM-DD), `default` when missing or empty."""
    value = _raw(params, name)
    return parse_date(name, value) if value else default


def query_month(params, name: str, default: str = "") -> str:
    """The month in parameter `name` as "YYYY-MM" (a period), `default` when missing or empty."""
    value = _raw(params, name)
    if not value:
        return default
    year, _sep, month = value.partition("-")
    if (
        len(year) == 4
        and len(month) == 2
        and (year + month).isascii()
        and (year + month).isdigit()
        and 1 <= int(month) <= 12
        and int(year) >= 1
    ):
        return value
    raise BadParameter(
        name,
        _("%(name)s: “%(value)s” is not a month (YYYY-MM)")
        % {"name": name, "value": _shown(value)},
    )


def query_int(
    params, name: str, default: int | None = None, *, minimum: int = 0, maximum: int = BIGINT_MAX
) -> int | None:
    """The whole number in parameter `name` (ASCII digits, within [minimum, maximum]),
    `default` when missing or empty."""
    value = _raw(params, name)
    if not value:
        return default
    digits = value[1:] if value.startswith("-") else value
    if digits.isascii() and digits.isdigit() and len(digits) <= 19:
        number = int(value)
        if minimum <= number <= maximum:
            return number
        raise BadParameter(
            name,
            _("%(name)s: %(value)s is out of range (%(minimum)s to %(maximum)s)")
            % {"name": name, "value": _shown(value), "minimum": minimum, "maximum": maximum},
        )
    raise BadParameter(
        name,
        _("%(name)s: “%(value)s” is not a whole number") % {"name": name, "value": _shown(value)},
    )


def parse_id(name: str, value: object) -> int | None:
    """`value` (from parameter `name`) as a record id, None when empty."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    raise BadParameter(
        name,
        _("%(name)s: “%(value)s” is not a record number") % {"name": name, "value": _shown(text)},
    )


def query_id(params, name: str) -> int | None:
    """The record id in parameter `name`, None when missing or empty."""
    return parse_id(name, params.get(name))


def query_amount(params, name: str) -> Decimal | None:
    """The amount in parameter `name` (plain digits, at most 2 decimals, no exponent), None
    when missing or empty."""
    value = _raw(params, name)
    if not value:
        return None
    whole, _sep, cents = value.partition(".")
    whole = whole.removeprefix("-")
    if (
        whole.isascii()
        and whole.isdigit()
        and len(whole) <= 12
        and (not cents or (cents.isascii() and cents.isdigit() and len(cents) <= 2))
    ):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the checks above allow only numbers
            pass
    raise BadParameter(
        name,
        _("%(name)s: “%(value)s” is not an amount (like 1234.50)")
        % {"name": name, "value": _shown(value)},
    )


def query_choice(params, name: str, choices, default: str = "") -> str:
    """The value of parameter `name`, one of `choices`; `default` when missing or empty."""
    value = _raw(params, name)
    if not value:
        return default
    if value in choices:
        return value
    raise BadParameter(
        name,
        _("%(name)s: “%(value)s” is not one of %(choices)s")
        % {"name": name, "value": _shown(value), "choices": ", ".join(sorted(choices))},
    )


def filters_valid(form) -> dict:
    """The cleaned data of a bound filter form (its data is the query string), or
    BadParameter naming the first parameter it refused and why."""
    if form.is_valid():
        return form.cleaned_data
    name, errors = next(iter(form.errors.items()))
    raise BadParameter(name, f"{name}: {' '.join(str(e) for e in errors)}")
