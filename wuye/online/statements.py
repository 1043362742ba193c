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

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from wuye.core.normalize import clean_text
from wuye.registry.imports.cells import CellError, a_date
from wuye.registry.imports.reading import FileUnreadable, open_table

MAX_LINES = 20_000
HEADER_ROWS = 15  # a bank's export puts its account details above the table


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
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class StatementRejected(ValueError):
    """The file cannot be posted from: unreadable, or lines in error (all of them listed)."""

    def __init__(self, message: str, errors: list[RowError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


# What banks call each column (compared without spaces, case or full-width forms).
HEADERS = {
    "booked_on": ("交易日期", "记账日期", "入账日期", "交易时间", "日期", "date", "bookingdate"),
    "credit": ("贷方金额", "贷方发生额", "收入金额", "收入", "存入金额", "贷方", "credit"),
    "debit": ("借方金额", "借方发生额", "支出金额", "支出", "借方", "debit"),
    "amount": ("交易金额", "发生额", "金额", "amount"),
    "direction": ("借贷标志", "借贷方向", "收支方向", "借贷", "方向", "direction"),
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


def read_statement(file_name: str, content: bytes) -> list[StatementRow]:
    """The booked lines of a statement file, or StatementRejected."""
    if not content:
        raise StatementRejected("the file is empty")
    if _looks_like_mt940(content):
        return _mt940(content)
    try:
        book = open_table(io.BytesIO(content), file_name)
    except FileUnreadable as exc:
        raise StatementRejected(str(exc)) from None
    try:
        if not book.sheets:
            raise StatementRejected("the workbook has no sheet")
        return _table(book.sheets[0].rows)
    finally:
        book.close()


# --- MT940 ----------------------------------------------------------------------------------
def _looks_like_mt940(content: bytes) -> bool:
    head = content[:4000]
    return b":20:" in head and b":61:" in content


def _decoded(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementRejected("the MT940 file is neither UTF-8 nor GBK text")


def _mt940(content: bytes) -> list[StatementRow]:
    import mt940

    try:
        transactions = mt940.parse(_decoded(content))
    except Exception as exc:  # the library raises what its regexes meet; all mean "unreadable"
        raise StatementRejected(f"not a readable MT940 statement ({exc})") from None
    rows, errors = [], []
    for n, tx in enumerate(transactions, start=1):
        data = tx.data
        ref = clean_text(data.get("bank_reference") or "")
        if not ref or ref.upper() == "NONREF":
            ref = clean_text(data.get("customer_reference") or "")
        if not ref or ref.upper() == "NONREF":
            errors.append(RowError(n, ":61:", "no bank reference (after //) on the line"))
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
        raise StatementRejected(f"{len(errors)} lines cannot be read", errors)
    if not rows:
        raise StatementRejected("the statement has no transactions")
    return rows


# --- xlsx / csv -----------------------------------------------------------------------------
def _key(value: object) -> str:
    return re.sub(r"[\s:：()（）]", "", clean_text(value).lower())


_LOOKUP = {_key(name): field for field, names in HEADERS.items() for name in names}


def _header(values: tuple) -> dict[str, int] | None:
    """The columns of a header row (field -> index), or None when `values` is not one."""
    found: dict[str, int] = {}
    for i, value in enumerate(values):
        field = _LOOKUP.get(_key(value))
        if field and field not in found:
            found[field] = i
    has_amount = "credit" in found or "amount" in found
    if "booked_on" in found and has_amount and ("memo" in found or "bank_ref" in found):
        return found
    return None


def _table(rows) -> list[StatementRow]:
    columns = None
    names: dict[str, str] = {}
    for number, values in rows:
        if number > HEADER_ROWS:
            break
        columns = _header(values)
        if columns is not None:
            names = {field: clean_text(values[i]) for field, i in columns.items()}
            break
    if columns is None:
        raise StatementRejected(
            "no table of transactions: a header row with the date (交易日期), the amount "
            "(贷方金额 or 交易金额) and the memo (摘要/附言) was not found in the first "
            f"{HEADER_ROWS} rows"
        )
    if "bank_ref" not in columns:
        raise StatementRejected(
            "the file has no column of the bank's transaction reference (流水号): without it "
            "a transfer could be posted twice"
        )
    out, errors = [], []
    for number, values in rows:
        if not any(clean_text(v) for v in values):
            continue
        if len(out) + len(errors) >= MAX_LINES:
            raise StatementRejected(f"more than {MAX_LINES} lines: split the statement")
        try:
            row = _row(number, values, columns, names)
        except _CellAt as exc:
            errors.append(RowError(number, exc.column, exc.message))
            continue
        if row is not None:
            out.append(row)
    if errors:
        raise StatementRejected(f"{len(errors)} lines cannot be read; nothing was posted", errors)
    if not out:
        raise StatementRejected("the statement has no transactions under its header")
    return out


class _CellAt(Exception):
    def __init__(self, column: str, message: str):
        self.column, self.message = column, message


def _cell(values: tuple, columns: dict[str, int], field: str):
    i = columns.get(field)
    return values[i] if i is not None and i < len(values) else None


def _row(number, values, columns, names) -> StatementRow | None:
    def cell(field):
        return _cell(values, columns, field)

    text = clean_text(cell("booked_on"))
    if text in ("合计", "总计", "本页合计", "total") or text.startswith(("合计", "总计")):
        return None  # the bank's own totals under the table
    try:
        booked_on = a_date(cell("booked_on"))
    except CellError as exc:
        raise _CellAt(names["booked_on"], str(exc)) from None
    amount = _signed_amount(cell, names)
    ref = clean_text(cell("bank_ref"))
    if not ref:
        raise _CellAt(names["bank_ref"], "the bank's reference is empty")
    return StatementRow(
        line_no=number,
        booked_on=booked_on,
        amount=amount,
        bank_ref=ref[:64],
        memo=clean_text(cell("memo"))[:255],
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
            raise _CellAt(names["credit"], "both a credit and a debit on one line")
        if credit:
            return credit
        if debit:
            return -debit
        raise _CellAt(names["credit"], "no amount")
    amount = _money(cell("amount"), names["amount"], blank_ok=False, signed=True)
    if "direction" in names:
        word = clean_text(cell("direction")).lower()
        if word in DEBIT_WORDS:
            return -abs(amount)
        if word not in CREDIT_WORDS:
            raise _CellAt(names["direction"], f"{word!r} is neither credit (贷) nor debit (借)")
        return abs(amount)
    return amount


def _money(value, column: str, *, blank_ok: bool, signed: bool = False) -> Decimal | None:
    raw = clean_text(value).replace(",", "").replace("¥", "").replace("￥", "")
    if not raw or raw in ("-", "--"):
        if blank_ok:
            return None
        raise _CellAt(column, "no amount")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise _CellAt(column, f"{raw!r} is not an amount") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise _CellAt(column, f"{raw!r} is not an amount in yuan with at most 2 decimals")
    if amount < 0 and not signed:
        raise _CellAt(column, f"{raw} is negative")
    if amount == 0:
        if blank_ok:
            return None  # 0.00 in the column a line does not use
        raise _CellAt(column, "the amount is zero")
    return amount.quantize(Decimal("0.01"))
