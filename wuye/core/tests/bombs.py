"""Zip bombs made in the test: a real .xlsx whose worksheet part is replaced by megabytes of
the same row, so the file is a few KB on disk and expands a thousand times (what a probe
uploaded: 311 KB that grew a worker by 4.7 GB). Written streaming: the test never holds the
expanded part in memory."""

import io
import zipfile

from openpyxl import Workbook

ROW = b"<row><c t='inlineStr'><is><t>1</t></is></c></row>"


def _plain_xlsx(title: str = "Sheet1") -> bytes:
    book = Workbook()
    book.active.title = title
    book.active.append(["楼栋", "房号", "建筑面积"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bomb_xlsx(expanded_mb: int = 40, *, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """An .xlsx whose `part` expands to `expanded_mb` MB of rows (ratio about 1,000)."""
    source = zipfile.ZipFile(io.BytesIO(_plain_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == part:
                continue
            target.writestr(info.filename, source.read(info.filename))
        with target.open(part, "w", force_zip64=True) as sink:
            head = b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'>"
            sink.write(head + b"<sheetData>")
            chunk = ROW * (2**20 // len(ROW))
            for _ in range(expanded_mb):
                sink.write(chunk)
            sink.write(b"</sheetData></worksheet>")
    return out.getvalue()


def rows_xlsx(rows: int, cells_per_row: int = 1) -> bytes:
    """A well-proportioned .xlsx (passes the archive check) with very many rows: the row and
    cell budgets must stop it."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    sheet.append(["楼栋", "房号", "建筑面积"])
    for n in range(rows):
        sheet.append([f"v{n}-{i}" for i in range(cells_per_row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
