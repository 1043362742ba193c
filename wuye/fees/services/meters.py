"""Meters, readings (entered one by one or imported from a spreadsheet) and the apportionment
of shared master meters (公攤) to units.

A reading lower than the last accepted one, or a consumption spike (see
`calculations.reading_problem`), is stored `flagged` and is not billable until approved.
While a flagged reading waits for review no later reading of that meter is accepted, so a
consumption is never counted twice."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.core.normalize import clean_text
from wuye.core.spreadsheets import SpreadsheetRefused, open_xlsx, within_budget
from wuye.registry.models import Estate, Unit

from .. import calculations
from ..models import (
    ApportionmentLine,
    FeeItem,
    Meter,
    MeterReading,
    SharedApportionment,
)
from ._common import (
    AuditEvent,
    audit_record,
    require_estate,
    require_perm,
    snapshot,
    validated_save,
)

_READING_FIELDS = ["status", "value", "consumption", "flag_reason", "billed"]
STEP = calculations.CONSUMPTION_STEP


@transaction.atomic
def meter_create(
    *,
    actor,
    estate: Estate,
    serial: str,
    fee_item: FeeItem,
    unit: Unit | None = None,
    shared_units: list[Unit] | None = None,
) -> Meter:
    """A unit's own meter (`unit` given) or a shared master meter (`unit` None), apportioned
    over `shared_units` (none = every active unit of the estate)."""
    require_perm(actor, "fees.add_meter")
    require_estate(actor, estate.pk)
    serial = clean_text(serial)
    if not serial:
        raise DomainError(_("the meter needs a serial number"), field="serial")
    if fee_item.estate_id != estate.pk:
        raise DomainError(
            _("%(item)s belongs to another estate") % {"item": fee_item}, field="fee_item"
        )
    if fee_item.basis != FeeItem.Basis.METERED:
        raise DomainError(
            _("%(item)s (%(code)s) is not a metered item")
            % {"item": fee_item, "code": fee_item.code},
            field="fee_item",
        )
    units = [unit] if unit else list(shared_units or [])
    if any(u.estate_id != estate.pk for u in units):
        raise DomainError(_("a unit belongs to another estate"), field="unit")
    if Meter.objects.filter(estate=estate, serial=serial).exists():
        raise DomainError(
            _("meter %(serial)s already exists in %(estate)s")
            % {"serial": serial, "estate": estate},
            field="serial",
        )
    meter = Meter(
        estate=estate,
        unit=unit,
        fee_item=fee_item,
        serial=serial,
        kind=Meter.Kind.UNIT if unit else Meter.Kind.MASTER,
    )
    validated_save(meter, prefix=_("meter %(serial)s: ") % {"serial": serial})
    if unit is None and shared_units:
        meter.shared_units.set(shared_units)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=meter, after=snapshot(meter))
    return meter


def _consumption_value(value, *, what: str = "reading") -> Decimal:
    # `what` is "reading" or "consumption": the noun the messages name, translated here
    noun = {"reading": _("reading"), "consumption": _("consumption")}.get(what, what)
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(clean_text(value).replace(",", ""))
    except InvalidOperation as exc:
        raise DomainError(
            _("the %(what)s %(value)s is not a number") % {"what": noun, "value": repr(value)},
            field="value",
        ) from exc
    if not number.is_finite():
        raise DomainError(_("the %(what)s is not a number") % {"what": noun}, field="value")
    if number < 0:
        raise DomainError(_("the %(what)s cannot be negative") % {"what": noun}, field="value")
    if number != number.quantize(STEP):
        raise DomainError(
            _("the %(what)s %(value)s has more than 3 decimal places")
            % {"what": noun, "value": number},
            field="value",
        )
    return number.quantize(STEP)


@transaction.atomic
def reading_record(
    *, actor, meter: Meter, read_on: date, value: Decimal | str, today: date | None = None
) -> MeterReading:
    """Record a meter reading; returns the stored reading (flagged with its reason if odd).

    Idempotent: the same meter, day and value again returns the existing reading."""
    return _record(actor=actor, meter=meter, read_on=read_on, value=value, today=today)[0]


@transaction.atomic
def _record(
    *, actor, meter: Meter, read_on: date, value, today: date | None
) -> tuple[MeterReading, bool]:
    require_perm(actor, "fees.add_meterreading")
    require_estate(actor, meter.estate_id)
    meter = Meter.objects.select_for_update().get(pk=meter.pk)  # one writer per meter
    value = _consumption_value(value)
    if not meter.is_active:
        raise DomainError(
            _("meter %(serial)s is not in use") % {"serial": meter.serial}, field="serial"
        )
    if read_on > (today or timezone.localdate()):
        raise DomainError(
            _("meter %(serial)s: the reading date %(day)s is in the future")
            % {"serial": meter.serial, "day": read_on},
            field="read_on",
        )
    live = meter.readings.exclude(status=MeterReading.Status.REJECTED)
    same_day = live.filter(read_on=read_on).first()
    if same_day is not None:
        if same_day.value == value:
            return same_day, False
        raise DomainError(
            _(
                "meter %(serial)s was already read on %(day)s (%(value)s); "
                "reject that reading first to correct it"
            )
            % {"serial": meter.serial, "day": read_on, "value": same_day.value},
            field="value",
        )
    later = live.filter(read_on__gt=read_on).order_by("read_on").first()
    if later is not None:
        raise DomainError(
            _("meter %(serial)s has a later reading on %(day)s; readings are entered in date order")
            % {"serial": meter.serial, "day": later.read_on},
            field="read_on",
        )
    pending = live.filter(status=MeterReading.Status.FLAGGED).first()
    if pending is not None:
        raise DomainError(
            _(
                "meter %(serial)s: the reading of %(day)s is flagged and awaits "
                "review; approve or reject it first"
            )
            % {"serial": meter.serial, "day": pending.read_on},
            field="serial",
        )
    accepted = meter.readings.filter(status__in=MeterReading.BILLABLE).order_by("-read_on", "-id")
    last = accepted.first()
    history = list(
        accepted.filter(consumption__isnull=False).values_list("consumption", flat=True)[
            : calculations.SPIKE_HISTORY
        ]
    )
    consumption, reason = calculations.reading_problem(
        value=value, last_value=last.value if last else None, history=history
    )
    reading = MeterReading.objects.create(
        estate_id=meter.estate_id,
        meter=meter,
        read_on=read_on,
        value=value,
        consumption=consumption,
        status=MeterReading.Status.FLAGGED if reason else MeterReading.Status.OK,
        flag_reason=reason[:255],
        read_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=reading,
        summary=Summary(
            gettext_noop("meter %(serial)s read %(value)s on %(day)s (flagged: %(reason)s)")
            if reason
            else gettext_noop("meter %(serial)s read %(value)s on %(day)s"),
            serial=meter.serial,
            value=value,
            day=read_on,
            reason=reason,
        ),
        after=snapshot(reading, _READING_FIELDS),
    )
    return reading, True


def _locked_reading(reading: MeterReading) -> MeterReading:
    return MeterReading.objects.select_for_update().select_related("meter").get(pk=reading.pk)


@transaction.atomic
def reading_approve(
    *, actor, reading: MeterReading, consumption: Decimal | str | None = None, notes: str = ""
) -> MeterReading:
    """Accept a flagged reading, optionally setting the consumption to bill (e.g. after a meter
    was replaced: the new meter's reading itself). A negative consumption is never approved."""
    require_perm(actor, "fees.approve_meterreading")
    require_estate(actor, reading.estate_id)
    reading = _locked_reading(reading)
    serial = reading.meter.serial
    if reading.status != MeterReading.Status.FLAGGED:
        raise DomainError(
            _("meter %(serial)s: only a flagged reading needs approval (it is %(status)s)")
            % {"serial": serial, "status": reading.get_status_display()},
            field="status",
        )
    before = snapshot(reading, _READING_FIELDS)
    if consumption not in (None, ""):
        reading.consumption = _consumption_value(consumption, what="consumption")
    if reading.consumption is not None and reading.consumption < 0:
        raise DomainError(
            _(
                "meter %(serial)s: the reading is lower than the last one; give the consumption "
                "to bill (e.g. the new meter's reading after a replacement) or reject it"
            )
            % {"serial": serial},
            field="consumption",
        )
    reading.status = MeterReading.Status.APPROVED
    reading.reviewed_by = actor
    reading.reviewed_at = timezone.now()
    if clean_text(notes):
        reading.flag_reason = f"{reading.flag_reason} | {clean_text(notes)}"[:255]
    reading.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.APPROVE,
        subject=reading,
        summary=Summary(
            gettext_noop("meter %(serial)s reading of %(day)s approved"),
            serial=serial,
            day=reading.read_on,
        ),
        before=before,
        after=snapshot(reading, _READING_FIELDS),
    )
    return reading


