"""Cancelling a bill run with metered charges releases their consumption to be billed again."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import Charge
from wuye.fees.models import FeeItem, Meter, MeterReading
from wuye.fees.services import meters
from wuye.registry.models import Party, Unit, UnitParty

D = Decimal
TODAY = date(2027, 1, 31)
pytestmark = pytest.mark.django_db


@pytest.fixture
def water(make_item):
    return make_item(
        "WATER",
        "水费",
        rate="4.20",
        basis=FeeItem.Basis.METERED,
        kind=FeeItem.Kind.WATER,
        meter_unit=FeeItem.MeterUnit.TON,
        timing=FeeItem.Timing.ARREARS,
    )


def read(actor, meter, day, value):
    return meters.reading_record(actor=actor, meter=meter, read_on=day, value=value, today=TODAY)


def open_charges(estate) -> list[tuple]:
    rows = Charge.objects.filter(estate=estate, status=Charge.Status.OPEN)
    return sorted(rows.values_list("unit_id", "fee_item__code", "idempotency_key", "amount"))


def test_a_cancelled_runs_readings_are_billed_again_once(
    owner, unit, water, property_fee, finance, supervisor, bill, books_balance
):
    # given a unit meter read 10 tons in December, billed with the property fee
    meter = Meter.objects.create(estate=unit.estate, unit=unit, fee_item=water, serial="W-301")
    read(finance, meter, date(2026, 11, 30), "100")
    reading = read(finance, meter, date(2026, 12, 31), "110")
    first = bill("2026-12")
    billed = open_charges(unit.estate)
    assert (unit.pk, "WATER", f"meter-reading:{reading.pk}", D("42.00")) in billed
    # when the run is cancelled with a supervisor's approval
    services.billing_run_cancel(run=first, actor=supervisor, reason="wrong water rate")
    # then the reading is billable again and nothing is owed
    assert not MeterReading.objects.get(pk=reading.pk).billed
    assert books_balance(unit.estate) == (D("0"), D("0"))
    # when December is billed again
    again = bill("2026-12")
    # then the same consumption and the property fee are billed once more, once
    assert again.charges_created == 2
    assert open_charges(unit.estate) == billed
    assert MeterReading.objects.get(pk=reading.pk).billed
    assert Charge.objects.filter(idempotency_key=f"meter-reading:{reading.pk}").count() == 2
    assert books_balance(unit.estate) == (D("292.60"), D("292.60"))
    # and a further run adds nothing
    assert bill("2026-12").charges_created == 0
    assert books_balance(unit.estate) == (D("292.60"), D("292.60"))


def test_a_cancelled_runs_apportioned_shares_are_billed_again(
    building, unit, owner, water, finance, supervisor, bill, books_balance
):
    # given a master meter shared by two units, 10 tons apportioned, approved and billed
    other = Unit.objects.create(
        estate=unit.estate, building=building, number="1-1-302", gross_area=D("60.00")
    )
    li = Party.objects.create(estate=unit.estate, name="李娜")
    UnitParty.objects.create(estate=unit.estate, unit=other, party=li, start_date=date(2025, 1, 1))
    master = meters.meter_create(
        actor=finance, estate=unit.estate, serial="W-M", fee_item=water, shared_units=[unit, other]
    )
    read(finance, master, date(2026, 11, 30), "1000")
    share = meters.apportionment_create(
        actor=finance,
        reading=read(finance, master, date(2026, 12, 31), "1010"),
        method="by_household",
    )
    meters.apportionment_approve(actor=supervisor, apportionment=share)
    first = bill("2026-12")
    billed = open_charges(unit.estate)
    assert len(billed) == 2
    # when the run is cancelled and December billed again
    services.billing_run_cancel(run=first, actor=supervisor, reason="apportioned too early")
    again = bill("2026-12")
    # then both shares are billed again, once each, and the books agree
    assert again.charges_created == 2
    assert open_charges(unit.estate) == billed
    assert books_balance(unit.estate) == (D("42.00"), D("42.00"))
