"""Every write to the general ledger.

Other apps post through `entry_post` (and correct through `entry_reverse`) inside their own
transaction; the calling service has already checked that its actor may do the business action
(a cashier taking a payment needs no ledger permission), so these functions check the books,
not the actor. Voucher exports are reads with an audit row, so they live here too.
"""

import contextlib
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_event, audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.core.exports import csv_cell, xlsx_cell
from wuye.core.money import FEN, ZERO

from . import chart
from .models import Account, JournalEntry, PeriodClose, Posting, VoucherCounter

MAX_AMOUNT = Decimal("999999999999.99")  # numeric(14,2)


@dataclass(frozen=True)
class Line:
    """One line of an entry to post: `account` is a code of the chart (`chart.RECEIVABLE`),
    exactly one of `debit` / `credit` is a positive amount with at most 2 places."""

    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    party_id: int | None = None


# --- accounts -------------------------------------------------------------------------------


def _parent_of(code: str) -> str:
    return code.rsplit(".", 1)[0] if "." in code else ""


@transaction.atomic
def account_ensure(*, code: str, name: str, kind: str) -> Account:
    """The account `code`, created if missing (e.g. `6001.PROPERTY` when a fee item is made).
    An existing account keeps its name; a different kind is refused."""
    code = (code or "").strip()
    if not code:
        raise DomainError(_("an account needs a code"), field="code")
    if kind not in Account.Kind.values:
        raise DomainError(_("unknown account kind %(kind)s") % {"kind": repr(kind)}, field="kind")
    Account.objects.bulk_create(
        [Account(code=code, name=name, kind=kind, parent=_parent_of(code))],
        ignore_conflicts=True,
    )
    account = Account.objects.get(code=code)
    if account.kind != kind:
        raise DomainError(
            _("account %(code)s exists as %(kind)s, not %(wanted)s")
            % {"code": code, "kind": account.kind, "wanted": kind},
            field="kind",
            code="conflict",
        )
    return account


def accounts_sync_chart(*, using: str = "default") -> int:
    """Create the accounts of `chart.ACCOUNTS` that do not exist yet; returns how many."""
    existing = set(Account.objects.using(using).values_list("code", flat=True))
    missing = [
        Account(code=code, name=name, kind=kind, parent=_parent_of(code))
        for code, (name, kind) in chart.ACCOUNTS.items()
        if code not in existing
    ]
    Account.objects.using(using).bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def _accounts_by_code(codes: set[str]) -> dict[str, Account]:
    found = _accounts_select(codes)
    if len(found) < len(codes) and any(c in chart.ACCOUNTS for c in codes - found.keys()):
        accounts_sync_chart()  # a chart account added after the last migrate
        found = _accounts_select(codes)
    return found


def _accounts_select(codes: set[str]) -> dict[str, Account]:
    """The accounts of `codes`: one hand-written statement (the ORM would spend more CPU
    building it than the database answering it; every posting needs it)."""
    if not codes:
        return {}
    fields = Account._meta.concrete_fields
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {', '.join(quote(f.column) for f in fields)} "  # noqa: S608
        f"FROM {quote(Account._meta.db_table)} WHERE code IN ({', '.join(['%s'] * len(codes))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, sorted(codes))
        rows = cursor.fetchall()
    names = [f.attname for f in fields]
    accounts = [Account.from_db(connection.alias, names, list(row)) for row in rows]
    return {a.code: a for a in accounts}


# --- validating lines -----------------------------------------------------------------------


