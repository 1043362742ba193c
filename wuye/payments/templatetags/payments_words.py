"""Payment codes as words on pages whose data is JSON-safe codes (the daily report is stored
as it was at sign-off): `{{ code|channel_label }}`, `{{ code|shift_status_label }}`."""

from django import template

from ..models import CashierShift, Payment

register = template.Library()


@register.filter
def channel_label(code: str) -> str:
    return str(dict(Payment.Channel.choices).get(code, code))


@register.filter
def shift_status_label(code: str) -> str:
    return str(dict(CashierShift.Status.choices).get(code, code))
