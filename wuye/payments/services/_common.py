"""Helpers shared by the payment services: input checks, the business day, GL accounts."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.core.money import FEN
from wuye.ledger import chart
from wuye.ledger.models import PeriodClose

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
        raise DomainError(_("money is never a float"), field=field)
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(
            _("%(value)s is not an amount") % {"value": repr(value)}, field=field
        ) from exc
    if not amount.is_finite():
        raise DomainError(_("%(value)s is not an amount") % {"value": repr(value)}, field=field)
    if amount < 0:
        raise DomainError(_("the amount cannot be negative"), field=field)
    if amount == 0 and not allow_zero:
        raise DomainError(_("the amount must be more than 0"), field=field)
    if amount != amount.quantize(FEN):
        raise DomainError(_("an amount has at most 2 decimal places (fen)"), field=field)
    if amount > Decimal("999999999.99"):
        raise DomainError(_("the amount is too large"), field=field)
    return amount.quantize(FEN)


def user_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


def business_today(today: date | None = None) -> date:
    return today or timezone.localdate()


def booking_day(estate_id: int, today: date | None = None) -> date:
    """The business day money arriving now is booked on: today, or when today is signed off
    already (or its accounting month closed), the next day that is not (DESIGN.md §4:
    nothing posts into a closed day or period)."""
    day = business_today(today)
    if not _day_closed(estate_id, day):
        return day
    closed = set(
        DayClose.objects.filter(estate_id=estate_id, business_date__gte=day).values_list(
            "business_date", flat=True
        )
    )
    months = set(
        PeriodClose.objects.filter(estate_id=estate_id, month__gte=day.replace(day=1)).values_list(
            "month", flat=True
        )
    )
    while day in closed or day.replace(day=1) in months:
        day += timedelta(days=1)
    return day


def _day_closed(estate_id: int, day: date) -> bool:
    """Whether `day` is signed off or in a closed accounting month: one statement."""
    days = connection.ops.quote_name(DayClose._meta.db_table)
    months = connection.ops.quote_name(PeriodClose._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {days} WHERE estate_id = %s AND business_date = %s "  # noqa: S608  # table/column names from the models, values bound  # nosec B608
            f"UNION ALL SELECT 1 FROM {months} WHERE estate_id = %s AND month = %s LIMIT 1",
            [estate_id, day, estate_id, day.replace(day=1)],
        )
        return cursor.fetchone() is not None


def require_day_open(estate_id: int, day: date) -> None:
    """Nothing is posted with a signed-off business date; corrections go into the next day."""
    table = connection.ops.quote_name(DayClose._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE estate_id = %s AND business_date = %s LIMIT 1",  # noqa: S608  # table/column names from the models, values bound  # nosec B608
            [estate_id, day],
        )
        closed = cursor.fetchone() is not None
    if closed:
        raise DomainError(
            _(
                "the business day %(day)s is signed off; post the correction on the next day "
                "and reference the original"
            )
            % {"day": day},
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


# --- hand-written SQL for the posting path ----------------------------------------------------
#
# The ORM spends milliseconds of CPU building each statement (more with select_related) where
# the database needs a tenth of that; a payment notification runs some fifteen of them. The
# posting path therefore writes its statements by hand, with table and column names taken
# from the models, each statement text built once per process, and builds model instances
# from the rows as the ORM would (`from_db`, the fields' converters applied). On PostgreSQL
# many rows go in as one array per column (`unnest`), so the statement text stays the same
# whatever the number of rows (the driver parses a long text with thousands of placeholders
# slowly, and caches short ones). Everything else keeps using the ORM.


def _db():
    """The connection wrapper itself (the `connection` proxy costs a lookup per attribute)."""
    return connections[DEFAULT_DB_ALIAS]


def _cast(field, db) -> str:
    kind = field.db_type(db)
    return "text" if kind.startswith("varchar") else kind


def _values(instance, fields, db) -> list:
    return [f.get_db_prep_save(f.pre_save(instance, add=True), db) for f in fields]


SMALL = 4  # up to this many rows as VALUES (scalar parameters), more as arrays (unnest)


def _source(fields, db, k: int) -> str:
    """Rows `v (col, ..., ord)` of `fields` for a statement: `k` rows of VALUES when few,
    else `unnest(%s::type[], ...) WITH ORDINALITY` (one array per column, the text the same
    whatever the number of rows)."""
    quote = db.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    if k <= SMALL:
        row = ", ".join(f"%s::{_cast(f, db)}" for f in fields)
        rows = ", ".join(f"({row}, {n}::int)" for n in range(1, k + 1))
        return f"(VALUES {rows}) AS v ({names}, ord)"
    arrays = ", ".join(f"%s::{_cast(f, db)}[]" for f in fields)
    return f"unnest({arrays}) WITH ORDINALITY AS v ({names}, ord)"


def _source_params(rows: list[list]) -> list:
    """The parameters of `_source` for `rows` (row by row, or column by column)."""
    if len(rows) <= SMALL:
        return [value for row in rows for value in row]
    return [list(column) for column in zip(*rows, strict=True)]


def _shape(k: int) -> int:
    """The `k` a statement text is cached under (every k above SMALL shares one)."""
    return k if k <= SMALL else SMALL + 1


def _saved(instance, pk, db) -> None:
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = db.alias


def _insertable(model, skip: str = "") -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.attname != skip]


def any_of(column: str, values: list) -> tuple[str, list]:
    """`column = ANY(%s)` with one array parameter (PostgreSQL), else `column IN (...)`."""
    if _db().vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


@lru_cache(maxsize=64)
def _numbered_sql(vendor: str, model, counter, number: str, k: int) -> str:
    db = _db()
    quote = db.ops.quote_name
    meta = model._meta
    fields = _insertable(model, number)
    names = [quote(f.column) for f in fields]
    column = quote(meta.get_field(number).column)
    return (
        f"WITH n AS (UPDATE {quote(counter._meta.db_table)} SET last = last + %s "  # noqa: S608
        f"WHERE estate_id = %s AND year = %s RETURNING last) "
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(names)}, {column}) "
        f"SELECT {', '.join('v.' + c for c in names)}, n.last - %s + v.ord "
        f"FROM {_source(fields, db, k)} CROSS JOIN n ORDER BY v.ord "
        f"RETURNING {quote(meta.pk.column)}, {column}"
    )


def insert_numbered_many(
    instances: list, counter, *, number: str = "number", year: str = "year"
) -> None:
    """INSERT `instances`, each with the next number of its (estate, year) from the `counter`
    model, in the order given (gapless, see `next_number`). On PostgreSQL one statement per
    (estate, year) increments the counter by the count and inserts the rows, in (estate,
    year) order: the counter row is locked from there to the commit only, and two
    transactions never wait on each other crosswise. Call it as late in the transaction as
    possible."""
    db = _db()
    groups: dict[tuple[int, int], list] = {}
    for instance in instances:
        groups.setdefault((instance.estate_id, getattr(instance, year)), []).append(instance)
    for (estate_id, period), group in sorted(groups.items()):
        if db.vendor == "sqlite" and len(group) > 1:
            _insert_numbered_sqlite(group, counter, estate_id, period, number)
            continue
        if db.vendor != "postgresql":
            for instance in group:
                setattr(instance, number, next_number(counter, estate_id, period))
                instance.save(force_insert=True)
            continue
        model = type(group[0])
        k = len(group)
        sql = _numbered_sql(db.vendor, model, counter, number, _shape(k))
        fields = _insertable(model, number)
        rows = _source_params([_values(instance, fields, db) for instance in group])
        params = [k, estate_id, period, k, *rows]
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if not rows:  # the estate's first number of the year: no counter row yet
                _counter_ensure(counter, estate_id, period)
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        for instance, (pk, value) in zip(group, sorted(rows, key=lambda r: r[1]), strict=True):
            _saved(instance, pk, db)
            setattr(instance, number, value)


def _insert_numbered_sqlite(group: list, counter, estate_id: int, year: int, number: str) -> None:
    """`insert_numbered_many` of one (estate, year) on SQLite: the counter moved by the count
    in one UPDATE, the numbers given in order, the rows inserted a few hundred a statement.
    SQLite has one writer at a time, so nobody can take a number in between."""
    k = len(group)
    table = connection.ops.quote_name(counter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + %s WHERE estate_id = %s AND year = %s RETURNING last"  # noqa: S608  # nosec B608  # table name from the model, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, [k, estate_id, year])
        row = cursor.fetchone()
        if row is None:
            _counter_ensure(counter, estate_id, year)
            cursor.execute(sql, [k, estate_id, year])
            row = cursor.fetchone()
    value = row[0] - k
    for instance in group:
        value += 1
        setattr(instance, number, value)
    rows = max(1, 30000 // len(_insertable(type(group[0]))))
    for start in range(0, k, rows):
        insert_many(group[start : start + rows])


@lru_cache(maxsize=64)
def _insert_sql(vendor: str, model, k: int, skip_conflicts: bool) -> str:
    db = _db()
    quote = db.ops.quote_name
    fields = _insertable(model)
    names = ", ".join(quote(f.column) for f in fields)
    if vendor == "postgresql":
        rows = f"SELECT {names} FROM {_source(fields, db, k)} ORDER BY ord"  # noqa: S608
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        rows = "VALUES " + ", ".join([row] * k)
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) {rows} "  # noqa: S608
        f"{'ON CONFLICT DO NOTHING ' if skip_conflicts else ''}"
        f"RETURNING {quote(model._meta.pk.column)}"
    )


def _insert(instances: list, skip_conflicts: bool) -> bool:
    db = _db()
    model = type(instances[0])
    fields = _insertable(model)
    if db.vendor == "postgresql":
        sql = _insert_sql(db.vendor, model, _shape(len(instances)), skip_conflicts)
        params = _source_params([_values(instance, fields, db) for instance in instances])
    else:
        sql = _insert_sql(db.vendor, model, len(instances), skip_conflicts)
        params = [value for instance in instances for value in _values(instance, fields, db)]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        pks = sorted(r[0] for r in cursor.fetchall())
    if len(pks) < len(instances):
        return False
    for instance, pk in zip(instances, pks, strict=True):
        _saved(instance, pk, db)
    return True


def insert_many(instances: list) -> None:
    """INSERT `instances` (of one model) in one statement, each getting its pk: what
    `bulk_create` does, without building the statement through the ORM."""
    if instances:
        _insert(instances, skip_conflicts=False)


def insert_unless_conflict_many(instances: list) -> bool:
    """INSERT `instances` (of one model) in one statement, skipping any that would break a
    UNIQUE constraint; True when every one was inserted (then each has its pk). Needs no
    savepoint, unlike catching the IntegrityError: on False the caller rolls back."""
    return _insert(instances, skip_conflicts=True) if instances else True


@lru_cache(maxsize=64)
def _update_sql(vendor: str, model, fields: tuple[str, ...], k: int) -> str:
    db = _db()
    quote = db.ops.quote_name
    meta = model._meta
    targets = [meta.pk, *(meta.get_field(name) for name in fields)]
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in targets[1:])
    pk = quote(meta.pk.column)
    return (
        f"UPDATE {quote(meta.db_table)} AS t SET {sets} "  # noqa: S608
        f"FROM {_source(targets, db, k)} WHERE t.{pk} = v.{pk}"
    )


def update_rows(model, fields: list[str], instances: list) -> None:
    """Write `fields` of `instances` (saved rows of `model`), one UPDATE for all: on
    PostgreSQL `UPDATE ... FROM unnest(...)`, elsewhere Django's `bulk_update`."""
    if not instances:
        return
    db = _db()
    if db.vendor == "sqlite":
        _update_rows_sqlite(db, model, fields, instances)
        return
    if db.vendor != "postgresql":
        model.objects.bulk_update(instances, fields)
        return
    targets = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    params = _source_params(
        [
            [f.get_db_prep_save(getattr(instance, f.attname), db) for f in targets]
            for instance in instances
        ]
    )
    sql = _update_sql(db.vendor, model, tuple(fields), _shape(len(instances)))
    with db.cursor() as cursor:
        cursor.execute(sql, params)