def _amount(value, row: int, side: str) -> Decimal:
    where = _("line %(row)s %(side)s") % {"row": row, "side": side}
    if isinstance(value, float):
        raise DomainError(
            _("%(where)s: money is never a float; pass a Decimal") % {"where": where},
            field="lines",
        )
    try:
        amount = Decimal(value if value is not None else 0)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise DomainError(
            _("%(where)s: %(value)s is not an amount") % {"where": where, "value": repr(value)},
            field="lines",
        ) from exc
    if not amount.is_finite():
        raise DomainError(
            _("%(where)s: %(value)s is not an amount") % {"where": where, "value": repr(value)},
            field="lines",
        )
    if amount != amount.quantize(FEN):
        raise DomainError(
            _("%(where)s: %(amount)s has more than 2 decimal places")
            % {"where": where, "amount": amount},
            field="lines",
        )
    if amount < 0:
        raise DomainError(
            _("%(where)s: %(amount)s is negative") % {"where": where, "amount": amount},
            field="lines",
        )
    if amount > MAX_AMOUNT:
        raise DomainError(
            _("%(where)s: %(amount)s is too large") % {"where": where, "amount": amount},
            field="lines",
        )
    return amount.quantize(FEN)


def _clean_lines(lines: Sequence[Line]) -> list[Line]:
    """Lines with 2-place Decimal amounts, or a DomainError naming the line at fault."""
    if not lines:
        raise DomainError(_("an entry needs lines"), field="lines")
    clean = []
    for row, line in enumerate(lines, start=1):
        debit = _amount(line.debit, row, _("debit"))
        credit = _amount(line.credit, row, _("credit"))
        if debit and credit:
            raise DomainError(
                _("line %(row)s: both debit and credit are set") % {"row": row}, field="lines"
            )
        if not debit and not credit:
            raise DomainError(_("line %(row)s: the amount is zero") % {"row": row}, field="lines")
        if line.party_id is not None and not isinstance(line.party_id, int):
            raise DomainError(
                _("line %(row)s: party_id must be a number") % {"row": row}, field="lines"
            )
        clean.append(Line(str(line.account).strip(), debit, credit, line.party_id))
    if len(clean) < 2:
        raise DomainError(_("an entry needs at least two lines"), field="lines")
    debits = sum((line.debit for line in clean), ZERO)
    credits = sum((line.credit for line in clean), ZERO)
    if debits != credits:
        raise DomainError(
            _("the entry does not balance: debits %(debits)s <> credits %(credits)s")
            % {"debits": debits, "credits": credits},
            field="lines",
        )
    return clean


def _signature(
    *, estate_id, date, memo, source_type, source_id, reverses_id, lines: Iterable[Line]
) -> tuple:
    """What makes two postings of the same key the same entry (the actor does not count)."""
    return (
        estate_id,
        date,
        memo,
        source_type,
        str(source_id),
        reverses_id,
        sorted(
            (line.account, line.debit, line.credit, -1 if line.party_id is None else line.party_id)
            for line in lines
        ),
    )


def _existing(key: str, signature: tuple) -> JournalEntry | None:
    """The entry already posted under `key` (same content), or None; DomainError if it differs."""
    entry = JournalEntry.objects.filter(idempotency_key=key).first()
    if entry is None:
        return None
    lines = [
        Line(p.account.code, p.debit, p.credit, p.party_id)
        for p in entry.postings.select_related("account")
    ]
    if signature != _signature(
        estate_id=entry.estate_id,
        date=entry.date,
        memo=entry.memo,
        source_type=entry.source_type,
        source_id=entry.source_id,
        reverses_id=entry.reverses_id,
        lines=lines,
    ):
        raise DomainError(
            _(
                "idempotency key %(key)s was already used for voucher %(voucher)s "
                "with different content"
            )
            % {"key": repr(key), "voucher": entry.voucher},
            field="idempotency_key",
            code="conflict",
        )
    return entry


