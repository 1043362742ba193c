"""Opening an uploaded registry file: .xlsx through openpyxl in read-only mode, .csv in
UTF-8 (with or without BOM), GBK/GB18030 or UTF-16, separated by commas, tabs or semicolons.

Rows come out as (row number as the spreadsheet shows it, tuple of raw values). Each sheet
also says how many rows it has (cheaply, before they are parsed) so a progress bar has a total."""

import codecs
import contextlib
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.utils.translation import gettext as _

from wuye.core.spreadsheets import (
    SHEET_MAX_CELLS,
    SHEET_MAX_ROWS,
    SpreadsheetRefused,
    within_budget,
    xlsx_check,
)

from .cells import CellError

# Nobody's registry needs more than a full Excel sheet; beyond these a file is refused, not
# read for minutes (a zip bomb of empty rows or cells)
MAX_ROWS = SHEET_MAX_ROWS
MAX_CELLS = SHEET_MAX_CELLS
# columns after this one are never read (no import has that many; a stray value in column
# XFD must not make every row 16,384 values long)
MAX_COLUMNS = 1024
# an .xlsx whose worksheets expand to more XML than this is checked by the worker, however
# few rows it claims (`rows_estimate`)
IN_REQUEST_XML = 16 * 2**20


class FileUnreadable(CellError):
    """The file as a whole cannot be read (wrong format, encoding, no header)."""


@dataclass
class Sheet:
    name: str
    rows: Iterator[tuple[int, tuple]]
    # how many rows the sheet has, header and blank rows included (an estimate: a CSV cell
    # holding a line break counts twice); counted on demand
    count_rows: Callable[[], int] = lambda: 0


@dataclass
class Workbook:
    format: str  # "xlsx" or "csv"
    sheets: list[Sheet] = field(default_factory=list)
    encoding: str = ""
    _close: object = None

    def close(self) -> None:
        if self._close is not None:
            self._close()


def open_table(
    file: IO[bytes], filename: str, *, max_rows: int | None = None, max_cells: int | None = None
) -> Workbook:
    """Open `file` (binary, seekable) as xlsx or csv, by content first and name second.
    Reading more than `max_rows` rows or `max_cells` cells of a sheet raises FileUnreadable;
    an .xlsx archive out of proportion (a zip bomb) is refused before it is opened."""
    max_rows = MAX_ROWS if max_rows is None else max_rows
    max_cells = MAX_CELLS if max_cells is None else max_cells
    head = file.read(8)
    file.seek(0)
    lower = filename.lower()
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(file, max_rows=max_rows, max_cells=max_cells)
    if head.startswith(b"\xd0\xcf\x11\xe0") or lower.endswith(".xls"):
        raise FileUnreadable(_("this is an old .xls workbook: save it as .xlsx or .csv first"))
    if lower.endswith((".xlsx", ".xlsm")):
        raise FileUnreadable(_("the file is not a valid .xlsx workbook"))
    return _open_csv(file, max_rows=max_rows, max_cells=max_cells)


def _refused(rows: Iterator) -> Iterator:
    """A sheet's rows, its budget's refusal said as the file's own problem."""
    try:
        yield from rows
    except SpreadsheetRefused as exc:
        raise FileUnreadable(exc.message) from None


