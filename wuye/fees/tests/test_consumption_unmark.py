"""Releasing billed consumption (a cancelled bill run): the rows become billable again."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.core.errors import DomainError
from wuye.fees import selectors, services
from wuye.fees.models import ApportionmentLine, MeterReading
from wuye.fees.services.meters import consumption_unmark_billed
from wuye.registry.models import Unit

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 31)


def read(actor, meter, day, value):
    return services.reading_record(
        actor=actor, meter=meter, read_on=day, value=Decimal(value), today=TODAY
    )


def billable(estate, item):
    rows = selectors.billable_consumption(estate_id=estate.pk, fee_item=item, until=TODAY)
    return sorted((r["source"], r["id"]) for r in rows)


@pytest.fixture
def reading(finance, estate, unit, water_item):
    meter = services.meter_create(
        actor=finance, estate=estate, serial="W-0301", fee_item=water_item, unit=unit
    )
    read(finance, meter, date(2026, 11, 30), "100")
    return read(finance, meter, date(2026, 12, 31), "110")


@pytest.fixture
def lines(finance, supervisor, estate, building, water_item):
    units = [
        Unit.objects.create(estate=estate, building=building, number=f"2-1-{n}", floor=n)
        for n in (1, 2)
    ]
    master = services.meter_create(
        actor=finance, estate=estate, serial="M-2", fee_item=water_item, shared_units=units
    )
    read(finance, master, date(2026, 11, 30), "1000")
    shared = read(finance, master, date(2026, 12, 31), "1010")
    share = services.apportionment_create(actor=finance, reading=shared, method="by_household")
    services.apportionment_approve(actor=supervisor, apportionment=share)
    return list(ApportionmentLine.objects.filter(apportionment=share).order_by("id"))


def test_released_consumption_is_billable_again(reading, lines, estate, water_item):
    # given a reading and two apportioned lines, all billed
    everything = billable(estate, water_item)
    line_ids = [line.pk for line in lines]
    services.consumption_mark_billed(reading_ids=[reading.pk], line_ids=line_ids)
    assert billable(estate, water_item) == []
    # when billing releases them
    consumption_unmark_billed(reading_ids=[reading.pk], line_ids=line_ids)
    # then the same rows are billable again, and can be marked billed once more
    assert billable(estate, water_item) == everything
    services.consumption_mark_billed(reading_ids=[reading.pk], line_ids=line_ids)
    assert MeterReading.objects.get(pk=reading.pk).billed


def test_releasing_a_row_not_billed_is_refused_and_changes_nothing(
    reading, lines, estate, water_item
):
    # given the reading billed, the apportioned lines not
    services.consumption_mark_billed(reading_ids=[reading.pk])
    # when both are released together
    with pytest.raises(DomainError, match="apportioned consumptions to release are not billed"):
        consumption_unmark_billed(reading_ids=[reading.pk], line_ids=[lines[0].pk])
    # then the reading stays billed: nothing was half-done
    assert MeterReading.objects.get(pk=reading.pk).billed
    with pytest.raises(DomainError, match="meter readings to release are not billed"):
        consumption_unmark_billed(reading_ids=[lines[0].pk + 10_000])