SQLITE_ROWS = 2000  # rows per UPDATE on SQLite (its limit is 32,766 parameters a statement)


def _update_rows_sqlite(db, model, fields: list[str], instances: list) -> None:
    """`update_rows` on SQLite (3.33 or later): `WITH v(...) AS (VALUES ...) UPDATE ... FROM
    v`, some thousand rows a statement. Django's `bulk_update` builds a CASE expression per
    row and field through the ORM, milliseconds of CPU per row; this is a fraction of it."""
    quote = db.ops.quote_name
    meta = model._meta
    targets = [meta.pk, *(meta.get_field(name) for name in fields)]
    names = ", ".join(quote(f.column) for f in targets)
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in targets[1:])
    pk = quote(meta.pk.column)
    row = "(" + ", ".join(["%s"] * len(targets)) + ")"
    for start in range(0, len(instances), SQLITE_ROWS):
        chunk = instances[start : start + SQLITE_ROWS]
        sql = (
            f"WITH v ({names}) AS (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608  # nosec B608  # names from the model, values bound
            f"UPDATE {quote(meta.db_table)} SET {sets} FROM v "
            f"WHERE {quote(meta.db_table)}.{pk} = v.{pk}"
        )
        params = [
            f.get_db_prep_save(getattr(instance, f.attname), db)
            for instance in chunk
            for f in targets
        ]
        with db.cursor() as cursor:
            cursor.execute(sql, params)


