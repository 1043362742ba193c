"""Template filters shared by every page: masked phones, money with thousands separators,
staff by their names."""

from decimal import Decimal

from django import template

from wuye.core.masking import mask_name, mask_phone
from wuye.core.money import format_yuan
from wuye.core.names import person_name
from wuye.core.roles import ROLE_LABELS

register = template.Library()


@register.filter
def phone_mask(value: str | None) -> str:
    return mask_phone(value)


@register.filter
def name_mask(value: str | None) -> str:
    """张伟 -> 张*: an owner's name for a role without `registry.view_pii`."""
    return mask_name(value)


@register.filter
def yuan(value) -> str:
    """1234.5 -> 1,234.50: every amount on a page goes through this one filter."""
    return format_yuan(value)


@register.filter
def percent(share) -> str:
    """A share as a percentage: 0.05 -> 5%, 0.075 -> 7.5%."""
    if share in (None, ""):
        return ""
    value = (Decimal(share) * 100).normalize()
    return f"{value:f}%"


@register.filter
def person(user) -> str:
    """A staff member's name (李娜), never the login: {{ payment.created_by|person }}."""
    return person_name(user)


@register.filter
def role_label(value: str | None) -> str:
    """A role's name as the office says it: collector -> 催收员."""
    return ROLE_LABELS.get(value or "", value or "")
