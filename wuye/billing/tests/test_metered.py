"""Metered charges in a bill run: water, electricity, gas by consumption x rate."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import Charge, RunPosting
from wuye.fees.models import FeeItem, Meter, MeterReading
from wuye.fees.services import meters
from wuye.ledger.models import JournalEntry
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


@pytest.fixture
def meter(unit, water):
    return Meter.objects.create(estate=unit.estate, unit=unit, fee_item=water, serial="W-301")


def read(actor, meter, day, value):
    return meters.reading_record(actor=actor, meter=meter, read_on=day, value=value, today=TODAY)


def test_a_reading_is_billed_consumption_times_rate_to_the_payer(
    owner, meter, finance, bill, books_balance
):
    # given a baseline and a reading 12.5 tons later
    read(finance, meter, date(2026, 11, 30), "100")
    read(finance, meter, date(2026, 12, 31), "112.5")
    # when
    run = bill("2026-12")
    # then
    charge = Charge.objects.get()
    assert (charge.party, charge.amount, charge.rate) == (owner, D("52.50"), D("4.2"))
    assert charge.label == "2026-12 水费 12.500吨×4.20"
    assert charge.bill_date == date(2026, 12, 31) and charge.due_date == date(2027, 1, 30)
    assert MeterReading.objects.get(read_on=date(2026, 12, 31)).billed
    posting = RunPosting.objects.get(run=run)
    assert (posting.amount, posting.charges) == (D("52.50"), 1)
    assert books_balance(owner.estate) == (D("52.50"), D("52.50"))


def test_a_reading_is_billed_once_and_a_rerun_adds_nothing(owner, meter, finance, bill):
    # given a reading billed in December
    read(finance, meter, date(2026, 11, 30), "100")
    read(finance, meter, date(2026, 12, 31), "110")
    bill("2026-12")
    # when December is run again, and January too
    again = bill("2026-12")
    january = bill("2027-01")
    # then
    assert again.charges_created == 0 and january.charges_created == 0
    assert Charge.objects.count() == 1
    assert JournalEntry.objects.filter(source_type="billing_run").count() == 1


def test_the_rounding_rule_of_the_item_applies(owner, make_item, unit, finance, bill):
    # given gas at 3.33/m³ rounded up to the jiao
    gas = make_item(
        "GAS",
        "燃气费",
        rate="3.33",
        basis=FeeItem.Basis.METERED,
        kind=FeeItem.Kind.GAS,
        meter_unit=FeeItem.MeterUnit.CUBIC_METRE,
        rounding_unit=FeeItem.RoundingUnit.JIAO,
        rounding_mode=FeeItem.RoundingMode.UP,
    )
    meter = Meter.objects.create(estate=unit.estate, unit=unit, fee_item=gas, serial="G-301")
    read(finance, meter, date(2026, 11, 30), "10")
    read(finance, meter, date(2026, 12, 31), "17")
    # when
    bill("2026-12")
    # then 7 x 3.33 = 23.31 -> 23.40
    assert Charge.objects.get().amount == D("23.40")


def test_a_flagged_reading_is_not_billed_until_approved(
    owner, meter, finance, supervisor, bill, books_balance
):
    # given a reading lower than the last one: flagged
    read(finance, meter, date(2026, 11, 30), "100")
    flagged = read(finance, meter, date(2026, 12, 31), "3")
    assert flagged.status == MeterReading.Status.FLAGGED
    # when December is billed
    first = bill("2026-12")
    # then nothing is charged for it
    assert first.charges_created == 0 and not Charge.objects.exists()
    # when a supervisor approves it (the meter was replaced: bill the new meter's 3 tons)
    meters.reading_approve(actor=supervisor, reading=flagged, consumption="3")
    second = bill("2026-12")
    # then it is billed, once
    assert second.charges_created == 1
    assert Charge.objects.get().amount == D("12.60")
    assert books_balance(owner.estate) == (D("12.60"), D("12.60"))


def test_shared_consumption_apportioned_and_approved_is_billed_to_each_unit(
    building, unit, owner, water, finance, supervisor, bill, books_balance
):
    # given a second unit with its owner, and a master meter shared by both
    other = Unit.objects.create(
        estate=unit.estate,
        building=building,
        number="1-1-302",
        gross_area=D("60.00"),
        fee_start_date=date(2025, 7, 1),
    )
    li = Party.objects.create(estate=unit.estate, name="李娜")
    UnitParty.objects.create(estate=unit.estate, unit=other, party=li, start_date=date(2025, 1, 1))
    master = meters.meter_create(
        actor=finance,
        estate=unit.estate,
        serial="W-MASTER",
        fee_item=water,
        shared_units=[unit, other],
    )
    read(finance, master, date(2026, 11, 30), "1000")
    reading = read(finance, master, date(2026, 12, 31), "1010")
    share = meters.apportionment_create(actor=finance, reading=reading, method="by_household")
    # when billed before approval, then after
    before = bill("2026-12")
    meters.apportionment_approve(actor=supervisor, apportionment=share)
    after = bill("2026-12")
    # then only the approved shares are charged, 5 tons each, to each unit's payer
    assert before.charges_created == 0
    assert after.charges_created == 2
    got = {(c.unit_id, c.party_id, c.amount) for c in Charge.objects.all()}
    assert got == {(unit.pk, owner.pk, D("21.00")), (other.pk, li.pk, D("21.00"))}
    assert all("公摊" in c.description for c in Charge.objects.all())
    assert not reading.billed  # the master reading itself is never charged
    assert books_balance(unit.estate) == (D("42.00"), D("42.00"))
    assert bill("2026-12").charges_created == 0


def test_two_readings_in_a_period_are_two_parts(owner, meter, finance, bill):
    read(finance, meter, date(2026, 11, 30), "100")
    read(finance, meter, date(2026, 12, 10), "104")
    bill("2026-12", as_of=date(2026, 12, 15))
    read(finance, meter, date(2026, 12, 31), "110")
    # when
    bill("2026-12")
    # then
    parts = list(Charge.objects.order_by("part").values_list("part", "amount"))
    assert parts == [(1, D("16.80")), (2, D("25.20"))]


def test_the_preview_counts_the_metered_consumption(owner, meter, finance):
    read(finance, meter, date(2026, 11, 30), "100")
    read(finance, meter, date(2026, 12, 31), "110")
    run = services.billing_run_create(
        actor=finance, estate=owner.estate, period="2026-12", as_of=TODAY
    )
    # when
    preview = services.billing_run_preview(run=run, actor=finance)
    # then
    row = next(r for r in preview["items"] if r["item"] == "WATER")
    assert (row["count"], row["amount"]) == (1, "42.00")
    assert not Charge.objects.exists()


def test_a_reading_with_no_payer_waits(unit, meter, finance, bill):
    # given a unit nobody owns yet
    read(finance, meter, date(2026, 11, 30), "100")
    read(finance, meter, date(2026, 12, 31), "110")
    # when
    run = bill("2026-12")
    # then nothing is charged and the reading stays billable
    assert run.charges_created == 0
    assert not MeterReading.objects.get(read_on=date(2026, 12, 31)).billed


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_same_period_at_once_bill_each_unit_and_reading_once(
    owner, meter, property_fee, finance, books_balance
):
    from threading import Barrier, Thread

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks between two connections: PostgreSQL only")
    # given a reading to bill and two runs of December created at the same moment
    read(finance, meter, date(2026, 11, 30), "100")
    read(finance, meter, date(2026, 12, 31), "110")
    runs = [
        services.billing_run_create(
            actor=finance, estate=owner.estate, period="2026-12", as_of=TODAY
        )
        for _ in range(2)
    ]
    barrier, errors = Barrier(2), []

    def post(run):
        try:
            barrier.wait()
            services.billing_run_post(run=run, actor=finance)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when both are posted at once
    threads = [Thread(target=post, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then the property fee and the water are billed once, and the books agree
    assert not errors
    assert sorted(Charge.objects.values_list("fee_item__code", flat=True)) == [
        "PROPERTY",
        "WATER",
    ]
    assert books_balance(owner.estate) == (D("292.60"), D("292.60"))