@lru_cache(maxsize=64)
def columns(model, alias: str) -> str:
    """The SELECT list of every concrete column of `model` from table alias `alias`."""
    quote = _db().ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


@lru_cache(maxsize=64)
def _loader(vendor: str, model):
    db = _db()
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    converters = []
    for n, f in enumerate(fields):
        col = f.get_col(model._meta.db_table)
        found = db.ops.get_db_converters(col) + f.get_db_converters(db)
        if found:
            converters.append((n, col, found))
    return names, converters


def select_models(sql: str, params, models: list, extra: int = 0) -> list[tuple]:
    """The rows of `sql` as instances: its SELECT list is `columns(model, alias)` of each of
    `models` in turn (then `extra` more values, passed on as they come), and each row gives
    a tuple of instances (None for a model whose primary key is NULL, as in a LEFT JOIN
    that found nothing) and the extra values."""
    db = _db()
    loaders = [(model, *_loader(db.vendor, model)) for model in models]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        at = 0
        made = []
        for model, names, converters in loaders:
            values = list(row[at : at + len(names)])
            at += len(names)
            if values[0] is None:
                made.append(None)
                continue
            for n, col, funcs in converters:
                for func in funcs:
                    values[n] = func(values[n], col, db)
            made.append(model.from_db(db.alias, names, values))
        made.extend(row[at : at + extra])
        found.append(tuple(made))
    return found
