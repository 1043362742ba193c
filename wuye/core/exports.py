"""Cells of every .xlsx and .csv export: text that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return: CSV/formula injection) is written as
text. One rule for every export (registry, ledger vouchers, reports); a bank's own file
format (auto-debit) is not a spreadsheet and keeps its bytes.

- .xlsx: the cell is typed as a string, so the value is kept exactly as it is.
- .csv: a leading apostrophe, as OWASP advises (Excel shows the text, not a formula).
A plain number written as text ("-12.50") is not a formula and stays as it is."""

import re
from datetime import date
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def is_formula_like(value: object) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    )


def csv_cell(value: object) -> object:
    """A value for csv.writer."""
    if value is None:
        return ""
    if is_formula_like(value):
        return "'" + value
    return value


def xlsx_cell(sheet, value: object, number_format: str | None = None):
    """A cell for a write-only openpyxl sheet."""
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        value = ""
    elif not isinstance(value, str | int | float | Decimal | date):
        value = str(value)
    cell = WriteOnlyCell(sheet, value=value)
    if is_formula_like(value) or (isinstance(value, str) and value.startswith("=")):
        cell.data_type = "s"  # text, never a formula
    if number_format:
        cell.number_format = number_format
    return cell
