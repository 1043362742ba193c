"""Test helpers of billing's, for the apps above it (payments, online, collection)."""

import itertools
from decimal import Decimal

_charge_keys = itertools.count(1)


def charge_posted(
    unit, party, period, amount, *, item, kind="regular", due=None, source=None, announce=False
):
    """An open charge of `period` (due on the 28th unless `due`), posted Dr RECEIVABLE Cr the
    item's revenue as billing posts it; `announce` also tells the apps that receivables changed
    (as billing's posting services do). The one way tests make a charge without a bill run."""
    from wuye.billing.events import receivables_changed
    from wuye.billing.models import Charge
    from wuye.billing.periods import Period
    from wuye.ledger import chart
    from wuye.ledger.services import Line, account_ensure, entry_post

    p = Period.parse(period)
    amount = Decimal(amount)
    charge = Charge.objects.create(
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
        memo=charge.description,
        lines=[Line(chart.RECEIVABLE, debit=amount), Line(account, credit=amount)],
        idempotency_key=f"test-charge-{next(_charge_keys)}",
        source_type="charge",
        source_id=charge.pk,
    )
    if announce:
        receivables_changed(charge_ids=[charge.pk])
    return charge