def _open_xlsx(file: IO[bytes], *, max_rows: int, max_cells: int) -> Workbook:
    from openpyxl import load_workbook

    try:
        xlsx_check(file)
    except SpreadsheetRefused as exc:
        raise FileUnreadable(exc.message) from None
    try:
        book = load_workbook(file, read_only=True, data_only=True, keep_links=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileUnreadable(
            _("the file is not a valid .xlsx workbook (%(error)s)") % {"error": exc}
        ) from None
    sheets = []
    for ws in book.worksheets:
        ws.reset_dimensions()  # some tools write a wrong <dimension>; read to the real end
        rows = _refused(_xlsx_rows(ws, max_rows=max_rows, max_cells=max_cells))
        sheets.append(Sheet(ws.title, rows, lambda ws=ws: _xlsx_row_count(ws)))
    return Workbook("xlsx", sheets, _close=book.close)


def _xlsx_rows(ws, *, max_rows: int, max_cells: int) -> Iterator[tuple[int, tuple]]:
    """(row number, values) of a read-only worksheet, as openpyxl's `iter_rows(values_only=
    True)` gives them with `data_only=True` (cached formula results, date-formatted numbers
    as datetimes), read by a lean loop over the sheet's XML: 3-4x faster than openpyxl's
    generic parser at 100,000 rows, which decides whether an import takes one minute or
    three. The workbook-level parts (shared strings, date styles, epoch) are openpyxl's.
    Falls back to openpyxl's own iterator if its internals ever differ.

    Every <c> element counts against `max_cells` (empty ones too: they cost parsing time),
    every <row> against `max_rows`; a row is dropped from the tree once read, so memory does
    not grow with the sheet."""
    try:
        shared = ws._shared_strings
        date_styles = ws.parent._date_formats
        epoch = ws.parent.epoch
        source = ws._get_source()
    except AttributeError:
        yield from within_budget(
            enumerate(ws.iter_rows(values_only=True), start=1),
            max_rows=max_rows,
            max_cells=max_cells,
            numbered=True,
        )
        return
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import column_index_from_string
    from openpyxl.utils.datetime import from_excel, from_ISO8601
    from openpyxl.xml.constants import SHEET_MAIN_NS

    row_tag, value_tag, inline_tag, text_tag, run_tag, data_tag = (
        f"{{{SHEET_MAIN_NS}}}{t}" for t in ("row", "v", "is", "t", "r", "sheetData")
    )
    columns: dict[str, int] = {}

    def column_of(reference: str) -> int:
        letters = reference.rstrip("0123456789")
        index = columns.get(letters)
        if index is None:
            index = columns[letters] = column_index_from_string(letters)
        return index

    with source:
        number = rows = cells = 0
        sheet_data = None
        # expat refuses entity expansion attacks; openpyxl parses sheets the same way
        for event, element in iterparse(source, events=("start", "end")):  # noqa: S314  # expat: no external entities; size checked first  # nosec B314
            if event == "start":
                if element.tag == data_tag:
                    sheet_data = element
                continue
            if element.tag != row_tag:
                continue
            rows += 1
            cells += len(element)
            if rows > max_rows:
                raise SpreadsheetRefused(
                    _("the sheet has more than %(rows)s rows: split it into several files")
                    % {"rows": f"{max_rows:,}"}
                )
            if cells > max_cells:
                raise SpreadsheetRefused(
                    _(
                        "the sheet has more than %(cells)s cells: delete the empty columns "
                        "and rows, or split it into several files"
                    )
                    % {"cells": f"{max_cells:,}"}
                )
            number = int(element.get("r") or number + 1)
            values: list = []
            position = 0
            for cell in element:
                reference = cell.get("r")
                position = column_of(reference) if reference else position + 1
                if position > MAX_COLUMNS:
                    break
                kind = cell.get("t", "n")
                if kind == "inlineStr":
                    box = cell.find(inline_tag)
                    value = None
                    if box is not None:
                        parts = [box.findtext(text_tag) or ""]
                        parts += [r.findtext(text_tag) or "" for r in box.iterfind(run_tag)]
                        value = "".join(parts)
                else:
                    raw = cell.findtext(value_tag)
                    if not raw:
                        value = None
                    elif kind == "s":
                        value = shared[int(raw)]
                    elif kind == "n":
                        value = float(raw) if any(c in raw for c in ".eE") else int(raw)
                        if int(cell.get("s", 0) or 0) in date_styles:
                            with contextlib.suppress(ValueError, OverflowError):
                                value = from_excel(value, epoch)
                    elif kind == "b":
                        value = raw == "1"
                    elif kind == "d":
                        value = from_ISO8601(raw)
                    else:  # "str" (a formula's text), "e" (an error such as #N/A)
                        value = raw
                if value is not None:
                    if len(values) < position:
                        values.extend([None] * (position - len(values)))
                    values[position - 1] = value
            element.clear()
            if sheet_data is not None:
                sheet_data.clear()  # the rows read so far would stay in the tree otherwise
            yield number, tuple(values)


# <row ...> and <row> as most tools write them, and <x:row ...> as some .NET writers do
_ROW_TAGS = (b"<row ", b"<row>", b":row ", b":row>")


def _count_row_tags(source: IO[bytes], limit: int | None = None) -> int:
    """The number of <row> elements in a worksheet's XML, by a byte scan of the decompressed
    part (about 0.05 s per 100,000 rows, against a minute to parse them; the stored
    <dimension> would be free but is wrong in files from some tools). Stops early once past
    `limit`."""
    count = 0
    tail = b""
    for chunk in iter(lambda: source.read(1 << 20), b""):
        block = tail + chunk
        cut = block.rfind(b"<")  # a tag cut in two by the chunk is counted with the next one
        cut = len(block) if cut < 0 else cut
        count += sum(block.count(tag, 0, cut) for tag in _ROW_TAGS)
        tail = block[cut:]
        if limit is not None and count > limit:
            return count
    tail += b" "
    return count + sum(tail.count(tag) for tag in _ROW_TAGS)


def _xlsx_row_count(ws) -> int:
    try:
        source = ws._get_source()
    except AttributeError:
        return ws.max_row or 0
    with source:
        return _count_row_tags(source)


def rows_estimate(file: IO[bytes], limit: int | None = None) -> int:
    """How many rows the file's biggest sheet has (header and blank rows included), without
    parsing it: enough to decide whether checking it is a job for the background worker.
    0 when the file cannot be read or is refused (the check says why, at once). With a
    `limit`, worksheets of more than IN_REQUEST_XML bytes of XML count as past it, however
    few rows they declare (a few rows of a million cells each are no small file)."""
    file.seek(0)
    try:
        if file.read(4) == b"PK\x03\x04":
            file.seek(0)
            try:
                xlsx_check(file)
                with zipfile.ZipFile(file) as archive:
                    parts = [
                        p
                        for p in archive.infolist()
                        if p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml")
                    ]
                    if limit is not None and sum(p.file_size for p in parts) > IN_REQUEST_XML:
                        return limit + 1
                    counts = [0]
                    for part in parts:
                        with archive.open(part) as source:
                            counts.append(_count_row_tags(source, limit))
                    return max(counts)
            except (zipfile.BadZipFile, OSError, KeyError, SpreadsheetRefused):
                return 0
        file.seek(0)
        return _count_lines(file, sniff_encoding(file))
    except FileUnreadable:
        return 0
    finally:
        file.seek(0)


CHUNK = 1 << 18  # 256 KB: enough to tell an encoding, small enough to stream
# the share of a text's non-ASCII characters that may be odd for GBK (module `_odd_for_gbk`)
ODD_SHARE = 0.25
SAMPLE_CHARS = 100_000  # of the file's first chunk, enough to tell


def _odd_for_gbk(char: str) -> bool:
    """Whether a character read as GBK is one a Chinese office's file hardly ever holds: not
    in GB2312 (GBK's rare extension characters), or in GB2312's kana, Greek, Cyrillic,
    pinyin and box-drawing rows. Big5 or Shift-JIS bytes read as GBK are mostly such
    characters (their second bytes fall outside GB2312); a real GBK sheet's names and
    addresses almost never are."""
    try:
        encoded = char.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return 0xA4 <= encoded[0] <= 0xA9


def _which_encoding(raw: bytes) -> str:
    """The likely encoding of text that is not UTF-8 and does not read as GBK, to name it."""
    raw = raw[: raw.rfind(b"\n") + 1] or raw  # whole lines: no character cut in two
    try:
        text = raw.decode("shift_jis")
    except UnicodeDecodeError:
        pass
    else:
        if any("\u3040" <= c <= "\u30ff" for c in text):  # hiragana and katakana
            return "Shift-JIS"
    try:
        raw.decode("big5")
    except UnicodeDecodeError:
        return ""
    return "Big5"


def _refuse_misread(text: str, raw: bytes) -> None:
    """Refuse a text that decoded as GBK but is another encoding read wrongly (Big5 or
    Shift-JIS decode as GBK without an error, into garbled names)."""
    wide = odd = 0
    for char in text[:SAMPLE_CHARS]:
        if char > "\x7f":
            wide += 1
            odd += _odd_for_gbk(char)
    if wide < 4 or odd < ODD_SHARE * wide:
        return
    found = _which_encoding(raw)
    if found:
        message = _(
            "the file is in %(encoding)s encoding, not UTF-8 or GBK: its names would be "
            'imported garbled. Open it in Excel or WPS and save it as "CSV UTF-8" (or as '
            ".xlsx), or in Notepad choose Save as, encoding UTF-8"
        ) % {"encoding": found}
    else:
        message = _(
            "the file's text is in an encoding other than UTF-8 or GBK: its names would be "
            'imported garbled. Open it in Excel or WPS and save it as "CSV UTF-8" (or as '
            ".xlsx), or in Notepad choose Save as, encoding UTF-8"
        )
    raise FileUnreadable(message)


def sniff_encoding(file: IO[bytes]) -> str:
    """The encoding of a CSV file, read in chunks (nothing is kept): UTF-8 (BOM or not),
    UTF-16 with a BOM (Excel's "Unicode text"), else GB18030, the superset of GBK that Excel
    on Chinese Windows writes, unless its first chunk reads as garbled GBK (Big5,
    Shift-JIS). `file` is left at its start. Raises FileUnreadable saying how to save it."""
    file.seek(0)
    head = file.read(CHUNK)
    file.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            first = decoder.decode(head)
            file.seek(len(head))
            for chunk in iter(lambda: file.read(CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            file.seek(0)
        if encoding == "gb18030":
            _refuse_misread(first, head)
        return encoding
    found = _which_encoding(head)
    if found:
        raise FileUnreadable(
            _(
                "the file is in %(encoding)s encoding, not UTF-8 or GBK: open it in Excel or "
                'WPS and save it as "CSV UTF-8" (or as .xlsx)'
            )
            % {"encoding": found}
        )
    raise FileUnreadable(_("the file is neither UTF-8 nor GBK text: save it as CSV UTF-8 or .xlsx"))


def encoding_label(encoding: str) -> str:
    return "gbk" if encoding == "gb18030" else encoding


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file held in memory and the encoding it was in (`sniff_encoding`)."""
    encoding = sniff_encoding(io.BytesIO(data))
    return data.decode(encoding), encoding_label(encoding)


def _count_lines(file: IO[bytes], encoding: str) -> int:
    """The number of lines, read in chunks; `file` is left where it was."""
    position = file.tell()
    file.seek(0)
    lines = 0
    last = b""
    if encoding == "utf-16":  # a line feed's byte also occurs inside other characters
        reader = codecs.getreader(encoding)(file)
        for text in iter(lambda: reader.read(CHUNK), ""):
            lines += text.count("\n")
            last = text[-1:].encode()
    else:  # a line feed is one byte in UTF-8 and GBK alike (GBK's trail bytes are >= 0x40)
        for chunk in iter(lambda: file.read(CHUNK), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    file.seek(position)
    return lines + (0 if last in (b"\n", b"") else 1)


def csv_rows(
    file: IO[bytes], encoding: str, *, sniff_lines: int = 1
) -> Iterator[tuple[int, tuple]]:
    """(row number, values) of a CSV file, streamed (only a line at a time is in memory).
    The separator is the one of comma, tab and semicolon most used in the first
    `sniff_lines` lines."""
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    try:
        head = [text.readline() for _ in range(sniff_lines)]
        delimiter = max([",", "\t", ";"], key=lambda d: sum(line.count(d) for line in head))
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        yield from ((n, tuple(row)) for n, row in enumerate(reader, start=1))
    finally:
        text.detach()  # the caller's file stays open


def _open_csv(file: IO[bytes], *, max_rows: int, max_cells: int) -> Workbook:
    encoding = sniff_encoding(file)
    rows = csv_rows(file, encoding)
    rows = _refused(within_budget(rows, max_rows=max_rows, max_cells=max_cells, numbered=True))
    return Workbook(
        "csv",
        [Sheet("", rows, lambda: _count_lines(file, encoding))],
        encoding=encoding_label(encoding),
    )
