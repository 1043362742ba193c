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
            _counter_ensure(model, estate_id, year)
            cursor.execute(sql, [estate_id, year])
            row = cursor.fetchone()
    return row[0]


def _counter_ensure(model, estate_id: int, year: int) -> None:
    model.objects.bulk_create(
        [model(estate_id=estate_id, year=year, last=0)], ignore_conflicts=True
    )


def _cast(field) -> str:
    kind = field.db_type(connection)
    return "text" if kind.startswith("varchar") else kind


def _values(instance, fields) -> list:
    return [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]


def _saved(instance, pk) -> None:
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def insert_numbered(instance, counter, *, number: str = "number", year: str = "year") -> None:
    """INSERT `instance` with the next number of its (estate, year) from the `counter` model
    (gapless, see `next_number`). On PostgreSQL the counter is incremented in the same
    statement as the insert, so its row lock is held from here to the commit only: call this
    as late in the transaction as possible."""
    if connection.vendor != "postgresql":
        setattr(instance, number, next_number(counter, instance.estate_id, getattr(instance, year)))
        instance.save(force_insert=True)
        return
    meta = instance._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key and f.attname != number]
    sql = (
        f"WITH n AS (UPDATE {quote(counter._meta.db_table)} SET last = last + 1 "  # noqa: S608
        f"WHERE estate_id = %s AND year = %s RETURNING last) "
        f"INSERT INTO {quote(meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}, {quote(meta.get_field(number).column)}) "
        f"SELECT {', '.join(f'%s::{_cast(f)}' for f in fields)}, n.last FROM n "
        f"RETURNING {quote(meta.pk.column)}, {quote(meta.get_field(number).column)}"
    )
    params = [instance.estate_id, getattr(instance, year), *_values(instance, fields)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:  # the estate's first number of the year
            _counter_ensure(counter, instance.estate_id, getattr(instance, year))
            cursor.execute(sql, params)
            row = cursor.fetchone()
    _saved(instance, row[0])
    setattr(instance, number, row[1])


def insert_unless_conflict(instance) -> bool:
    """INSERT `instance`, or nothing when that would break one of its UNIQUE constraints;
    True when inserted. Needs no savepoint, unlike catching the IntegrityError."""
    meta = instance._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(instance, fields))
        row = cursor.fetchone()
    if row is None:
        return False
    _saved(instance, row[0])
    return True
