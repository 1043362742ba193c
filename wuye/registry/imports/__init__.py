"""Importing buildings, units and owners from .xlsx or .csv files (CLI and staff UI).

`import_check` reads and validates a whole file and reports every error with its row, column
and reason, writing nothing. `import_apply` does the same and, only when the file is clean,
writes everything in one transaction with bulk inserts and one audit row of action "import".

Decisions (docs: the module docstrings and README):
- A units row naming a building that neither exists nor can be resolved (`3栋` -> `3`) is an
  error unless the importer allows creating buildings (`--create-buildings`, a checkbox).
- A unit, building or ownership that already exists is an error ("already exists") unless
  updates are allowed (`--update`); then the non-blank cells overwrite, blank cells keep.
- A units row may carry the owner (业主姓名, 手机, 证件号): the owner is recorded from the
  handover date (else the fee start date, else the import day) as the designated payer.
- Owners are matched by name among the unit's current owners, then by name and mobile in
  the estate; otherwise a new party is made (one per name+mobile or name+ID in the file).
- Ownership follows `unit_party_add`: a new owner ends other open ownerships of the unit the
  day before its start date, which must be later; several rows for one unit are co-owners.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.core.errors import DomainError, PermissionDenied

from ..models import Estate
from ..selectors import visible_estate_ids
from . import plan as planning
from .hanzi import simplified
from .plan import Checked, Plan, RowError
from .progress import WRITING, Progress, counted
from .reading import FileUnreadable, Sheet, Workbook, open_table, rows_estimate
from .write import apply

KINDS = ("buildings", "units", "owners")
KIND_NOUNS = {"buildings": "buildings", "units": "units", "owners": "ownerships"}
SHEET_NAMES = {
    "buildings": {"楼栋", "楼栋表", "buildings", "building"},
    "units": {"房屋", "房间", "房号", "房屋清单", "units", "unit"},
    "owners": {"业主", "业主表", "owners", "owner", "parties"},
}


@dataclass
class ImportReport:
    """The outcome of checking (and perhaps applying) one file."""

    kind: str
    estate: Estate
    filename: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    sha256: str = ""
    written: bool = False
    checked: Checked | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def imported(self) -> int:
        """How many of the kind's records were created or updated."""
        key = {"buildings": "buildings", "units": "units", "owners": "ownerships"}[self.kind]
        if self.kind == "owners":
            return self.counts.get("ownerships_created", 0) + self.counts.get("parties_updated", 0)
        return self.counts.get(f"{key}_created", 0) + self.counts.get(f"{key}_updated", 0)

    def error_lines(self) -> list[str]:
        return [error.format(self.filename) for error in self.errors]


class ImportRejected(DomainError):
    """The file has errors; nothing was written. `report.errors` lists every one."""

    def __init__(self, report: ImportReport):
        super().__init__(
            _("%(count)s errors in %(file)s; nothing was imported")
            % {"count": len(report.errors), "file": report.filename},
            code="import_rejected",
        )
        self.report = report


def authorise(actor, estate: Estate) -> None:
    """Checked once per import: the import permission and the estate. `actor=None` is the
    server's operator on the command line (as for every service)."""
    if actor is None:
        return
    if not actor.has_perm("registry.import_registry"):
        raise PermissionDenied(_("your role may not import the registry"))
    ids = visible_estate_ids(actor)
    if ids is not None and estate.pk not in ids:
        raise PermissionDenied(_("this estate is not one of yours"), field="estate")


def _pick_sheet(book: Workbook, kind: str) -> Sheet:
    if len(book.sheets) == 1:
        return book.sheets[0]
    names = SHEET_NAMES[kind]
    for sheet in book.sheets:
        if simplified(sheet.name.strip().lower()) in names:
            return sheet
    return book.sheets[0]