def _next_voucher_no(estate_id: int, year: int) -> int:
    """The next voucher number of (estate, year), taken with the counter row locked until the
    caller's transaction ends (see `entry_post` on numbering)."""
    table = connection.ops.quote_name(VoucherCounter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + 1 WHERE estate_id = %s AND year = %s RETURNING last"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [estate_id, year])
        row = cursor.fetchone()
        if row is None:
            _counter_ensure(estate_id, year)
            cursor.execute(sql, [estate_id, year])
            row = cursor.fetchone()
    return row[0]


def _counter_ensure(estate_id: int, year: int) -> None:
    VoucherCounter.objects.bulk_create(
        [VoucherCounter(estate_id=estate_id, year=year, last=0)], ignore_conflicts=True
    )


def _voucher_no_release(estate_id: int, year: int) -> None:
    """Give back the number just taken (only while the caller still holds the counter row)."""
    table = connection.ops.quote_name(VoucherCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last - 1 WHERE estate_id = %s AND year = %s",  # noqa: S608  # table/column names from the models, values bound  # nosec B608
            [estate_id, year],
        )


@lru_cache(maxsize=1)
def _entry_columns() -> tuple[list, list]:
    """(entry fields without pk and voucher_no, posting fields without pk)."""
    entry = [
        f
        for f in JournalEntry._meta.concrete_fields
        if not f.primary_key and f.name != "voucher_no"
    ]
    posting = [f for f in Posting._meta.concrete_fields if not f.primary_key]
    return entry, posting


def _insert_unless_conflict(entry: JournalEntry) -> bool:
    """INSERT the entry, or nothing if it would break a UNIQUE constraint (idempotency key,
    one reversal per entry); True when inserted. Unlike catching IntegrityError this needs no
    savepoint."""
    meta = JournalEntry._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(entry, add=True), connection) for f in fields]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    _saved(entry, row[0])
    return True


def _saved(entry: JournalEntry, pk: int) -> None:
    entry.pk = pk
    entry._state.adding = False
    entry._state.db = connection.alias


def _cast(field) -> str:
    """The PostgreSQL type a parameter is cast to (text for strings: the column's own length
    check then applies, as in a plain INSERT)."""
    kind = field.db_type(connection)
    return "text" if kind.startswith("varchar") else kind


SMALL = 4  # up to this many rows as VALUES (scalar parameters), more as arrays (unnest)


def _source(columns: list[tuple[str, str]], k: int, alias: str) -> str:
    """Rows `alias (name, ..., ord)` of (name, type) columns: `k` rows of VALUES when few,
    else `unnest(%s::type[], ...) WITH ORDINALITY` (the text the same for any number)."""
    names = ", ".join(name for name, __ in columns)
    if k <= SMALL:
        row = ", ".join(f"%s::{kind}" for __, kind in columns)
        rows = ", ".join(f"({row}, {n}::int)" for n in range(1, k + 1))
        return f"(VALUES {rows}) AS {alias} ({names}, ord)"
    arrays = ", ".join(f"%s::{kind}[]" for __, kind in columns)
    return f"unnest({arrays}) WITH ORDINALITY AS {alias} ({names}, ord)"


def _params(rows: list[list]) -> list:
    """The parameters of `_source` for `rows` (row by row, or column by column)."""
    if len(rows) <= SMALL:
        return [value for row in rows for value in row]
    return [list(column) for column in zip(*rows, strict=True)]


@lru_cache(maxsize=64)
def _group_sql(vendor: str, k: int, rows: int) -> str:
    """The statement of `_insert_group_pg` for `k` entries and `rows` postings (each above
    SMALL as arrays: one text for any larger number)."""
    quote = connection.ops.quote_name
    entry_fields, posting_fields = _entry_columns()
    rest = [f for f in posting_fields if f.column != "entry_id"]
    names = [quote(f.column) for f in entry_fields]
    posting_names = [quote(f.column) for f in rest]
    entry_source = _source([(quote(f.column), _cast(f)) for f in entry_fields], k, "v")
    posting_source = _source(
        [("key", "text"), *((quote(f.column), _cast(f)) for f in rest)], rows, "pv"
    )
    entries, postings = (quote(m._meta.db_table) for m in (JournalEntry, Posting))
    return (
        f"WITH n AS (UPDATE {quote(VoucherCounter._meta.db_table)} SET last = last + %s "  # noqa: S608
        f"WHERE estate_id = %s AND year = %s RETURNING last), "
        f"e AS (INSERT INTO {entries} ({', '.join(names)}, voucher_no) "
        f"SELECT {', '.join('v.' + c for c in names)}, n.last - %s + v.ord "
        f"FROM {entry_source} CROSS JOIN n ORDER BY v.ord "
        f"ON CONFLICT DO NOTHING RETURNING id, idempotency_key, voucher_no), "
        f"p AS (INSERT INTO {postings} (entry_id, {', '.join(posting_names)}) "
        f"SELECT e.id, {', '.join('pv.' + c for c in posting_names)} "
        f"FROM {posting_source} JOIN e ON e.idempotency_key = pv.key ORDER BY pv.ord) "
        f"SELECT n.last, e.id, e.idempotency_key, e.voucher_no FROM n LEFT JOIN e ON true"
    )


