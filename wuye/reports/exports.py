"""Report tables as .xlsx, streamed (openpyxl write-only), every export audited in the same
request. Text that a spreadsheet would take for a formula (= + - @ at the start) is written
as text."""

import io
from collections.abc import Iterable
from decimal import Decimal

from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.exports import xlsx_cell


def _cell(sheet, value):
    return xlsx_cell(sheet, value, "#,##0.00" if isinstance(value, Decimal) else None)


def xlsx(title: str, columns: list, rows: Iterable[list], *, note: str = "") -> tuple[bytes, int]:
    """(the workbook, how many rows) of one sheet: the title, the definition, the header."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31].replace("/", "-"))
    sheet.append([_cell(sheet, title)])
    if note:
        sheet.append([_cell(sheet, note)])
    sheet.append([_cell(sheet, str(c)) for c in columns])
    count = 0
    for row in rows:
        sheet.append([_cell(sheet, v) for v in row])
        count += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), count


def export_audit(*, actor, name: str, estate_ids, params: dict, rows: int, kind: str = "xlsx"):
    """One audit row per export: what, which estates, which range, how many rows."""
    estate_id = estate_ids[0] if len(estate_ids) == 1 else None
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        subject_type="reports.table",
        subject_id=name,
        estate_id=estate_id,
        summary=Summary(
            gettext_noop("%(kind)s %(name)s %(params)s (%(n)s rows)"),
            kind=kind,
            name=name,
            params=str(params)[:150],
            n=rows,
        ),
    )