@transaction.atomic
def reading_reject(*, actor, reading: MeterReading, reason: str) -> MeterReading:
    """Throw a reading out (misread, wrong meter). Only the meter's latest reading, not yet
    billed or apportioned, can be rejected; the meter can then be read again that day."""
    require_perm(actor, "fees.approve_meterreading")
    require_estate(actor, reading.estate_id)
    reason = clean_text(reason)
    if not reason:
        raise DomainError(_("say why the reading is rejected"), field="reason")
    reading = _locked_reading(reading)
    serial = reading.meter.serial
    if reading.status == MeterReading.Status.REJECTED:
        return reading
    if reading.billed:
        raise DomainError(
            _("meter %(serial)s: the reading is billed; correct it through billing")
            % {"serial": serial}
        )
    later = (
        MeterReading.objects.filter(meter_id=reading.meter_id, read_on__gt=reading.read_on)
        .exclude(status=MeterReading.Status.REJECTED)
        .exists()
    )
    if later:
        raise DomainError(
            _("meter %(serial)s: only the latest reading can be rejected") % {"serial": serial}
        )
    if reading.apportionments.exclude(status=SharedApportionment.Status.REJECTED).exists():
        raise DomainError(
            _("meter %(serial)s: reject the reading's apportionment first") % {"serial": serial}
        )
    before = snapshot(reading, _READING_FIELDS)
    reading.status = MeterReading.Status.REJECTED
    reading.reviewed_by = actor
    reading.reviewed_at = timezone.now()
    reading.flag_reason = f"rejected: {reason}"[:255]
    reading.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=reading,
        summary=Summary(
            gettext_noop("meter %(serial)s reading of %(day)s rejected: %(reason)s"),
            serial=serial,
            day=reading.read_on,
            reason=reason,
        ),
        before=before,
        after=snapshot(reading, _READING_FIELDS),
    )
    return reading