def _insert_group_pg(group: list[tuple[JournalEntry, list[Posting]]]) -> list[bool] | None:
    """PostgreSQL: take the next len(group) voucher numbers of one (estate, year) and insert
    the entries, in the order given, with their postings: ONE statement, so the counter row
    is locked only from here to the commit. Returns whether each entry was inserted (False:
    its idempotency key, or the entry it reverses, is taken already), or None when the
    estate has no counter row for the year yet (then nothing was done)."""
    entry_fields, posting_fields = _entry_columns()
    rest = [f for f in posting_fields if f.column != "entry_id"]
    k = len(group)
    entry_rows = []
    posting_rows = []
    for entry, postings in group:
        entry_rows.append(
            [f.get_db_prep_save(f.pre_save(entry, add=True), connection) for f in entry_fields]
        )
        for posting in postings:
            posting_rows.append(
                [
                    entry.idempotency_key,
                    *(f.get_db_prep_save(f.pre_save(posting, add=True), connection) for f in rest),
                ]
            )
    shape = (min(k, SMALL + 1), min(len(posting_rows), SMALL + 1))
    first = group[0][0]
    with connection.cursor() as cursor:
        cursor.execute(
            _group_sql(connection.vendor, *shape),
            [
                k,
                first.estate_id,
                first.voucher_year,
                k,
                *_params(entry_rows),
                *_params(posting_rows),
            ],
        )
        found = cursor.fetchall()
    if not found:
        return None
    inserted = {key: (pk, number) for __, pk, key, number in found if pk is not None}
    for entry, postings in group:
        if entry.idempotency_key in inserted:
            pk, entry.voucher_no = inserted[entry.idempotency_key]
            _saved(entry, pk)
            for posting in postings:
                posting.entry_id = pk
    if len(inserted) == k:
        return [True] * k
    if k == 1:  # a retry of entry_post: give the number back (the counter row is still ours)
        _voucher_no_release(first.estate_id, first.voucher_year)
        return [False]
    # Numbers were taken for entries that were not inserted: gaps. Never committed.
    raise IntegrityError(
        "entries_post: an idempotency key is already posted "
        f"({', '.join(e.idempotency_key for e, __ in group if e.idempotency_key not in inserted)})"
    )


def _insert_group(group: list[tuple[JournalEntry, list[Posting]]]) -> list[bool]:
    """Number and insert entries of one (estate, year) with their postings (see
    `_insert_group_pg`); on SQLite, one writer at a time anyway, plain statements."""
    if connection.vendor == "postgresql":
        done = _insert_group_pg(group)
        if done is None:
            first = group[0][0]
            _counter_ensure(first.estate_id, first.voucher_year)
            done = _insert_group_pg(group)
        return done
    if len(group) > 1:
        return _insert_group_sqlite(group)
    done = []
    postings_all: list[Posting] = []
    for entry, postings in group:
        entry.voucher_no = _next_voucher_no(entry.estate_id, entry.voucher_year)
        if not _insert_unless_conflict(entry):
            _voucher_no_release(entry.estate_id, entry.voucher_year)
            if len(group) > 1:
                raise IntegrityError(
                    f"entries_post: idempotency key {entry.idempotency_key!r} is already posted"
                )
            done.append(False)
            continue
        for posting in postings:
            posting.entry = entry
        postings_all += postings
        done.append(True)
    Posting.objects.bulk_create(postings_all)
    return done


SQLITE_ROWS = 500  # rows per INSERT on SQLite (its limit is 32,766 parameters a statement)


