"""Plain helpers (not fixtures) for the resolution tests: a fee item, charges posted as billing
posts them, a payment at the window, a delivered message."""

import itertools
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

_keys = itertools.count(1)


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
    from wuye.billing.models import Charge
    from wuye.billing.periods import Period
    from wuye.ledger import chart
    from wuye.ledger.services import Line, account_ensure, entry_post

    item = item or fee_item(unit.estate)
    p = Period.parse(period)
    amount = Decimal(amount)
    c = Charge.objects.create(
        estate_id=unit.estate_id,
        unit=unit,
        party=party,
        fee_item=item,
        kind=kind,
        period=str(p),
        period_start=p.start,
        period_end=p.end,
        amount=amount,
        outstanding=amount,
        bill_date=p.start,
        due_date=due or p.start.replace(day=28),
        source=source,
        description=f"{p} {item.name}" + (" 滞纳金" if kind == "late_fee" else ""),
    )
    account = item.gl_account()
    account_ensure(code=account, name=item.name, kind="income")
    entry_post(
        estate=unit.estate_id,
        date=p.start,
        memo=c.description,
        lines=[Line(chart.RECEIVABLE, debit=amount), Line(account, credit=amount)],
        idempotency_key=f"collection-test-charge-{next(_keys)}",
        source_type="charge",
        source_id=c.pk,
    )
    return c


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