@transaction.atomic
def consumption_mark_billed(
    *, reading_ids: Sequence[int] = (), line_ids: Sequence[int] = ()
) -> None:
    """Billing calls this in the transaction that raises the charges for these consumptions.
    A row already billed (or not billable) is refused, so consumption is never charged twice."""
    if reading_ids:
        done = MeterReading.objects.filter(
            pk__in=reading_ids, billed=False, status__in=MeterReading.BILLABLE
        ).update(billed=True)
        if done != len(set(reading_ids)):
            raise DomainError(_("some meter readings are already billed or not billable"))
    if line_ids:
        done = ApportionmentLine.objects.filter(
            pk__in=line_ids,
            billed=False,
            apportionment__status=SharedApportionment.Status.APPROVED,
        ).update(billed=True)
        if done != len(set(line_ids)):
            raise DomainError(_("some apportioned consumptions are already billed or not approved"))


@transaction.atomic
def consumption_unmark_billed(
    *, reading_ids: Sequence[int] = (), line_ids: Sequence[int] = ()
) -> None:
    """Billing calls this when it cancels the charges raised for these consumptions (a
    cancelled bill run), in the same transaction: the rows become billable again. A row that is
    not marked billed is refused -- the charges and the flags would disagree -- and nothing
    changes."""
    if reading_ids:
        done = MeterReading.objects.filter(pk__in=reading_ids, billed=True).update(billed=False)
        if done != len(set(reading_ids)):
            raise DomainError(_("some meter readings to release are not billed"))
    if line_ids:
        done = ApportionmentLine.objects.filter(pk__in=line_ids, billed=True).update(billed=False)
        if done != len(set(line_ids)):
            raise DomainError(_("some apportioned consumptions to release are not billed"))


# --- import -------------------------------------------------------------------------------------