def _insert_group_sqlite(group: list[tuple[JournalEntry, list[Posting]]]) -> list[bool]:
    """SQLite, several entries of one (estate, year) (`entries_post`): take their voucher
    numbers with one counter UPDATE and insert them with a few multi-row INSERTs, in the
    order given, then their postings. As on PostgreSQL, every key must be new: a key
    already posted raises IntegrityError and the caller's transaction rolls back (the
    numbers with it). SQLite has one writer at a time, so the counter needs no more care."""
    first = group[0][0]
    k = len(group)
    table = connection.ops.quote_name(VoucherCounter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + %s WHERE estate_id = %s AND year = %s RETURNING last"  # noqa: S608  # nosec B608  # table name from the model, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, [k, first.estate_id, first.voucher_year])
        row = cursor.fetchone()
        if row is None:
            _counter_ensure(first.estate_id, first.voucher_year)
            cursor.execute(sql, [k, first.estate_id, first.voucher_year])
            row = cursor.fetchone()
    number = row[0] - k
    for entry, __ in group:
        number += 1
        entry.voucher_no = number
    meta = JournalEntry._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    ids: dict[str, int] = {}
    for start in range(0, k, SQLITE_ROWS):
        chunk = group[start : start + SQLITE_ROWS]
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608  # nosec B608  # names from the model, values bound
            f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}, idempotency_key"
        )
        params = [
            f.get_db_prep_save(f.pre_save(entry, add=True), connection)
            for entry, __ in chunk
            for f in fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids.update((key, pk) for pk, key in cursor.fetchall())
    missing = [e.idempotency_key for e, __ in group if e.idempotency_key not in ids]
    if missing:
        raise IntegrityError(f"entries_post: an idempotency key is already posted ({missing[0]})")
    postings_all: list[Posting] = []
    for entry, postings in group:
        _saved(entry, ids[entry.idempotency_key])
        for posting in postings:
            posting.entry = entry
        postings_all += postings
    Posting.objects.bulk_create(postings_all, batch_size=SQLITE_ROWS)
    return [True] * k


# --- posting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEntry:
    """One entry for `entries_post`: what `entry_post` takes, as data. `actor` is recorded
    as the entry's creator when it is a user."""

    estate_id: int
    date: Date
    memo: str
    lines: Sequence[Line]
    idempotency_key: str
    source_type: str = ""
    source_id: str | int = ""
    actor: object = None


def entry_post(
    *,
    estate,
    date: Date,
    memo: str,
    lines: Sequence[Line],
    idempotency_key: str,
    source_type: str = "",
    source_id: str | int = "",
    actor=None,
    reverses: JournalEntry | None = None,
    audit: bool = True,
) -> JournalEntry:
    """Post one balanced journal entry; the same `idempotency_key` again returns the entry
    already posted (DomainError if its content differs).

    Refused with a DomainError, before anything is written: no or one line, a line with both
    or neither side, negative amounts, more than 2 decimal places, floats, unknown or
    inactive accounts, debits <> credits. So it needs no savepoint of its own: inside the
    caller's transaction it writes nothing on refusal, and on its own it is one transaction.

    Numbering: voucher numbers are gapless per estate and year. The number comes from the
    (estate, year) counter row, incremented inside the posting transaction; the row stays
    locked until that transaction ends and a rollback gives the number back, so no number is
    lost or used twice. To keep that lock short, the number is taken in the same statement
    that inserts the entry and its postings (PostgreSQL), and callers post to the ledger as
    the last step of their transaction. Three statements: accounts, the numbered insert,
    and the audit row (`audit=False` when the caller's own audit row names the voucher)."""
    estate_id = estate.pk if hasattr(estate, "pk") else int(estate)
    spec = NewEntry(
        estate_id=estate_id,
        date=date,
        memo=memo,
        lines=lines,
        idempotency_key=idempotency_key,
        source_type=source_type,
        source_id=source_id,
        actor=actor,
    )
    with _atomic_unless_inside():
        [(entry, postings, signature)], __ = _prepare([spec], reverses=reverses)
        if not _insert_group([(entry, postings)])[0]:
            # A retry: the UNIQUE constraint answered (no lookup first); same content or not?
            key = entry.idempotency_key
            if (existing := _existing(key, signature)) is not None:
                return existing
            if reverses is not None and JournalEntry.objects.filter(reverses=reverses).exists():
                raise DomainError(
                    _("voucher %(voucher)s is already reversed") % {"voucher": reverses.voucher},
                    field="entry",
                    code="conflict",
                )
            raise IntegrityError(f"journal entry {key!r} conflicts with an existing entry")
        if audit:
            _audit([entry], actor)
        return entry


def entries_post(
    *, entries: Sequence[NewEntry], audit: bool = True, actor=None
) -> list[JournalEntry]:
    """Post several balanced entries at once, set-wise (a batch of online payments): each
    checked as `entry_post` checks it (a DomainError names the entry and line at fault, and
    nothing is written), numbered per estate and year in the order given.

    Every idempotency key must be new: this is for callers that make the key with the new
    record (`payment:<id>`); a key already posted raises IntegrityError and the caller's
    transaction must roll back (no gap in the numbers is ever committed). Statements: the
    accounts, one numbered insert per (estate, year) in that order (so two batches never wait
    on each other crosswise), one INSERT of the audit rows (unless `audit=False`)."""
    if not entries:
        return []
    with _atomic_unless_inside():
        prepared, __ = _prepare(list(entries))
        groups: dict[tuple[int, int], list] = {}
        for entry, postings, __ in prepared:
            groups.setdefault((entry.estate_id, entry.voucher_year), []).append((entry, postings))
        for key in sorted(groups):
            _insert_group(groups[key])
        made = [entry for entry, __, __ in prepared]
        if audit:
            _audit(made, actor)
        return made


def _atomic_unless_inside():
    """No savepoint inside the caller's transaction (nothing is written before the checks
    pass); a transaction of its own otherwise."""
    if connection.in_atomic_block:
        return contextlib.nullcontext()
    return transaction.atomic()


def _prepare(specs: list[NewEntry], *, reverses: JournalEntry | None = None) -> tuple[list, dict]:
    """Check every entry (DomainError naming the first at fault) and build it unsaved:
    [(entry, postings, signature)], plus the accounts by code (one query for all)."""
    cleaned = []
    for n, spec in enumerate(specs, start=1):
        try:
            key = (spec.idempotency_key or "").strip()
            if not key:
                raise DomainError(_("an entry needs an idempotency key"), field="idempotency_key")
            if not isinstance(spec.date, Date):
                raise DomainError(_("the entry needs a business date"), field="date")
            cleaned.append((spec, key, _clean_lines(spec.lines)))
        except DomainError as exc:
            if len(specs) == 1:
                raise
            raise DomainError(
                _("entry %(n)s: %(message)s") % {"n": n, "message": exc.message},
                field=exc.field,
            ) from exc
    _refuse_closed_periods({(spec.estate_id, spec.date) for spec, __, __ in cleaned})
    accounts = _accounts_by_code({line.account for __, __, clean in cleaned for line in clean})
    prepared = []
    reverses_id = reverses.pk if reverses is not None else None
    for spec, key, clean in cleaned:
        for row, line in enumerate(clean, start=1):
            account = accounts.get(line.account)
            if account is None:
                raise DomainError(
                    _("line %(row)s: unknown account %(account)s")
                    % {"row": row, "account": line.account},
                    field="lines",
                )
            if not account.is_active:
                raise DomainError(
                    _("line %(row)s: account %(account)s is closed")
                    % {"row": row, "account": account},
                    field="lines",
                )
        memo = (spec.memo or "").strip()[:200]
        entry = JournalEntry(
            estate_id=spec.estate_id,
            date=spec.date,
            voucher_year=spec.date.year,
            memo=memo,
            source_type=spec.source_type,
            source_id=str(spec.source_id),
            idempotency_key=key,
            reverses_id=reverses_id,
            created_by=spec.actor if getattr(spec.actor, "pk", None) else None,
        )
        postings = [
            Posting(
                account=accounts[line.account],
                estate_id=spec.estate_id,
                date=spec.date,
                party_id=line.party_id,
                debit=line.debit,
                credit=line.credit,
            )
            for line in clean
        ]
        signature = _signature(
            estate_id=spec.estate_id,
            date=spec.date,
            memo=memo,
            source_type=spec.source_type,
            source_id=spec.source_id,
            reverses_id=reverses_id,
            lines=clean,
        )
        prepared.append((entry, postings, signature))
    return prepared, accounts


def month_of(day: Date) -> Date:
    return day.replace(day=1)


def _refuse_closed_periods(dated: set[tuple[int, Date]]) -> None:
    """No entry is dated in a closed accounting period (结账): one hand-written statement for
    all entries (it runs on every posting)."""
    # A month closes only after it has ended (`period_close`): entries of this month, the
    # posting path's usual case, need no query.
    this_month = month_of(timezone.localdate())
    months = sorted({(e, month_of(day)) for e, day in dated if month_of(day) < this_month})
    if not months:
        return
    table = connection.ops.quote_name(PeriodClose._meta.db_table)
    where = " OR ".join(["(estate_id = %s AND month = %s)"] * len(months))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT month FROM {table} WHERE {where} LIMIT 1",  # noqa: S608  # table/column names from the models, values bound  # nosec B608
            [v for pair in months for v in pair],
        )
        row = cursor.fetchone()
    if row is not None:
        month = row[0] if isinstance(row[0], Date) else Date.fromisoformat(str(row[0]))
        raise DomainError(
            _("the accounting period %(month)s is closed; post it in an open month")
            % {"month": f"{month:%Y-%m}"},
            field="date",
            code="period_closed",
        )


