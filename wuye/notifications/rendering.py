"""Rendering a template's text from named values. Pure: no database, no clock.

Placeholders are `{name}` (Python format fields without conversions or specs); only the names in
`PLACEHOLDERS` exist, so a typo is refused when the template is saved rather than printed on a
thousand letters."""

from string import Formatter

from django.utils.translation import gettext as _

from wuye.core.errors import DomainError

PLACEHOLDERS = {
    "owner": "the party's name",
    "unit": "the unit number(s)",
    "period": "the billing period",
    "amount": "the amount due, e.g. 1,234.50",
    "due_date": "the due date",
    "channels": "how to pay",
    "hotline": "the estate's service hotline",
    "estate": "the estate's name",
    "payment_ref": "the party's payment reference for transfers",
    "code": "a one-time code",
    "fee_start_date": "the day the new payer's fees start",
    "fee_standards": "the fee standards that apply to the unit",
    "bank_account": "the estate's collection account for transfers",
}


def placeholders_in(text: str) -> list[str]:
    """The placeholder names used in `text`, in order of first use."""
    names: list[str] = []
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as exc:
        raise DomainError(
            _("the text has an unbalanced brace: %(exc)s") % {"exc": exc}, field="body"
        ) from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or spec or conversion or not name.isidentifier():
            found = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise DomainError(
                _("write placeholders as {name}; found {%(found)s}") % {"found": found},
                field="body",
            )
        if name not in names:
            names.append(name)
    return names


def check_placeholders(text: str, *, field: str = "body") -> list[str]:
    """Refuse placeholders that do not exist, naming them."""
    names = placeholders_in(text)
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown:
        raise DomainError(
            _("unknown placeholder(s): %(unknown)s; known: %(known)s")
            % {
                "unknown": ", ".join("{" + n + "}" for n in unknown),
                "known": ", ".join("{" + n + "}" for n in PLACEHOLDERS),
            },
            field=field,
            code="unknown_placeholder",
        )
    return names


def render(text: str, values: dict[str, object], *, field: str = "body") -> str:
    """`text` with its placeholders filled from `values`; every placeholder must have a value."""
    names = check_placeholders(text, field=field)
    missing = [n for n in names if values.get(n) in (None, "")]
    if missing:
        raise DomainError(
            _("no value for placeholder(s): %(missing)s")
            % {"missing": ", ".join("{" + n + "}" for n in missing)},
            field=field,
            code="missing_value",
        )
    return text.format(**{n: str(values[n]) for n in names})