COLUMNS = {
    "serial": ("表号", "表號", "serial", "meter", "meter serial"),
    "read_on": ("读数日期", "讀數日期", "抄表日期", "read_on", "date", "read on"),
    "value": ("读数", "讀數", "本期读数", "本期讀數", "value", "reading"),
}
COLUMN_LABELS = {"serial": "表号/serial", "read_on": "读数日期/read_on", "value": "读数/value"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
MAX_ROWS = 50_000


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("row %(row)s, column %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


class ReadingImportError(DomainError):
    """The file has errors; nothing was written. `errors` lists each with row and column."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = _(" (and %(count)s more)") % {"count": len(errors) - 5} if len(errors) > 5 else ""
        super().__init__(
            _("%(count)s error(s), nothing imported: %(shown)s%(more)s")
            % {"count": len(errors), "shown": shown, "more": more},
            code="import",
        )


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    flagged: list[str] = field(default_factory=list)


def _header_key(value) -> str:
    return clean_text(value).lower().strip("*：: ")


def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and 20000 < value < 80000:  # an Excel serial day
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = clean_text(value)
    if isinstance(value, int | float):
        text = str(int(value))
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("%(text)s is not a date (use 2026-03-31)") % {"text": repr(text)})


def _serial(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value)


def _read_sheet(file) -> list[tuple[int, tuple]]:
    try:
        book = open_xlsx(file)
    except SpreadsheetRefused:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a bad file
        raise DomainError(
            _("not a readable .xlsx file: %(error)s") % {"error": exc}, field="file"
        ) from exc
    try:
        rows = enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)
        # a header, blank rows and at most MAX_ROWS readings: anything far beyond is refused
        return list(
            within_budget(rows, max_rows=2 * MAX_ROWS, max_cells=40 * MAX_ROWS, numbered=True)
        )
    finally:
        book.close()


@transaction.atomic
def readings_import(*, actor, estate: Estate, file, today: date | None = None) -> ImportResult:
    """Import readings of `estate` from an .xlsx file with columns 表号/serial,
    读数日期/read_on, 读数/value (a title row above the header is allowed).

    Every row is checked; if any row has an error nothing is written and ReadingImportError
    lists each error with its row and column. Re-importing the same file changes nothing."""
    require_perm(actor, "fees.add_meterreading")
    require_estate(actor, estate.pk)
    today = today or timezone.localdate()
    rows = _read_sheet(file)
    header_at, columns = None, {}
    for number, row in rows[:10]:
        found = {}
        for position, cell in enumerate(row):
            key = _header_key(cell)
            for name, aliases in COLUMNS.items():
                if key in aliases and name not in found:
                    found[name] = position
        if len(found) >= 2:
            header_at, columns = number, found
            break
    if header_at is None:
        raise ReadingImportError(
            [RowError(1, "", _("no header row with 表号/serial, 读数日期/read_on, 读数/value"))]
        )
    missing = [COLUMN_LABELS[n] for n in COLUMNS if n not in columns]
    if missing:
        raise ReadingImportError(
            [RowError(header_at, m, _("this column is missing")) for m in missing]
        )
    meters = {m.serial: m for m in Meter.objects.filter(estate=estate)}
    errors: list[RowError] = []
    parsed: list[tuple[int, Meter, date, Decimal]] = []
    seen: dict[tuple[str, date], int] = {}
    data_rows = [(n, r) for n, r in rows if n > header_at]
    if len(data_rows) > MAX_ROWS:
        raise ReadingImportError(
            [RowError(0, "", _("more than %(max)s rows; split the file") % {"max": MAX_ROWS})]
        )
    for number, row in data_rows:
        cells = {n: (row[p] if p < len(row) else None) for n, p in columns.items()}
        if all(v is None or clean_text(v) == "" for v in cells.values()):
            continue
        row_errors = []
        serial = _serial(cells["serial"])
        meter = meters.get(serial)
        if not serial:
            row_errors.append(RowError(number, COLUMN_LABELS["serial"], _("the serial is empty")))
        elif meter is None:
            row_errors.append(
                RowError(
                    number,
                    COLUMN_LABELS["serial"],
                    _("no meter %(serial)s in %(estate)s") % {"serial": serial, "estate": estate},
                )
            )
        read_on = None
        if cells["read_on"] is None or clean_text(cells["read_on"]) == "":
            row_errors.append(RowError(number, COLUMN_LABELS["read_on"], _("the date is empty")))
        else:
            try:
                read_on = _parse_date(cells["read_on"])
            except ValueError as exc:
                row_errors.append(RowError(number, COLUMN_LABELS["read_on"], str(exc)))
            else:
                if read_on > today:
                    row_errors.append(
                        RowError(
                            number,
                            COLUMN_LABELS["read_on"],
                            _("%(day)s is in the future") % {"day": read_on},
                        )
                    )
        value = None
        if cells["value"] is None or clean_text(cells["value"]) == "":
            row_errors.append(RowError(number, COLUMN_LABELS["value"], _("the reading is empty")))
        else:
            try:
                value = _consumption_value(cells["value"])
            except DomainError as exc:
                row_errors.append(RowError(number, COLUMN_LABELS["value"], exc.message))
        if meter is not None and read_on is not None:
            first = seen.setdefault((serial, read_on), number)
            if first != number:
                row_errors.append(
                    RowError(
                        number,
                        COLUMN_LABELS["serial"],
                        _("meter %(serial)s on %(day)s is already on row %(row)s")
                        % {"serial": serial, "day": read_on, "row": first},
                    )
                )
        if row_errors:
            errors.extend(row_errors)
        else:
            parsed.append((number, meter, read_on, value))
    if errors:
        raise ReadingImportError(errors)
    if not parsed:
        raise ReadingImportError([RowError(header_at + 1, "", _("the file has no readings"))])
    result = ImportResult()
    field_column = {"value": "value", "read_on": "read_on", "serial": "serial"}
    for number, meter, read_on, value in sorted(parsed, key=lambda p: (p[1].serial, p[2])):
        try:
            reading, created = _record(
                actor=actor, meter=meter, read_on=read_on, value=value, today=today
            )
        except DomainError as exc:
            column = COLUMN_LABELS.get(field_column.get(exc.field or "", ""), "")
            errors.append(RowError(number, column, exc.message))
            continue
        if not created:
            result.unchanged += 1
        else:
            result.created += 1
            if reading.status == MeterReading.Status.FLAGGED:
                result.flagged.append(f"row {number}: {meter.serial} {reading.flag_reason}")
    if errors:
        raise ReadingImportError(sorted(errors, key=lambda e: e.row))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.IMPORT,
        subject_type="fees.meterreading",
        estate_id=estate.pk,
        summary=Summary(
            gettext_noop("imported %(n)s readings (%(flagged)s flagged, %(same)s unchanged)"),
            n=result.created,
            flagged=len(result.flagged),
            same=result.unchanged,
        ),
    )
    return result


# --- shared master meters ------------------------------------------------------------------------


def _weights(units: list[Unit], method: str, formula: str) -> list[Decimal]:
    if method == SharedApportionment.Method.BY_HOUSEHOLD:
        return [Decimal(1)] * len(units)
    if method == SharedApportionment.Method.BY_AREA:
        unknown = [u.number for u in units if not u.gross_area]
        if unknown:
            raise DomainError(
                _("units without a gross area: %(units)s") % {"units": ", ".join(unknown[:5])}
                + (
                    _(" and %(count)s more") % {"count": len(unknown) - 5}
                    if len(unknown) > 5
                    else ""
                ),
                field="method",
            )
        return [u.gross_area for u in units]
    if method == SharedApportionment.Method.FORMULA:
        try:
            tree = calculations.formula_check(formula)
            weights = [
                calculations.formula_weight(
                    tree,
                    {
                        "area": u.gross_area or Decimal(0),
                        "floor": Decimal(u.floor or 0),
                        "occupied": Decimal(int(u.occupancy == Unit.Occupancy.OCCUPIED)),
                        "household": Decimal(1),
                    },
                )
                for u in units
            ]
        except ValueError as exc:
            raise DomainError(str(exc), field="formula") from exc
        negative = [u.number for u, w in zip(units, weights, strict=True) if w < 0]
        if negative:
            raise DomainError(
                _("the formula gives a negative weight for %(units)s")
                % {"units": ", ".join(negative[:5])},
                field="formula",
            )
        return weights
    raise DomainError(_("unknown method %(method)s") % {"method": repr(method)}, field="method")


@transaction.atomic
def apportionment_create(
    *, actor, reading: MeterReading, method: str, formula: str = ""
) -> SharedApportionment:
    """Split a master-meter reading's consumption over the meter's units (a draft until
    approved). The parts sum exactly to the consumption (`calculations.apportion`)."""
    require_perm(actor, "fees.add_sharedapportionment")
    require_estate(actor, reading.estate_id)
    reading = _locked_reading(reading)
    meter = reading.meter
    if meter.kind != Meter.Kind.MASTER:
        raise DomainError(
            _("meter %(serial)s is a unit's own meter, not a shared one") % {"serial": meter.serial}
        )
    if reading.status not in MeterReading.BILLABLE or reading.consumption is None:
        raise DomainError(
            _(
                "meter %(serial)s: the reading of %(day)s has no accepted consumption "
                "to share (a first reading, flagged or rejected)"
            )
            % {"serial": meter.serial, "day": reading.read_on},
            field="reading",
        )
    formula = formula.strip() if method == SharedApportionment.Method.FORMULA else ""
    if method == SharedApportionment.Method.FORMULA and not formula:
        raise DomainError(_("write the formula"), field="formula")
    existing = reading.apportionments.exclude(status=SharedApportionment.Status.REJECTED).first()
    if existing is not None:
        if existing.method == method and existing.formula == formula:
            return existing
        raise DomainError(
            _(
                "meter %(serial)s: the reading of %(day)s is already apportioned "
                "(%(method)s); reject that first"
            )
            % {
                "serial": meter.serial,
                "day": reading.read_on,
                "method": existing.get_method_display(),
            },
            field="reading",
        )
    units = list(meter.shared_units.filter(is_active=True).order_by("id"))
    if not units:
        units = list(Unit.objects.filter(estate_id=meter.estate_id, is_active=True).order_by("id"))
    if not units:
        raise DomainError(
            _("meter %(serial)s: no units to share it") % {"serial": meter.serial},
            field="reading",
        )
    weights = _weights(units, method, formula)
    try:
        parts = calculations.apportion(reading.consumption, weights)
    except ValueError as exc:
        raise DomainError(
            _("meter %(serial)s: %(error)s") % {"serial": meter.serial, "error": exc},
            field="method",
        ) from exc
    apportionment = SharedApportionment.objects.create(
        estate_id=meter.estate_id,
        reading=reading,
        method=method,
        formula=formula,
        total=reading.consumption,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    ApportionmentLine.objects.bulk_create(
        [
            ApportionmentLine(
                apportionment=apportionment,
                estate_id=meter.estate_id,
                unit=unit,
                weight=weight.quantize(Decimal("0.0001")),
                consumption=part,
            )
            for unit, weight, part in zip(units, weights, parts, strict=True)
            if weight > 0
        ]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject=apportionment,
        summary=Summary(
            gettext_noop("meter %(serial)s: %(consumption)s shared over %(units)s units"),
            serial=meter.serial,
            consumption=reading.consumption,
            units=len(units),
        ),
        after=snapshot(apportionment),
    )
    return apportionment


def _decide_apportionment(
    actor, apportionment, status: str, summary: Summary
) -> SharedApportionment:
    require_perm(actor, "fees.approve_sharedapportionment")
    require_estate(actor, apportionment.estate_id)
    apportionment = SharedApportionment.objects.select_for_update().get(pk=apportionment.pk)
    if apportionment.status != SharedApportionment.Status.DRAFT:
        raise DomainError(
            _("the apportionment is %(status)s already")
            % {"status": apportionment.get_status_display().lower()},
            field="status",
        )
    apportionment.status = status
    apportionment.approved_by = actor
    apportionment.approved_at = timezone.now()
    apportionment.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.APPROVE
        if status == SharedApportionment.Status.APPROVED
        else AuditEvent.Action.UPDATE,
        subject=apportionment,
        summary=summary,
        after={"status": status},
    )
    return apportionment


@transaction.atomic
def apportionment_approve(*, actor, apportionment: SharedApportionment) -> SharedApportionment:
    """Approve a draft apportionment; its lines become billable."""
    return _decide_apportionment(
        actor,
        apportionment,
        SharedApportionment.Status.APPROVED,
        Summary(gettext_noop("apportionment approved")),
    )


@transaction.atomic
def apportionment_reject(
    *, actor, apportionment: SharedApportionment, reason: str
) -> SharedApportionment:
    """Reject a draft apportionment (e.g. to redo it by another method)."""
    if not clean_text(reason):
        raise DomainError(_("say why the apportionment is rejected"), field="reason")
    return _decide_apportionment(
        actor,
        apportionment,
        SharedApportionment.Status.REJECTED,
        Summary(
            gettext_noop("apportionment rejected: %(reason)s"), reason=clean_text(reason)[:200]
        ),
    )