def period_is_closed(estate_id: int, day: Date) -> bool:
    return PeriodClose.objects.filter(estate_id=estate_id, month=month_of(day)).exists()


@transaction.atomic
def period_close(*, actor, estate, month: Date, note: str = "", today: Date | None = None):
    """Close the accounting period (结账) `month` of `estate`: from now on no entry may be
    dated in it. Only a month that has ended, and only after every earlier month in which
    the estate has entries is closed (months close in order). Needs
    `ledger.close_period`; audited."""
    from wuye.registry.services import require_estate, require_perm

    require_perm(actor, "ledger.close_period")
    estate_id = estate.pk if hasattr(estate, "pk") else int(estate)
    require_estate(actor, estate_id)
    month = month_of(month)
    today = today or timezone.localdate()
    if month >= month_of(today):
        raise DomainError(
            _("%(month)s has not ended yet") % {"month": f"{month:%Y-%m}"}, field="month"
        )
    closed = set(PeriodClose.objects.filter(estate_id=estate_id).values_list("month", flat=True))
    if month in closed:
        raise DomainError(
            _("%(month)s is already closed") % {"month": f"{month:%Y-%m}"},
            field="month",
            code="conflict",
        )
    first = (
        JournalEntry.objects.filter(estate_id=estate_id)
        .order_by("date")
        .values_list("date", flat=True)
        .first()
    )
    if first is not None:
        earlier = month_of(first)
        while earlier < month:
            if earlier not in closed:
                raise DomainError(
                    _("close %(month)s first: months close in order")
                    % {"month": f"{earlier:%Y-%m}"},
                    field="month",
                )
            earlier = (earlier.replace(day=28) + timedelta(days=4)).replace(day=1)
    close = PeriodClose.objects.create(
        estate_id=estate_id,
        month=month,
        closed_by=actor if getattr(actor, "pk", None) else None,
        note=(note or "").strip()[:255],
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.APPROVE,
        subject=close,
        estate_id=estate_id,
        summary=Summary(gettext_noop("accounting period %(month)s closed"), month=f"{month:%Y-%m}"),
    )
    return close


