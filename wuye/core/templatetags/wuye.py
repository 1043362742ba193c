"""Template filters shared by every page: masked phones, money with thousands separators."""

from decimal import Decimal

from django import template

from wuye.core.masking import mask_phone

register = template.Library()


@register.filter
def phone_mask(value: str | None) -> str:
    return mask_phone(value)


@register.filter
def yuan(value) -> str:
    """1234.5 -> 1,234.50 (Decimal, never float)."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"
