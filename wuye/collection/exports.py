"""The arrears list (欠费清单) as .xlsx: audited and masked.

Decisions:
- Only `collection.export_arrears` (finance, supervisors) exports, and only an estate of
  their own; every export writes one audit row (action "export") with the filters, the row
  count and what was masked, in the same request.
- A spreadsheet travels (mail, USB sticks, chat groups), so the file is masked more than the
  page: phones are always masked (138****5678; the full number is on the case page for the
  roles that may see it), and owners' names are masked (张*) for every role without
  `registry.view_pii` -- the same rule the pages follow. Debtor data stays internal
  (DESIGN.md §5: no public list of defaulters).
- Every text cell goes through `wuye.core.exports.xlsx_cell`, so a name or unit number that
  starts with = + - @ is written as text, never run as a formula.
"""

import io
from datetime import date
from itertools import islice

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import PermissionDenied
from wuye.core.exports import xlsx_cell
from wuye.core.masking import mask_name, mask_phone
from wuye.core.names import person_name
from wuye.registry.models import Estate
from wuye.registry.services import require_estate

from . import selectors as sel
from .page_selectors import BUCKET_LABELS, arrears_units, party_phones

CHUNK = 500
MONEY = "#,##0.00"


def _columns() -> list[str]:
    return [
        _("Owner"),
        _("Units"),
        _("Mobile"),
        _("Total overdue"),
        *[str(BUCKET_LABELS[name]) for name, _l, _h in sel.BUCKETS],
        _("Oldest period"),
        _("Last contact"),
        _("Stage"),
        _("Case status"),
        _("Reason"),
        _("Collector"),
    ]


def _chunks(rows, size: int):
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def arrears_export(
    *, actor, estate: Estate, filters: sel.ArrearsFilters, as_of: date | None = None
) -> tuple[bytes, int]:
    """(the .xlsx file, how many parties) of the estate's arrears list under `filters`."""
    if not actor.has_perm("collection.export_arrears"):
        raise PermissionDenied(_("your role may not export the arrears list"))
    require_estate(actor, estate.pk)
    as_of = as_of or timezone.localdate()
    filters.estate_id = estate.pk
    reveal_names = actor.has_perm("registry.view_pii")
    rows = sel.arrears_list(actor, as_of=as_of, filters=filters)

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Arrears list")[:31])

    def cell(value):
        return xlsx_cell(sheet, value, MONEY if hasattr(value, "quantize") else None)

    sheet.append([cell(_("Arrears list")), cell(estate.name), cell(as_of)])
    sheet.append([cell(_("Internal use only: do not publish or pass on."))])
    sheet.append([cell(c) for c in _columns()])
    totals = {key: sel.ZERO for key in ["total", *[b[0] for b in sel.BUCKETS]]}
    count = 0
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
        sel.arrears_details(chunk)
        ids = [r["party_id"] for r in chunk]
        units = arrears_units(ids, as_of=as_of, estate_id=estate.pk)
        phones = party_phones(ids)
        for r in chunk:
            case = r["case"]
            name = r["party__name"] or ""
            sheet.append(
                [
                    cell(name if reveal_names else mask_name(name)),
                    cell(", ".join(units.get(r["party_id"], []))),
                    cell(mask_phone(phones.get(r["party_id"]))),
                    cell(r["total"]),
                    *[cell(r[b[0]]) for b in sel.BUCKETS],
                    cell(r["oldest"]),
                    cell(timezone.localtime(r["last_contact"]).strftime("%Y-%m-%d %H:%M"))
                    if r["last_contact"]
                    else cell(""),
                    cell(
                        f"{case.stage_number} {case.stage.name if case.stage else ''}".strip()
                        if case and case.stage_number
                        else ""
                    ),
                    cell(case.get_status_display() if case else ""),
                    cell(case.get_reason_display() if case and case.reason else ""),
                    cell(person_name(case.assignee) if case and case.assignee else ""),
                ]
            )
            for key in totals:
                totals[key] += r[key] or sel.ZERO
            count += 1
    sheet.append(
        [
            cell(_("Total")),
            cell(_("%(n)s owners") % {"n": count}),
            cell(""),
            cell(totals["total"]),
            *[cell(totals[b[0]]) for b in sel.BUCKETS],
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.EXPORT,
            subject=estate,
            estate_id=estate.pk,
            summary=Summary(gettext_noop("exported the arrears list: %(n)s owners"), n=count),
            after={
                "export": "collection.arrears",
                "as_of": as_of.isoformat(),
                "filters": {
                    k: str(v)
                    for k, v in vars(filters).items()
                    if v not in (None, "") and k != "estate_id"
                },
                "rows": count,
                "names_masked": not reveal_names,
                "phones_masked": True,
            },
        )
    return buffer.getvalue(), count
