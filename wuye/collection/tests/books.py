"""Plain helpers (not fixtures) for the resolution tests: a fee item, charges posted as billing
posts them, a payment at the window, a delivered message."""

from datetime import date, datetime

from django.utils import timezone


def fee_item(estate, code="PROPERTY", name="物业服务费"):
    from wuye.fees.models import FeeItem

    item, _ = FeeItem.objects.get_or_create(
        estate=estate,
        code=code,
        defaults={"name": name, "kind": FeeItem.Kind.PROPERTY, "basis": "per_area_month"},
    )
    return item


def charge(unit, party, period, amount, *, item=None, kind="regular", due=None, source=None):
    """An open charge of `period` (due on the 28th unless `due`), posted Dr RECEIVABLE."""
    from wuye.billing.testing import charge_posted

    item = item or fee_item(unit.estate)
    return charge_posted(unit, party, period, amount, item=item, kind=kind, due=due, source=source)


def pay(cashier, party, amount, *, on: date, charge_ids=None):
    """A cash payment at the window on `on` (a shift is opened that day)."""
    from wuye.payments.models import CashierShift
    from wuye.payments.services import payment_take, shift_open

    if not CashierShift.objects.filter(cashier=cashier, business_date=on, status="open").exists():
        shift_open(actor=cashier, estate=party.estate, float_amount="0.00", today=on)
    return payment_take(
        actor=cashier,
        party=party,
        amount=amount,
        channel="cash",
        today=on,
        charge_ids=charge_ids,
    )


def delivered_message(party, *, channel, on: date, address="", purpose="reminder", **fields):
    """A message the provider reported delivered on `on`."""
    from wuye.notifications.models import Message

    at = timezone.make_aware(datetime(on.year, on.month, on.day, 10, 0))
    return Message.objects.create(
        estate=party.estate,
        party=party,
        channel=channel,
        purpose=purpose,
        language="zh-hans",
        text="催缴提醒",
        address=address,
        status=Message.Status.DELIVERED,
        sent_at=at,
        delivered_at=at,
        **fields,
    )
