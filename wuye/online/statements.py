"""Reading a bank statement (銀行流水) of an estate's collection account: the lines the bank
booked, to post the owners' transfers by the payment reference in their memo.

Three kinds of file, told apart by content: SWIFT MT940 (through the `mt-940` library), and
the .xlsx or .csv export every Chinese bank's online banking gives (opened as the registry's
imports open files: UTF-8, GBK or UTF-16, commas, tabs or semicolons). The export's columns
are found by their headers, whatever the bank calls them (`HEADERS`: 交易日期 or 记账日期,
贷方金额 or 收入金额, 摘要 or 附言 ...), in the first rows of the sheet, so a bank's file needs
no layout to be set up first. Amounts come as a credit and a debit column, or as one signed
amount (optionally with a 借/贷 direction column).

Every line must have a date, an amount and the bank's own reference of the transaction (the
idempotency key of its posting); a line that has not is an error with its row and column,
and a file with any error is refused whole (nothing is posted from it). Pure: no database.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO
from xml.etree.ElementTree import ParseError

from django.utils.translation import gettext as _

from wuye.core.normalize import clean_text
from wuye.core.spreadsheets import SpreadsheetRefused, within_budget
from wuye.registry.imports.cells import CellError, a_date
from wuye.registry.imports.reading import FileUnreadable, csv_rows, open_table, sniff_encoding

MAX_LINES = 20_000
MAX_MT940_BYTES = 20 * 2**20
MAX_REF = 50  # the payment's external reference is "<estate code>/<bank reference>", 64 at most
MAX_AMOUNT = Decimal("1000000000000")  # numeric(14, 2)
HEADER_ROWS = 15  # a bank's export puts its account details above the table
# what is read of a sheet at most, blank rows included, before the file is refused (a
# zip bomb of empty rows or cells must not keep a web worker busy for minutes)
MAX_ROWS_READ = 2 * MAX_LINES + HEADER_ROWS
MAX_CELLS_READ = 64 * MAX_ROWS_READ


@dataclass(frozen=True)
class StatementRow:
    """One booked line: credits (money in) have a positive amount, debits a negative one."""

    line_no: int  # the row as the spreadsheet shows it (MT940: the transaction's place)
    booked_on: date
    amount: Decimal
    bank_ref: str
    memo: str
    payer_name: str = ""
    payer_account: str = ""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        values = {"row": self.row, "column": self.column, "message": self.message}
        if self.column:
            return _("row %(row)s, column %(column)s: %(message)s") % values
        return _("row %(row)s: %(message)s") % values


class StatementRejected(ValueError):
    """The file cannot be posted from: unreadable, or lines in error (all of them listed)."""

    def __init__(self, message: str, errors: list[RowError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    @classmethod
    def of_lines(cls, errors: list[RowError]) -> "StatementRejected":
        """The file refused for the lines in error, every one of them listed."""
        return cls(
            _("%(count)s lines cannot be read; nothing was posted") % {"count": len(errors)},
            errors,
        )


# What banks call each column (compared without spaces, case or full-width forms).
HEADERS = {
    "booked_on": ("交易日期", "记账日期", "入账日期", "交易时间", "日期", "date", "bookingdate"),
    "credit": ("贷方金额", "贷方发生额", "收入金额", "收入", "存入金额", "贷方", "credit"),
    "debit": ("借方金额", "借方发生额", "支出金额", "支出", "借方", "debit"),
    "amount": ("交易金额", "发生额", "金额", "amount"),
    "direction": (
        "借贷标志",
        "借贷标识",
        "借贷方向",
        "收支方向",
        "交易方向",
        "收付方向",
        "借贷",
        "收支",
        "方向",
        "direction",
    ),
    "memo": ("摘要", "附言", "交易附言", "用途", "备注", "说明", "memo", "remark", "purpose"),
    "bank_ref": (
        "交易流水号",
        "银行流水号",
        "流水号",
        "交易参考号",
        "凭证号",
        "reference",
        "transactionid",
    ),
    "payer_name": ("对方户名", "付款人名称", "对方名称", "付款人", "对方账户名称", "payer"),
    "payer_account": ("对方账号", "付款人账号", "对方账户", "payeraccount"),
}
CREDIT_WORDS = {"贷", "c", "cr", "credit", "收", "收入", "贷方"}
DEBIT_WORDS = {"借", "d", "dr", "debit", "支", "支出", "借方"}


def read_statement(file_name: str, content: bytes | IO[bytes]) -> list[StatementRow]:
    """The booked lines of a statement file (its bytes, or a binary seekable stream, read
    a chunk at a time: a CSV is never whole in memory), or StatementRejected."""
    file = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    file.seek(0)
    head = file.read(4000)
    file.seek(0)
    if not head:
        raise StatementRejected(_("the file is empty"))
    if _looks_like_mt940(head, file):
        text = file.read(MAX_MT940_BYTES + 1)  # the library parses a whole text
        if len(text) > MAX_MT940_BYTES:
            raise StatementRejected(_("the MT940 file is larger than 20 MB: split the statement"))
        return _mt940(text)
    try:
        if head.startswith(b"PK\x03\x04") or file_name.lower().endswith((".xlsx", ".xls")):
            book = open_table(file, file_name, max_rows=MAX_ROWS_READ, max_cells=MAX_CELLS_READ)
            try:
                if not book.sheets:
                    raise StatementRejected(_("the workbook has no sheet"))
                return _table(book.sheets[0].rows)
            finally:
                book.close()
        return _table(_csv_rows(file))
    except FileUnreadable as exc:
        raise StatementRejected(str(exc)) from None
    except SpreadsheetRefused as exc:
        raise StatementRejected(exc.message) from None
    except (csv.Error, ParseError, ValueError, KeyError, IndexError, TypeError) as exc:
        if isinstance(exc, StatementRejected):
            raise
        raise StatementRejected(
            _("the file cannot be read as a statement (%(error)s)") % {"error": str(exc)[:120]}
        ) from None


def _csv_rows(file: IO[bytes]):
    """(row number, values) of a CSV export, streamed; the separator is the one most used in
    its first lines (a bank's account details above the table have none, so line 1 cannot
    tell)."""
    rows = csv_rows(file, sniff_encoding(file), sniff_lines=20)
    return within_budget(rows, max_rows=MAX_ROWS_READ, max_cells=MAX_CELLS_READ, numbered=True)


# --- MT940 ----------------------------------------------------------------------------------
def _looks_like_mt940(head: bytes, file: IO[bytes]) -> bool:
    """A SWIFT statement begins with its :20: tag (or the {1: block header) and has a :61:
    line, a CSV whose memos happen to hold ":20:" does not. `head`: the file's first bytes;
    `file` is searched for ":61:" a chunk at a time and left at its start."""
    if not head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith((b":20:", b"{1:")):
        return False
    tail = b""
    try:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            if b":61:" in tail + chunk:
                return True
            tail = chunk[-3:]
        return False
    finally:
        file.seek(0)


def bank_ref_key(value: object) -> str:
    """A bank reference as compared and stored: no spaces, upper case (b0309 001 = B0309001)."""
    return re.sub(r"\s+", "", clean_text(value)).upper()


def _decoded(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementRejected(_("the MT940 file is neither UTF-8 nor GBK text"))


def _mt940(content: bytes) -> list[StatementRow]:
    import mt940

    # a reversal (RC, RD) carries the sign of the money's real direction
    options = mt940.Options(reversal_sign=True, case_insensitive_marks=True)
    try:
        transactions = mt940.parse(_decoded(content), options=options)
    except Exception:  # the library raises what its regexes meet; all mean "unreadable"
        raise StatementRejected(_("not a readable MT940 statement")) from None
    rows, errors = [], []
    for n, tx in enumerate(transactions, start=1):
        data = tx.data
        # the bank's own reference (after //): the payer's reference is often just the WY code,
        # the same every month, and would make a second month's transfer look posted
        ref = bank_ref_key(data.get("bank_reference") or "")
        if not ref or ref == "NONREF":
            errors.append(RowError(n, ":61:", _("no bank reference (after //) on the line")))
            continue
        currency = str(getattr(data["amount"], "currency", "") or data.get("currency") or "")
        if currency and currency.upper() != "CNY":
            errors.append(
                RowError(n, ":61:", _("in %(currency)s, not CNY") % {"currency": currency})
            )
            continue
        amount = Decimal(str(data["amount"].amount)).quantize(Decimal("0.01"))
        details = " ".join(
            clean_text(data.get(k) or "") for k in ("transaction_details", "extra_details")
        ).strip()
        rows.append(
            StatementRow(
                line_no=n,
                booked_on=date(data["date"].year, data["date"].month, data["date"].day),
                amount=amount,
                bank_ref=ref[:64],
                memo=details[:255],
            )
        )
    if errors:
        raise StatementRejected.of_lines(errors)
    if not rows:
        raise StatementRejected(_("the statement has no transactions"))
    _refuse_repeated_refs(rows, ":61:")
    return rows


# --- xlsx / csv -----------------------------------------------------------------------------
def _key(value: object) -> str:
    """A header as compared: 贷方发生额（收入） and "贷方发生额" alike, 收/支 as 收支."""
    text = re.sub(r"[（(][^）)]*[）)]", "", clean_text(value).lower())
    return re.sub(r"[\s:：/\\_\-]", "", text)


# header -> (field, rank): the lower the rank, the better the column for its field
_LOOKUP = {
    _key(name): (field, rank) for field, names in HEADERS.items() for rank, name in enumerate(names)
}


def _header(values: tuple) -> dict | None:
    """The columns of a header row (field -> index; "memo" -> every memo-like column, in
    order), or None when `values` is not one. Where two columns fit a field (凭证号 and
    交易流水号), the field's better name wins."""
    best: dict[str, tuple[int, int]] = {}
    memos: list[int] = []
    for i, value in enumerate(values):
        found = _LOOKUP.get(_key(value))
        if found is None:
            continue
        field, rank = found
        if field == "memo":
            memos.append(i)
        elif field not in best or rank < best[field][0]:
            best[field] = (rank, i)
    columns: dict = {field: i for field, (_rank, i) in best.items()}
    if memos:
        columns["memo"] = memos
    has_amount = "credit" in columns or "amount" in columns
    if "booked_on" in columns and has_amount and ("memo" in columns or "bank_ref" in columns):
        return columns
    return None


def _table(rows) -> list[StatementRow]:
    columns = None
    names: dict[str, str] = {}
    for number, values in rows:
        if number > HEADER_ROWS:
            break
        columns = _header(values)
        if columns is not None:
            names = {
                field: clean_text(values[i if isinstance(i, int) else i[0]])
                for field, i in columns.items()
            }
            break
    if columns is None:
        raise StatementRejected(
            _(
                "no table of transactions: a header row with the date (交易日期), the amount "
                "(贷方金额 or 交易金额) and the memo (摘要/附言) was not found in the first "
                "%(rows)s rows"
            )
            % {"rows": HEADER_ROWS}
        )
    if "bank_ref" not in columns:
        raise StatementRejected(
            _(
                "the file has no column of the bank's transaction reference (流水号): without "
                "it a transfer could be posted twice"
            )
        )
    out, errors = [], []
    for number, values in rows:
        if not any(clean_text(v) for v in values):
            continue
        if len(out) + len(errors) >= MAX_LINES:
            raise StatementRejected(
                _("more than %(lines)s lines: split the statement") % {"lines": MAX_LINES}
            )
        try:
            row = _row(number, values, columns, names)
        except _CellAt as exc:
            errors.append(RowError(number, exc.column, exc.message))
            continue
        if row is not None:
            out.append(row)
    if errors:
        raise StatementRejected.of_lines(errors)
    if not out:
        raise StatementRejected(_("the statement has no transactions under its header"))
    _refuse_repeated_refs(out, names["bank_ref"])
    if "amount" in columns and "direction" not in columns and all(r.amount > 0 for r in out):
        raise StatementRejected(
            _(
                "the amounts carry no sign and the file has no 借/贷 column: money out could "
                "not be told from money in; export the statement with its debit and credit "
                "columns"
            )
        )
    return out


def _refuse_repeated_refs(rows: list[StatementRow], column: str) -> None:
    """A bank reference names one transaction: twice in a file, the column is not the bank's
    own (a voucher number that repeats) or the file was damaged, and the second transfer
    would be taken for the first."""
    first: dict[str, int] = {}
    errors = []
    for row in rows:
        if row.bank_ref in first:
            errors.append(
                RowError(
                    row.line_no,
                    column,
                    _("the bank's reference %(ref)s is on row %(first)s too")
                    % {"ref": row.bank_ref, "first": first[row.bank_ref]},
                )
            )
        else:
            first[row.bank_ref] = row.line_no
    if errors:
        raise StatementRejected.of_lines(errors)


class _CellAt(Exception):
    def __init__(self, column: str, message: str):
        self.column, self.message = column, message


TOTALS = ("合计", "总计", "本页合计", "累计", "小计", "total")


def _row(number, values, columns, names) -> StatementRow | None:
    def cell(field):
        i = columns.get(field)
        return values[i] if isinstance(i, int) and i < len(values) else None

    raw_ref = cell("bank_ref")
    ref = bank_ref_key(raw_ref)
    raw_date = cell("booked_on")
    if isinstance(raw_date, int) and 19000101 <= raw_date <= 29991231:
        raw_date = str(raw_date)  # 20260301 typed as a number
    try:
        booked_on = a_date(raw_date)
    except CellError as exc:
        texts = [clean_text(v).lower() for v in values]
        if not ref and any(t.startswith(TOTALS) for t in texts):
            return None  # the bank's own totals under the table: no transaction, no reference
        raise _CellAt(names["booked_on"], str(exc)) from None
    amount = _signed_amount(cell, names)
    if not ref:
        raise _CellAt(names["bank_ref"], _("the bank's reference is empty"))
    if isinstance(raw_ref, float) or re.fullmatch(r"\d(\.\d+)?E\+\d+", ref):
        raise _CellAt(
            names["bank_ref"],
            _(
                "%(ref)s: the reference was turned into a number (Excel does this to long "
                "numbers); export the statement from the bank again and upload it unopened"
            )
            % {"ref": ref},
        )
    if len(ref) > MAX_REF:
        raise _CellAt(
            names["bank_ref"],
            _("the bank's reference is longer than %(max)s characters") % {"max": MAX_REF},
        )
    memo_parts = [clean_text(values[i]) for i in columns.get("memo", []) if i < len(values)]
    memo = " ".join(dict.fromkeys(part for part in memo_parts if part))
    return StatementRow(
        line_no=number,
        booked_on=booked_on,
        amount=amount,
        bank_ref=ref[:64],
        memo=memo[:255],
        payer_name=clean_text(cell("payer_name"))[:100],
        payer_account=clean_text(cell("payer_account"))[:64],
    )


def _signed_amount(cell, names) -> Decimal:
    if "credit" in names:
        credit = _money(cell("credit"), names["credit"], blank_ok=True)
        debit = None
        if "debit" in names:
            debit = _money(cell("debit"), names["debit"], blank_ok=True)
        if credit and debit:
            raise _CellAt(names["credit"], _("both a credit and a debit on one line"))
        if credit:
            return credit
        if debit:
            return -debit
        raise _CellAt(names["credit"], _("no amount"))
    amount = _money(cell("amount"), names["amount"], blank_ok=False, signed=True)
    if "direction" in names:
        word = clean_text(cell("direction")).lower()
        if word in DEBIT_WORDS:
            return -abs(amount)  # 借 is money out, whatever sign the bank also wrote
        if word not in CREDIT_WORDS:
            raise _CellAt(
                names["direction"],
                _("%(word)s is neither credit (贷) nor debit (借)") % {"word": repr(word)},
            )
        return amount  # a negative credit is a reversal (红字冲正): money out
    return amount


_NOT_DIGITS = re.compile(r"[,，\s¥￥元]|CNY|RMB", re.IGNORECASE)


def _money(value, column: str, *, blank_ok: bool, signed: bool = False) -> Decimal | None:
    if isinstance(value, float):
        value = repr(round(value, 2)) if abs(value - round(value, 2)) < 1e-9 else repr(value)
    raw = _NOT_DIGITS.sub("", clean_text(value))
    if not raw or raw in ("-", "--"):
        if blank_ok:
            return None
        raise _CellAt(column, _("no amount"))
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise _CellAt(column, _("%(raw)s is not an amount") % {"raw": repr(raw)}) from None
    if amount.is_finite() and abs(amount) >= MAX_AMOUNT:
        raise _CellAt(column, _("%(raw)s is more than any account holds") % {"raw": raw})
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise _CellAt(
            column,
            _("%(raw)s is not an amount in yuan with at most 2 decimals") % {"raw": repr(raw)},
        )
    if amount < 0 and not signed:
        raise _CellAt(column, _("%(raw)s is negative") % {"raw": raw})
    if amount == 0:
        if blank_ok:
            return None  # 0.00 in the column a line does not use
        raise _CellAt(column, _("the amount is zero"))
    return amount.quantize(Decimal("0.01"))