def _audit(entries: list[JournalEntry], actor) -> None:
    events = [
        audit_event(
            actor=actor,
            action=AuditEvent.Action.REVERSE if entry.reverses_id else AuditEvent.Action.POST,
            subject=entry,
            estate_id=entry.estate_id,
            summary=Summary(
                gettext_noop("voucher %(voucher)s %(memo)s"), voucher=entry.voucher, memo=entry.memo
            ),
        )
        for entry in entries
    ]
    AuditEvent.objects.bulk_create(events)


@transaction.atomic
def entry_reverse(
    *,
    entry: JournalEntry,
    date: Date,
    memo: str = "",
    actor=None,
    idempotency_key: str,
) -> JournalEntry:
    """Post the mirror of `entry` (debits and credits swapped) that cancels it. An entry is
    reversed at most once; a reversal itself is not reversed (post a new entry instead)."""
    if entry.reverses_id is not None:
        raise DomainError(
            _("voucher %(voucher)s is itself a reversal; post a new entry instead")
            % {"voucher": entry.voucher},
            field="entry",
        )
    if date < entry.date:
        raise DomainError(
            _("a reversal cannot be dated before the entry it reverses (%(date)s)")
            % {"date": entry.date},
            field="date",
        )
    lines = [
        Line(p.account.code, debit=p.credit, credit=p.debit, party_id=p.party_id)
        for p in entry.postings.select_related("account").order_by("id")
    ]
    return entry_post(
        estate=entry.estate_id,
        date=date,
        memo=memo or f"冲销 {entry.voucher} {entry.memo}",
        lines=lines,
        idempotency_key=idempotency_key,
        source_type=entry.source_type,
        source_id=entry.source_id,
        actor=actor,
        reverses=entry,
    )


