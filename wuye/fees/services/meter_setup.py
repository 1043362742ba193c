"""Registering, replacing and retiring meters (finance, supervisors), each one transaction
with its audit rows.

- Registering: a unit's own meter, or a shared master meter over a list of units (none:
  every active unit of the estate), optionally with its first reading (the baseline).
- Replacing (換表): the old meter's final reading and the new meter's initial reading on the
  same day. The final reading bills the old meter's last consumption (flagged as usual if it
  looks wrong); the initial reading is the new meter's baseline, so nothing between the two
  meters is billed twice or lost. The new meter keeps the old one's unit or shared units.
- Retiring (a unit merged, a meter removed): an optional final reading, then no readings.
- The units a shared meter is shared by can be changed; apportionments already made keep
  the units they were made over."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.audit.summaries import Summary
from wuye.core.errors import DomainError
from wuye.core.normalize import clean_text
from wuye.registry.models import Estate, Unit

from ..models import FeeItem, Meter, MeterReading
from ._common import AuditEvent, audit_record, require_estate, require_perm, snapshot
from .meters import meter_create, reading_record

_FIELDS = ["serial", "kind", "unit", "fee_item", "is_active", "installed_on", "retired_on"]


def _reading(actor, meter: Meter, on: date, value, today: date | None) -> MeterReading | None:
    if value in (None, ""):
        return None
    return reading_record(actor=actor, meter=meter, read_on=on, value=value, today=today)


@transaction.atomic
def meter_register(
    *,
    actor,
    estate: Estate,
    serial: str,
    fee_item: FeeItem,
    unit: Unit | None = None,
    shared_units: list[Unit] | None = None,
    installed_on: date | None = None,
    initial_reading: Decimal | str | None = None,
    today: date | None = None,
) -> Meter:
    """A new meter (see `meters.meter_create`), with its installation day and, if given, its
    first reading on that day."""
    today = today or timezone.localdate()
    on = installed_on or today
    if on > today:
        raise DomainError(
            _("the installation day %(day)s is in the future") % {"day": on}, field="installed_on"
        )
    meter = meter_create(
        actor=actor,
        estate=estate,
        serial=serial,
        fee_item=fee_item,
        unit=unit,
        shared_units=shared_units,
    )
    Meter.objects.filter(pk=meter.pk).update(installed_on=on)
    meter.installed_on = on
    _reading(actor, meter, on, initial_reading, today)
    return meter


def _locked(meter: Meter) -> Meter:
    return Meter.objects.select_for_update().select_related("fee_item", "estate").get(pk=meter.pk)


def _retire(actor, meter: Meter, on: date, summary: Summary) -> None:
    if meter.readings.filter(read_on__gt=on).exclude(status=MeterReading.Status.REJECTED).exists():
        raise DomainError(
            _("meter %(serial)s has readings after %(day)s") % {"serial": meter.serial, "day": on},
            field="on",
        )
    before = snapshot(meter, _FIELDS)
    meter.is_active = False
    meter.retired_on = on
    meter.save(update_fields=["is_active", "retired_on"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        subject=meter,
        summary=summary,
        before=before,
        after=snapshot(meter, _FIELDS),
    )


def _check_active(meter: Meter, on: date, today: date) -> None:
    if not meter.is_active:
        raise DomainError(
            _("meter %(serial)s is retired already") % {"serial": meter.serial}, field="serial"
        )
    if on > today:
        raise DomainError(_("%(day)s is in the future") % {"day": on}, field="on")


@transaction.atomic
def meter_replace(
    *,
    actor,
    meter: Meter,
    on: date,
    final_reading: Decimal | str,
    new_serial: str,
    initial_reading: Decimal | str,
    today: date | None = None,
) -> Meter:
    """Replace `meter` on `on`: its final reading, then the new meter `new_serial` with its
    initial reading the same day. Returns the new meter."""
    require_perm(actor, "fees.change_meter")
    require_estate(actor, meter.estate_id)
    today = today or timezone.localdate()
    meter = _locked(meter)
    _check_active(meter, on, today)
    if final_reading in (None, "") or initial_reading in (None, ""):
        raise DomainError(
            _("a replacement needs the old meter's final and the new meter's initial reading"),
            field="final_reading" if final_reading in (None, "") else "initial_reading",
        )
    if clean_text(new_serial) == meter.serial:
        raise DomainError(
            _("the new meter needs its own serial number, not %(serial)s")
            % {"serial": meter.serial},
            field="new_serial",
        )
    reading_record(actor=actor, meter=meter, read_on=on, value=final_reading, today=today)
    _retire(
        actor,
        meter,
        on,
        Summary(
            gettext_noop("meter %(serial)s replaced on %(day)s by %(new)s"),
            serial=meter.serial,
            day=on,
            new=clean_text(new_serial),
        ),
    )
    new = meter_create(
        actor=actor,
        estate=meter.estate,
        serial=new_serial,
        fee_item=meter.fee_item,
        unit=meter.unit,
        shared_units=list(meter.shared_units.all()) if meter.unit_id is None else None,
    )
    Meter.objects.filter(pk=new.pk).update(installed_on=on, replaces=meter)
    new.installed_on, new.replaces = on, meter
    reading_record(actor=actor, meter=new, read_on=on, value=initial_reading, today=today)
    return new


@transaction.atomic
def meter_retire(
    *,
    actor,
    meter: Meter,
    on: date,
    final_reading: Decimal | str | None = None,
    today: date | None = None,
) -> Meter:
    """Take `meter` out of use on `on`, after its final reading if one is given."""
    require_perm(actor, "fees.change_meter")
    require_estate(actor, meter.estate_id)
    today = today or timezone.localdate()
    meter = _locked(meter)
    _check_active(meter, on, today)
    _reading(actor, meter, on, final_reading, today)
    _retire(
        actor,
        meter,
        on,
        Summary(gettext_noop("meter %(serial)s retired on %(day)s"), serial=meter.serial, day=on),
    )
    return meter


@transaction.atomic
def meter_shared_units_set(*, actor, meter: Meter, units: list[Unit]) -> Meter:
    """The units a shared master meter is apportioned over (empty: every active unit)."""
    require_perm(actor, "fees.change_meter")
    require_estate(actor, meter.estate_id)
    meter = _locked(meter)
    if meter.kind != Meter.Kind.MASTER:
        raise DomainError(
            _("meter %(serial)s is a unit's own meter, not a shared one")
            % {"serial": meter.serial},
            field="units",
        )
    if any(u.estate_id != meter.estate_id for u in units):
        raise DomainError(_("a unit belongs to another estate"), field="units")
    before = sorted(meter.shared_units.values_list("number", flat=True))
    meter.shared_units.set(units)
    after = sorted(u.number for u in units)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            subject=meter,
            summary=Summary(
                gettext_noop("meter %(serial)s shared by %(n)s units")
                if after
                else gettext_noop("meter %(serial)s shared by every unit"),
                serial=meter.serial,
                n=len(after),
            ),
            before={"shared_units": before},
            after={"shared_units": after},
        )
    return meter
