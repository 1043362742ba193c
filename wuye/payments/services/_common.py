"""Helpers shared by the payment services: input checks, the business day, GL accounts."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.utils import timezone

from wuye.core.errors import DomainError
from wuye.core.money import FEN
from wuye.ledger import chart

from ..models import CashierSettings, DayClose, Payment

# The account each channel's money lands in (DESIGN.md §3: a payment is its own GL entry).
CHANNEL_ACCOUNTS = {
    Payment.Channel.CASH: chart.CASH,
    Payment.Channel.POS: chart.CLEARING_POS,
    Payment.Channel.TRANSFER: chart.BANK,
    Payment.Channel.CHEQUE: chart.BANK,
    Payment.Channel.WECHAT: chart.CLEARING_WECHAT,
    Payment.Channel.ALIPAY: chart.CLEARING_ALIPAY,
    Payment.Channel.AUTODEBIT: chart.CLEARING_AUTODEBIT,
    Payment.Channel.PREPAYMENT: chart.PREPAYMENTS,
}


def money_in(value, field: str = "amount", *, allow_zero: bool = False) -> Decimal:
    """A positive amount with at most 2 places, or a DomainError naming the field."""
    if isinstance(value, float):
        raise DomainError("money is never a float", field=field)
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(f"{value!r} is not an amount", field=field) from exc
    if not amount.is_finite():
        raise DomainError(f"{value!r} is not an amount", field=field)
    if amount < 0:
        raise DomainError("the amount cannot be negative", field=field)
    if amount == 0 and not allow_zero:
        raise DomainError("the amount must be more than 0", field=field)
    if amount != amount.quantize(FEN):
        raise DomainError("an amount has at most 2 decimal places (fen)", field=field)
    if amount > Decimal("999999999.99"):
        raise DomainError("the amount is too large", field=field)
    return amount.quantize(FEN)


def user_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


def business_today(today: date | None = None) -> date:
    return today or timezone.localdate()


def require_day_open(estate_id: int, day: date) -> None:
    """Nothing is posted with a signed-off business date; corrections go into the next day."""
    if DayClose.objects.filter(estate_id=estate_id, business_date=day).exists():
        raise DomainError(
            f"the business day {day} is signed off; post the correction on the next day "
            "and reference the original",
            field="business_date",
            code="day_closed",
        )


def settings_of(estate_id: int) -> CashierSettings:
    """The estate's window settings (defaults when it has none)."""
    found = CashierSettings.objects.filter(estate_id=estate_id).first()
    return found or CashierSettings(estate_id=estate_id)


def next_number(model, estate_id: int, year: int) -> int:
    """Increment the (estate, year) counter row of `model` and return the new value. The row
    stays locked until the caller's transaction ends: numbers are unique and gapless, and a
    rolled-back transaction gives its number back."""
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"UPDATE {table} SET last = last + 1 WHERE estate_id = %s AND year = %s RETURNING last"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [estate_id, year])
        row = cursor.fetchone()
        if row is None:
            model.objects.bulk_create(
                [model(estate_id=estate_id, year=year, last=0)], ignore_conflicts=True
            )
            cursor.execute(sql, [estate_id, year])
            row = cursor.fetchone()
    return row[0]