# --- voucher export -------------------------------------------------------------------------

# Fixed headers, in Chinese whatever the UI language: Kingdee and Yonyou map these on import.
EXPORT_HEADERS = ["日期", "凭证号", "摘要", "科目代码", "科目名称", "借方金额", "贷方金额"]


@transaction.atomic
def vouchers_export(
    *, actor, estate, date_from: Date, date_to: Date, fmt: str = "xlsx"
) -> tuple[bytes, int]:
    """The estate's vouchers dated `date_from`..`date_to`, one row per posting, as .xlsx or
    .csv (UTF-8 with BOM, for Excel); returns (content, rows). Audited as an export."""
    from .selectors import voucher_rows

    if fmt not in ("xlsx", "csv"):
        raise DomainError(_("export as xlsx or csv"), field="format")
    if date_from > date_to:
        raise DomainError(_("the period starts after it ends"), field="date_from")
    rows = voucher_rows(estate_id=estate.pk, date_from=date_from, date_to=date_to)
    content, count = (_as_xlsx if fmt == "xlsx" else _as_csv)(rows)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        subject_type="ledger.journalentry",
        estate_id=estate.pk,
        summary=Summary(
            gettext_noop("vouchers %(estate)s %(start)s..%(end)s (%(format)s, %(n)s rows)"),
            estate=estate.code,
            start=date_from,
            end=date_to,
            format=fmt,
            n=count,
        ),
    )
    return content, count


def _as_xlsx(rows: Iterable[tuple]) -> tuple[bytes, int]:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("凭证")
    sheet.append(EXPORT_HEADERS)
    count = 0
    for day, voucher_no, memo, code, name, debit, credit in rows:
        cells = []
        for value, number_format in (
            (day, "yyyy-mm-dd"),
            (voucher_no, "0"),
            (memo, None),
            (code, "@"),
            (name, None),
            (debit, "#,##0.00"),
            (credit, "#,##0.00"),
        ):
            cells.append(xlsx_cell(sheet, value, number_format))
        sheet.append(cells)
        count += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), count


def _as_csv(rows: Iterable[tuple]) -> tuple[bytes, int]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADERS)
    count = 0
    for day, voucher_no, memo, code, name, debit, credit in rows:
        row = [day.isoformat(), voucher_no, memo, code, name, f"{debit}", f"{credit}"]
        writer.writerow([csv_cell(value) for value in row])
        count += 1
    return out.getvalue().encode("utf-8-sig"), count
