"""Meter readings: flags for odd readings, the spreadsheet import, shared-meter apportionment."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from wuye.audit.models import AuditEvent
from wuye.core.errors import DomainError, PermissionDenied
from wuye.fees import calculations, selectors, services
from wuye.fees.models import MeterReading, SharedApportionment
from wuye.registry.models import Unit

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 31)


@pytest.fixture
def meter(finance, estate, unit, water_item):
    return services.meter_create(
        actor=finance, estate=estate, serial="W-0301", fee_item=water_item, unit=unit
    )


def read(actor, meter, day, value):
    return services.reading_record(
        actor=actor, meter=meter, read_on=day, value=Decimal(value), today=TODAY
    )


def test_readings_give_consumption_from_the_last_one(finance, meter, estate, water_item):
    # given a first reading (the baseline) and a second one a month later
    first = read(finance, meter, date(2026, 1, 31), "100.000")
    second = read(finance, meter, date(2026, 2, 28), "112.500")
    # then the second carries the consumption and is billable
    assert first.consumption is None and first.status == "ok"
    assert second.consumption == Decimal("12.500") and second.status == "ok"
    rows = selectors.billable_consumption(
        estate_id=estate.pk, fee_item=water_item, until=date(2026, 2, 28)
    )
    assert [(r["source"], r["id"], r["consumption"]) for r in rows] == [
        ("reading", second.pk, Decimal("12.500"))
    ]


def test_a_reading_lower_than_the_last_is_flagged_not_billable(
    finance, supervisor, meter, estate, water_item
):
    # given a reading of 500
    read(finance, meter, date(2026, 1, 31), "500")
    # when the next one is lower
    low = read(finance, meter, date(2026, 2, 28), "480")
    # then it is stored flagged with the reason, and billing does not see it
    assert low.status == MeterReading.Status.FLAGGED
    assert "lower than the last reading 500" in low.flag_reason
    assert not selectors.billable_consumption(estate_id=estate.pk, fee_item=water_item, until=TODAY)
    # and no later reading is taken until it is reviewed
    with pytest.raises(DomainError, match="flagged and awaits review"):
        read(finance, meter, date(2026, 3, 31), "490")
    # a negative consumption is never approved as such; the reviewer gives the real one
    with pytest.raises(DomainError, match="give the consumption"):
        services.reading_approve(actor=supervisor, reading=low)
    approved = services.reading_approve(
        actor=supervisor, reading=low, consumption="12", notes="换表, 新表读数480"
    )
    assert approved.status == "approved" and approved.consumption == Decimal("12.000")
    assert AuditEvent.objects.filter(subject_type="fees.meterreading", action="approve").exists()


def test_a_spike_is_flagged_against_the_average_of_the_last_six(finance, meter):
    # given six months of about 10 tons
    value = Decimal(100)
    read(finance, meter, date(2026, 1, 1), value)
    for month, used in zip(range(2, 8), ("9", "11", "10", "10", "12", "8"), strict=True):
        value += Decimal(used)
        assert read(finance, meter, date(2026, month, 1), value).status == "ok"
    # when a month uses 31 tons (above 3 x 10 and above the minimum)
    spike = read(finance, meter, date(2026, 8, 1), value + 31)
    # then it is flagged, naming the average
    assert spike.status == "flagged"
    assert "above 3x the average 10.000 of the last 6 readings" in spike.flag_reason


def test_a_small_spike_below_the_minimum_is_not_flagged(finance, meter):
    read(finance, meter, date(2026, 1, 1), "100")
    read(finance, meter, date(2026, 2, 1), "101")  # used 1
    reading = read(finance, meter, date(2026, 3, 1), "106")  # used 5: 5x, but under 10 tons
    assert reading.status == "ok"


def test_recording_the_same_reading_twice_stores_it_once(finance, meter):
    first = read(finance, meter, date(2026, 1, 31), "100")
    again = read(finance, meter, date(2026, 1, 31), "100")
    assert first.pk == again.pk and MeterReading.objects.count() == 1
    with pytest.raises(DomainError, match="already read on 2026-01-31"):
        read(finance, meter, date(2026, 1, 31), "101")


def test_only_a_supervisor_approves_a_flagged_reading(finance, meter):
    read(finance, meter, date(2026, 1, 31), "500")
    low = read(finance, meter, date(2026, 2, 28), "480")
    with pytest.raises(PermissionDenied):
        services.reading_approve(actor=finance, reading=low, consumption="5")


def test_a_rejected_reading_can_be_read_again(finance, supervisor, meter):
    read(finance, meter, date(2026, 1, 31), "500")
    low = read(finance, meter, date(2026, 2, 28), "480")
    services.reading_reject(actor=supervisor, reading=low, reason="抄错")
    again = read(finance, meter, date(2026, 2, 28), "508")
    assert again.status == "ok" and again.consumption == Decimal("8.000")


def test_consumption_is_never_billed_twice(finance, meter, estate, water_item):
    read(finance, meter, date(2026, 1, 31), "100")
    second = read(finance, meter, date(2026, 2, 28), "110")
    services.consumption_mark_billed(reading_ids=[second.pk])
    with pytest.raises(DomainError, match="already billed"):
        services.consumption_mark_billed(reading_ids=[second.pk])
    assert not selectors.billable_consumption(estate_id=estate.pk, fee_item=water_item, until=TODAY)


# --- import -----------------------------------------------------------------------------------


def xlsx(rows) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


@pytest.fixture
def meters(finance, estate, building, water_item):
    made = {}
    for n in range(1, 4):
        unit = Unit.objects.create(
            estate=estate, building=building, number=f"1-1-{n}01", gross_area=Decimal("80")
        )
        made[n] = services.meter_create(
            actor=finance, estate=estate, serial=f"1000{n}", fee_item=water_item, unit=unit
        )
    return made


def test_a_messy_but_valid_readings_file_is_imported(finance, meters, estate):
    # given a sheet as a meter reader keeps it: a title row, decorated headers, numeric
    # serials, dates in three styles, full-width digits, thousands separators, blank rows
    file = xlsx(
        [
            ["2026年1-2月 抄表记录", None, None],
            [" 表号* ", "读数日期：", "读数 "],
            [10001, datetime(2026, 1, 31), 1200],
            [10001.0, "2026/2/28", "1,215.5"],
            [None, None, None],
            ["10002", "2026.01.31", "８８"],
            ["10002", "20260228", 96.25],
            ["10003", "2026年1月31日", "1000"],
            ["10003", "2026-02-28", "900"],  # lower: stored flagged, not an error
        ]
    )
    # when it is imported
    result = services.readings_import(actor=finance, estate=estate, file=file, today=TODAY)
    # then every reading is stored, the odd one flagged
    assert result.created == 6 and result.unchanged == 0
    assert len(result.flagged) == 1 and "10003" in result.flagged[0]
    consumption = dict(
        MeterReading.objects.filter(read_on=date(2026, 2, 28)).values_list(
            "meter__serial", "consumption"
        )
    )
    assert consumption == {
        "10001": Decimal("15.500"),
        "10002": Decimal("8.250"),
        "10003": Decimal("-100.000"),
    }
    assert AuditEvent.objects.filter(action="import", subject_type="fees.meterreading").exists()
    # and importing the same file again changes nothing
    file.seek(0)
    again = services.readings_import(actor=finance, estate=estate, file=file, today=TODAY)
    assert again.created == 0 and again.unchanged == 6
    assert MeterReading.objects.count() == 6


def test_a_file_with_errors_writes_nothing_and_names_each_row_and_column(finance, meters, estate):
    file = xlsx(
        [
            ["serial", "read_on", "value"],
            ["10001", "2026-01-31", "1200"],  # fine
            ["99999", "2026-01-31", "5"],  # unknown meter
            ["10002", "31/01/2026", "5"],  # ambiguous date style
            ["10003", "2026-01-31", "-3"],  # negative
            ["10003", "2026-02-28", "abc"],  # not a number
            ["10001", "2026-01-31", "1200"],  # same meter and day twice
            ["", "2026-01-31", "7"],  # no serial
            ["10002", "2027-05-01", "7"],  # in the future
        ]
    )
    with pytest.raises(services.ReadingImportError) as err:
        services.readings_import(actor=finance, estate=estate, file=file, today=TODAY)
    found = {(e.row, e.column) for e in err.value.errors}
    assert found == {
        (3, "表号/serial"),
        (4, "读数日期/read_on"),
        (5, "读数/value"),
        (6, "读数/value"),
        (7, "表号/serial"),
        (8, "表号/serial"),
        (9, "读数日期/read_on"),
    }
    messages = " | ".join(str(e) for e in err.value.errors)
    assert "no meter 99999" in messages and "is already on row 2" in messages
    assert "in the future" in messages
    assert MeterReading.objects.count() == 0


def test_a_file_without_the_columns_is_refused(finance, meters, estate):
    with pytest.raises(services.ReadingImportError, match="no header row"):
        services.readings_import(
            actor=finance, estate=estate, file=xlsx([["房号", "金额"], ["1-1-101", "5"]])
        )
    with pytest.raises(services.ReadingImportError, match="读数/value"):
        services.readings_import(
            actor=finance, estate=estate, file=xlsx([["表号", "读数日期"], ["10001", "2026-01-31"]])
        )
    with pytest.raises(DomainError, match="not a readable .xlsx"):
        services.readings_import(actor=finance, estate=estate, file=io.BytesIO(b"a,b\n1,2"))


# --- shared master meters ----------------------------------------------------------------------


@pytest.fixture
def master(finance, estate, building, water_item):
    units = [
        Unit.objects.create(
            estate=estate,
            building=building,
            number=f"2-1-{n}",
            gross_area=Decimal(area),
            floor=n,
        )
        for n, area in ((1, "89.50"), (2, "120.35"), (3, "60.00"))
    ]
    meter = services.meter_create(
        actor=finance, estate=estate, serial="M-2", fee_item=water_item, shared_units=units
    )
    return meter, units


def test_a_master_meter_is_shared_by_area_and_sums_exactly(
    finance, supervisor, master, estate, water_item
):
    # given a master meter read twice: 100 tons used
    meter, units = master
    read(finance, meter, date(2026, 1, 31), "1000")
    reading = read(finance, meter, date(2026, 2, 28), "1100")
    # when it is apportioned by area and approved
    share = services.apportionment_create(actor=finance, reading=reading, method="by_area")
    assert not selectors.billable_consumption(estate_id=estate.pk, fee_item=water_item, until=TODAY)
    services.apportionment_approve(actor=supervisor, apportionment=share)
    # then each unit has a billable share in proportion to its area, summing to 100
    rows = selectors.billable_consumption(estate_id=estate.pk, fee_item=water_item, until=TODAY)
    by_unit = {r["unit_id"]: r["consumption"] for r in rows}
    assert sum(by_unit.values()) == Decimal("100.000")
    assert by_unit == {
        units[0].pk: Decimal("33.166"),
        units[1].pk: Decimal("44.599"),
        units[2].pk: Decimal("22.235"),
    }
    # and a master meter's own reading is never billed directly
    assert all(r["source"] == "apportionment" for r in rows)


def test_apportionment_by_household_and_by_formula(finance, master):
    meter, units = master
    read(finance, meter, date(2026, 1, 31), "0")
    reading = read(finance, meter, date(2026, 2, 28), "10")
    equal = services.apportionment_create(actor=finance, reading=reading, method="by_household")
    parts = [line.consumption for line in equal.lines.order_by("unit_id")]
    assert parts == [Decimal("3.334"), Decimal("3.333"), Decimal("3.333")]
    with pytest.raises(DomainError, match="already apportioned"):
        services.apportionment_create(
            actor=finance, reading=reading, method="formula", formula="floor"
        )


def test_a_formula_is_checked_before_use(finance, supervisor, master):
    meter, units = master
    read(finance, meter, date(2026, 1, 31), "0")
    reading = read(finance, meter, date(2026, 2, 28), "60")
    for bad, why in (("__import__('os')", "may"), ("rooms * 2", "unknown name"), ("area +", "")):
        with pytest.raises(DomainError) as err:
            services.apportionment_create(
                actor=finance, reading=reading, method="formula", formula=bad
            )
        assert err.value.field == "formula" and why in err.value.message
    share = services.apportionment_create(
        actor=finance, reading=reading, method="formula", formula="floor * 10"
    )
    assert [line.consumption for line in share.lines.order_by("unit_id")] == [
        Decimal("10.000"),
        Decimal("20.000"),
        Decimal("30.000"),
    ]
    services.apportionment_reject(actor=supervisor, apportionment=share, reason="按面积重算")
    assert share.__class__.objects.get(pk=share.pk).status == SharedApportionment.Status.REJECTED
    redo = services.apportionment_create(actor=finance, reading=reading, method="by_area")
    assert sum(line.consumption for line in redo.lines.all()) == Decimal("60.000")


@given(
    total=st.decimals(min_value=0, max_value=10**7, places=3),
    weights=st.lists(
        st.decimals(min_value=0, max_value=10**4, places=2), min_size=1, max_size=40
    ).filter(lambda ws: sum(ws) > 0),
)
def test_apportioned_parts_always_sum_to_the_whole(total, weights):
    parts = calculations.apportion(total, weights)
    # the parts sum exactly to the total, each is within one step of its exact share,
    # a zero weight gets nothing, and the same input always gives the same split
    assert sum(parts, Decimal(0)) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part == part.quantize(Decimal("0.001"))
        assert abs(part - total * weight / weight_sum) < Decimal("0.001")
        if weight == 0:
            assert part == 0
    assert calculations.apportion(total, weights) == parts
