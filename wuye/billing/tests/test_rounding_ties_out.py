"""Rounding ties out (issue 11 point 19): wherever an amount is split, the parts add up to the
whole by largest remainder -- a month between seller and buyer, a shared meter's reading."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing.models import Charge
from wuye.fees.models import FeeItem
from wuye.fees.services import meters
from wuye.registry.models import Party, Unit, UnitParty

D = Decimal
TODAY = date(2027, 1, 31)
pytestmark = pytest.mark.django_db


def own(unit, name, start, end=None):
    party = Party.objects.create(estate=unit.estate, name=name)
    UnitParty.objects.create(
        estate=unit.estate, unit=unit, party=party, start_date=start, end_date=end
    )
    return party


def test_a_month_sold_halfway_bills_exactly_one_months_fee(building, property_fee, bill):
    # given a unit of 89.51 m² at 2.80 (250.628 a month: 250.63) sold on 16 November
    unit = Unit.objects.create(
        estate=building.estate,
        building=building,
        number="2-1-101",
        gross_area=D("89.51"),
        fee_start_date=date(2025, 1, 1),
    )
    seller = own(unit, "王强", date(2025, 1, 1), date(2026, 11, 15))
    buyer = own(unit, "赵敏", date(2026, 11, 16))
    # when November is billed
    bill("2026-11")
    # then each has half (125.314) and the halves add up to the month, not to 250.62
    parts = {c.party: c.amount for c in Charge.objects.filter(period="2026-11")}
    assert parts == {seller: D("125.32"), buyer: D("125.31")}
    assert sum(parts.values()) == D("250.63")


def test_a_shared_meters_shares_add_up_to_what_the_reading_costs(
    building, unit, owner, make_item, finance, supervisor, bill, books_balance
):
    # given a master water meter at 3.35 a ton shared by three households
    water = make_item(
        "WATER",
        "水费",
        rate="3.35",
        basis=FeeItem.Basis.METERED,
        kind=FeeItem.Kind.WATER,
        meter_unit=FeeItem.MeterUnit.TON,
        timing=FeeItem.Timing.ARREARS,
    )
    others = []
    for number in ("1-1-302", "1-1-303"):
        other = Unit.objects.create(
            estate=unit.estate, building=building, number=number, gross_area=D("60.00")
        )
        own(other, f"业主{number}", date(2025, 1, 1))
        others.append(other)
    master = meters.meter_create(
        actor=finance,
        estate=unit.estate,
        serial="W-M",
        fee_item=water,
        shared_units=[unit, *others],
    )
    meters.reading_record(
        actor=finance, meter=master, read_on=date(2026, 11, 30), value="1000", today=TODAY
    )
    reading = meters.reading_record(
        actor=finance, meter=master, read_on=date(2026, 12, 31), value="1001", today=TODAY
    )
    share = meters.apportionment_create(actor=finance, reading=reading, method="by_household")
    meters.apportionment_approve(actor=supervisor, apportionment=share)
    # when December is billed (1 ton: 0.334 + 0.333 + 0.333)
    bill("2026-12", actor=finance)
    # then the three shares cost 3.35 together, not 1.12 x 3 = 3.36
    amounts = sorted(
        Charge.objects.filter(fee_item=water).values_list("amount", flat=True), reverse=True
    )
    assert amounts == [D("1.12"), D("1.12"), D("1.11")]
    assert sum(amounts) == D("3.35")