def file_sha256(file: IO[bytes]) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1 << 20), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def import_check(
    *,
    actor,
    estate: Estate,
    kind: str,
    file: IO[bytes],
    filename: str,
    update: bool = False,
    create_buildings: bool = False,
    progress: Progress | None = None,
    keep_plan: bool = False,
) -> ImportReport:
    """Read and validate the whole file; write nothing. Every error is in `report.errors`.
    `progress` hears how many of the sheet's rows have been read, every thousand. The plan
    of what to write is kept (in `report.checked.plan`) only with `keep_plan`; otherwise it
    only counts the new records, in a fraction of the memory."""
    if kind not in KINDS:
        raise DomainError(
            _("unknown import kind %(kind)s: use %(kinds)s")
            % {"kind": repr(kind), "kinds": ", ".join(KINDS)},
            field="kind",
        )
    authorise(actor, estate)
    report = ImportReport(kind=kind, estate=estate, filename=filename, sha256=file_sha256(file))
    checked = Checked(plan=Plan() if keep_plan else Plan.counting())
    try:
        book = open_table(file, filename)
    except FileUnreadable as exc:
        report.errors = [RowError(1, "", str(exc))]
        return report
    try:
        sheet = _pick_sheet(book, kind)
        if progress is not None:
            sheet.rows = counted(sheet.rows, sheet.count_rows(), progress)
        if kind == "buildings":
            planning.check_buildings(sheet, estate=estate, update=update, checked=checked)
        elif kind == "units":
            planning.check_units(
                sheet,
                estate=estate,
                update=update,
                create_buildings=create_buildings,
                checked=checked,
            )
        else:
            planning.check_owners(sheet, estate=estate, update=update, checked=checked)
    except FileUnreadable as exc:  # found while reading: too many rows or cells, ...
        report.errors = [RowError(1, "", str(exc))]
        return report
    finally:
        book.close()
    if not checked.errors and checked.rows == 0:
        checked.errors.append(RowError(2, "", _("the file has no rows to import")))
    checked.errors.sort(key=lambda e: e.row)
    report.rows = checked.rows
    report.errors = checked.errors
    report.columns = [shown for shown, _column in checked.columns]
    report.ignored_columns = checked.ignored_columns
    report.preview = checked.preview
    report.counts = checked.plan.counts()
    report.checked = checked
    return report


def import_apply(
    *,
    actor,
    estate: Estate,
    kind: str,
    file: IO[bytes],
    filename: str,
    update: bool = False,
    create_buildings: bool = False,
    progress: Progress | None = None,
    before_commit: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Validate the whole file and, if it has no error at all, write it in one transaction
    with one audit row. Raises `ImportRejected` (nothing written) otherwise.

    The check runs outside the transaction (a minute of reading must not hold the write lock
    that SQLite's IMMEDIATE transactions take); `progress` hears of rows read, then of
    records written. `before_commit(report)` runs last inside the transaction: what it
    writes commits with the import or not at all (the import job's `done`)."""
    report = import_check(
        actor=actor,
        estate=estate,
        kind=kind,
        file=file,
        filename=filename,
        update=update,
        create_buildings=create_buildings,
        progress=progress,
        keep_plan=True,
    )
    if not report.ok:
        raise ImportRejected(report)
    if progress is not None:  # told before the transaction, where everyone can see it
        progress(WRITING, 0, report.checked.plan.records())
    try:
        with transaction.atomic():
            apply(report.checked.plan, estate_id=estate.pk, progress=progress)
            audit_record(
                actor=actor,
                action=AuditEvent.Action.IMPORT,
                subject=estate,
                estate_id=estate.pk,
                summary=(
                    f"imported {report.imported} {KIND_NOUNS[kind]} from {filename} "
                    f"({report.rows} rows)"
                ),
                after={
                    "kind": kind,
                    "file": filename,
                    "sha256": report.sha256,
                    "rows": report.rows,
                    "update": update,
                    "create_buildings": create_buildings,
                    **report.counts,
                },
            )
            if before_commit is not None:
                before_commit(report)
    except IntegrityError as exc:
        raise DomainError(
            _("the registry changed while importing (%(error)s); nothing was written, run it again")
            % {"error": exc}
        ) from exc
    report.written = True
    report.checked = None  # free the plan's objects
    return report


__all__ = [
    "KINDS",
    "ImportRejected",
    "ImportReport",
    "Progress",
    "RowError",
    "file_sha256",
    "import_apply",
    "import_check",
    "rows_estimate",
]
