"""Opening an uploaded registry file: .xlsx through openpyxl in read-only mode, .csv in
UTF-8 (with or without BOM), GBK/GB18030 or UTF-16, separated by commas, tabs or semicolons.

Rows come out as (row number as the spreadsheet shows it, tuple of raw values)."""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from .cells import CellError


class FileUnreadable(CellError):
    """The file as a whole cannot be read (wrong format, encoding, no header)."""


@dataclass
class Sheet:
    name: str
    rows: Iterator[tuple[int, tuple]]


@dataclass
class Workbook:
    format: str  # "xlsx" or "csv"
    sheets: list[Sheet] = field(default_factory=list)
    encoding: str = ""
    _close: object = None

    def close(self) -> None:
        if self._close is not None:
            self._close()


def open_table(file: IO[bytes], filename: str) -> Workbook:
    """Open `file` (binary, seekable) as xlsx or csv, by content first and name second."""
    head = file.read(8)
    file.seek(0)
    lower = filename.lower()
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(file)
    if head.startswith(b"\xd0\xcf\x11\xe0") or lower.endswith(".xls"):
        raise FileUnreadable("this is an old .xls workbook: save it as .xlsx or .csv first")
    if lower.endswith((".xlsx", ".xlsm")):
        raise FileUnreadable("the file is not a valid .xlsx workbook")
    return _open_csv(file.read())


def _open_xlsx(file: IO[bytes]) -> Workbook:
    from openpyxl import load_workbook

    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileUnreadable(f"the file is not a valid .xlsx workbook ({exc})") from None
    sheets = []
    for ws in book.worksheets:
        ws.reset_dimensions()  # some tools write a wrong <dimension>; read to the real end
        rows = ((n, row) for n, row in enumerate(ws.iter_rows(values_only=True), start=1))
        sheets.append(Sheet(ws.title, rows))
    return Workbook("xlsx", sheets, _close=book.close)


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: UTF-8 (BOM or not), UTF-16 with a
    BOM (Excel's "Unicode text"), else GB18030, the superset of GBK that Excel on Chinese
    Windows writes."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return data.decode(encoding), "gbk" if encoding == "gb18030" else encoding
        except UnicodeDecodeError:
            continue
    raise FileUnreadable("the file is neither UTF-8 nor GBK text: save it as CSV UTF-8 or .xlsx")


def _open_csv(data: bytes) -> Workbook:
    content, encoding = decode(data)
    first_line = content.split("\n", 1)[0]
    delimiter = max([",", "\t", ";"], key=first_line.count)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    rows = ((n, tuple(row)) for n, row in enumerate(reader, start=1))
    return Workbook("csv", [Sheet("", rows)], encoding=encoding)
