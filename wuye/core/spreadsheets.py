"""Opening an uploaded spreadsheet without letting it take the server down.

An .xlsx file is a zip archive of XML parts. A "zip bomb" of a few hundred KB can declare
parts of gigabytes (a probe grew a web worker by 4.7 GB in two minutes and ended in a 500), so
every upload path opens .xlsx files through `open_xlsx`, which first reads the archive's
directory (`zipfile.ZipFile.infolist`, nothing decompressed) and refuses:

- a part that expands more than MAX_RATIO times its compressed size (once it is bigger than
  RATIO_FLOOR): real worksheets compress 5-20 times, bombs about 1,000 times;
- parts declaring more than MAX_EXPANDED bytes in total, or any part besides the worksheets
  (which are streamed) over MAX_WHOLE_PART: openpyxl reads those whole (shared strings,
  styles, the workbook);
- more than MAX_PARTS parts.

The declared sizes cannot be exceeded: Python's zipfile stops at a part's declared size and
fails its CRC check when the real data is longer. Rows are then read streaming (openpyxl's
read-only mode, or the registry's own parser) through `within_budget`, which stops a sheet
with more rows or cells than its reader will ever need. Every refusal says in the user's
language what is wrong with the file.
"""

import zipfile
from collections.abc import Iterable, Iterator
from typing import IO

from django.utils.translation import gettext as _

from .errors import DomainError

MAX_RATIO = 100
RATIO_FLOOR = 2**20
MAX_EXPANDED = 2**30
MAX_WHOLE_PART = 256 * 2**20
MAX_PARTS = 10_000
WORKSHEET_PREFIX = "xl/worksheets/"
# A full Excel sheet has 1,048,576 rows; no upload needs more, nor more than about 30 cells
# a row of it. Readers that need less pass their own budget.
SHEET_MAX_ROWS = 1_048_576
SHEET_MAX_CELLS = 30_000_000


class SpreadsheetRefused(DomainError):
    """The uploaded spreadsheet is refused as a whole (a zip bomb, too many rows or cells)."""

    def __init__(self, message: str):
        super().__init__(message, field="file", code="file_refused")


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f}"


def xlsx_check(file: IO[bytes]) -> None:
    """Refuse an .xlsx archive whose declared contents are out of proportion (module
    docstring); reads only the zip directory. `file` is binary and seekable; it is left at
    its start. A file that is not a zip archive at all passes (its reader says what it is)."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    finally:
        file.seek(0)
    if len(parts) > MAX_PARTS:
        raise SpreadsheetRefused(
            _("the workbook has %(parts)s parts inside; a spreadsheet has a few dozen")
            % {"parts": len(parts)}
        )
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise SpreadsheetRefused(
                _(
                    "the workbook is refused: its part %(part)s would expand from %(packed)s KB "
                    "to %(size)s MB (more than %(ratio)s times); a real spreadsheet does not "
                    "compress like that. Open it in Excel or WPS and save it again as .xlsx, "
                    "or save it as CSV"
                )
                % {
                    "part": part.filename,
                    "packed": f"{part.compress_size / 1024:,.0f}",
                    "size": _mb(part.file_size),
                    "ratio": MAX_RATIO,
                }
            )
        if not part.filename.startswith(WORKSHEET_PREFIX) and part.file_size > MAX_WHOLE_PART:
            raise SpreadsheetRefused(
                _("the workbook is refused: its part %(part)s is %(size)s MB (at most %(max)s MB)")
                % {
                    "part": part.filename,
                    "size": _mb(part.file_size),
                    "max": _mb(MAX_WHOLE_PART),
                }
            )
    if total > MAX_EXPANDED:
        raise SpreadsheetRefused(
            _(
                "the workbook is refused: it would expand to %(size)s MB (at most %(max)s MB); "
                "split it into several files"
            )
            % {"size": _mb(total), "max": _mb(MAX_EXPANDED)}
        )


def open_xlsx(file: IO[bytes]):
    """An openpyxl workbook in read-only mode (values, not formulas), after `xlsx_check`.
    Raises SpreadsheetRefused, or what openpyxl raises for a file that is not a workbook."""
    from openpyxl import load_workbook

    xlsx_check(file)
    return load_workbook(file, read_only=True, data_only=True, keep_links=False)


def within_budget(
    rows: Iterable,
    *,
    max_rows: int = SHEET_MAX_ROWS,
    max_cells: int = SHEET_MAX_CELLS,
    numbered: bool = False,
) -> Iterator:
    """`rows` unchanged (tuples of values, or (row number, tuple) pairs if `numbered`),
    until the sheet proves to have more than `max_rows` rows or `max_cells` cells in all:
    then SpreadsheetRefused. Blank rows count too: a million of them cost as much time as
    real ones."""
    cells = 0
    for count, row in enumerate(rows, start=1):
        cells += len(row[1] if numbered else row)
        if count > max_rows:
            raise SpreadsheetRefused(
                _("the sheet has more than %(rows)s rows: split it into several files")
                % {"rows": f"{max_rows:,}"}
            )
        if cells > max_cells:
            raise SpreadsheetRefused(
                _(
                    "the sheet has more than %(cells)s cells: delete the empty columns and "
                    "rows, or split it into several files"
                )
                % {"cells": f"{max_cells:,}"}
            )
        yield row
