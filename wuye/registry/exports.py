"""Exporting buildings, units and owners to .xlsx or .csv, in exactly the columns the
importer reads (so an export imports back unchanged), streamed row by row.

Every export is audited (action "export") and needs `registry.export_registry`; phones and
ID numbers are written in full only for roles with `registry.view_pii`, masked otherwise."""

import csv
import io
from collections.abc import Iterator
from typing import IO

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError, PermissionDenied
from wuye.core.exports import csv_cell, xlsx_cell
from wuye.core.masking import mask_id_number, mask_phone

from .imports.cells import OCCUPANCY_LABELS, UNIT_TYPE_LABELS
from .imports.columns import BUILDING_COLUMNS, OWNER_COLUMNS, UNIT_COLUMNS
from .models import Building, Estate, Unit, UnitParty
from .selectors import visible_estate_ids

KINDS = ("buildings", "units", "owners")
FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
CHUNK = 2000
_UNIT_KEYS = [
    "building",
    "entrance",
    "number",
    "floor",
    "gross_area",
    "unit_type",
    "handover_date",
    "fee_start_date",
    "occupancy",
]


def headers(kind: str) -> list[str]:
    if kind == "buildings":
        return [c.header for c in BUILDING_COLUMNS]
    if kind == "units":
        by_key = {c.key: c.header for c in UNIT_COLUMNS}
        return [by_key[k] for k in _UNIT_KEYS]
    return [c.header for c in OWNER_COLUMNS]


def _rows(kind: str, estate: Estate, reveal: bool) -> Iterator[list]:
    if kind == "buildings":
        for b in Building.objects.filter(estate=estate).order_by("code").iterator(CHUNK):
            yield [b.code, b.name, b.floors]
    elif kind == "units":
        units = (
            Unit.objects.filter(estate=estate)
            .select_related("building")
            .order_by("number")
            .iterator(CHUNK)
        )
        for u in units:
            yield [
                u.building.code,
                u.entrance,
                u.number,
                u.floor,
                u.gross_area,
                UNIT_TYPE_LABELS.get(u.unit_type, u.unit_type),
                u.handover_date,
                u.fee_start_date,
                OCCUPANCY_LABELS.get(u.occupancy, u.occupancy),
            ]
    else:
        relations = (
            UnitParty.objects.filter(estate=estate, role=UnitParty.Role.OWNER)
            .filter(Q(end_date__isnull=True))
            .select_related("unit", "party")
            .order_by("unit__number", "start_date", "id")
            .iterator(CHUNK)
        )
        for rel in relations:
            p = rel.party
            yield [
                rel.unit.number,
                p.name,
                p.mobile if reveal else mask_phone(p.mobile),
                p.phone_alt if reveal else mask_phone(p.phone_alt),
                p.id_number if reveal else mask_id_number(p.id_number),
                p.email,
                p.mailing_address,
                rel.start_date,
                "是" if rel.is_payer else "否",
            ]


def _write_xlsx(file: IO[bytes], kind: str, rows: Iterator[list]) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet({"buildings": "楼栋", "units": "房屋", "owners": "业主"}[kind])
    sheet.append(headers(kind))
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
        count += 1
    book.save(file)
    return count


def _csv_safe(value) -> object:
    return csv_cell(value)


def _write_csv(file: IO[bytes], kind: str, rows: Iterator[list]) -> int:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(headers(kind))
    count = 0
    for row in rows:
        writer.writerow([_csv_safe(v) for v in row])
        count += 1
    text.flush()
    text.detach()
    return count


def export_write(*, actor, estate: Estate, kind: str, fmt: str, file: IO[bytes]) -> int:
    """Write the estate's `kind` records to `file` as `fmt`; return how many rows. One audit
    row of action "export". `actor=None` is the server's operator on the command line."""
    if kind not in KINDS:
        raise DomainError(_("unknown export kind %(kind)s") % {"kind": repr(kind)}, field="kind")
    if fmt not in FORMATS:
        raise DomainError(
            _("unknown format %(format)s: use xlsx or csv") % {"format": repr(fmt)},
            field="format",
        )
    reveal = True
    if actor is not None:
        if not actor.has_perm("registry.export_registry"):
            raise PermissionDenied(_("your role may not export the registry"))
        ids = visible_estate_ids(actor)
        if ids is not None and estate.pk not in ids:
            raise PermissionDenied(_("this estate is not one of yours"), field="estate")
        reveal = actor.has_perm("registry.view_pii")
    writer = _write_xlsx if fmt == "xlsx" else _write_csv
    count = writer(file, kind, _rows(kind, estate, reveal))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.EXPORT,
            subject=estate,
            estate_id=estate.pk,
            summary=Summary(
                gettext_noop("exported %(n)s %(kind)s as %(format)s"),
                n=count,
                kind=kind,
                format=fmt,
            ),
            after={"kind": kind, "format": fmt, "rows": count, "personal_data": reveal},
        )
    return count
