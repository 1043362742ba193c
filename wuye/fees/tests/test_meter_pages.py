"""Meters set up on pages: registered for a unit or shared, replaced with the old meter's
final and the new one's initial reading, retired; by finance, estate-scoped, audited."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from wuye.audit.models import AuditEvent
from wuye.fees import selectors, services
from wuye.fees.models import Meter, MeterReading
from wuye.registry.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def meter(finance, estate, unit, water_item):
    meter = services.meter_register(
        actor=finance,
        estate=estate,
        serial="W-0301",
        fee_item=water_item,
        unit=unit,
        installed_on=date(2026, 1, 1),
        initial_reading="100",
    )
    services.reading_record(actor=finance, meter=meter, read_on=date(2026, 2, 1), value="112")
    return meter


def test_finance_registers_a_units_meter_with_its_first_reading(
    client, finance, estate, unit, water_item
):
    client.force_login(finance)
    response = client.post(
        reverse("fees:meter_new"),
        {
            "estate": estate.pk,
            "fee_item": water_item.pk,
            "serial": "W-0302",
            "scope": "unit",
            "unit_number": unit.number,
            "installed_on": "2026-01-05",
            "initial_reading": "7.5",
        },
    )
    meter = Meter.objects.get(serial="W-0302")
    assert response.status_code == 302 and response["Location"].endswith(f"/meters/{meter.pk}/")
    assert meter.unit == unit and meter.installed_on == date(2026, 1, 5)
    first = meter.readings.get()
    assert first.value == Decimal("7.500") and first.consumption is None  # the baseline
    assert AuditEvent.objects.filter(subject_type="fees.meter", action="create").count() == 1
    page = client.get(reverse("fees:meter_list"), {"estate": estate.pk}).content.decode()
    assert "W-0302" in page and unit.number in page


def test_a_shared_meter_over_named_units_and_unknown_units_named(
    client, finance, estate, building, unit, water_item
):
    other = Unit.objects.create(estate=estate, building=building, number="1-1-302")
    client.force_login(finance)
    data = {
        "estate": estate.pk,
        "fee_item": water_item.pk,
        "serial": "GT-1",
        "scope": "shared",
        "shared_units": "1-1-301、1-1-302, 9-9-999",
    }
    refused = client.post(reverse("fees:meter_new"), data)
    assert "No such unit in this estate: 9-9-999" in refused.content.decode()
    client.post(reverse("fees:meter_new"), {**data, "shared_units": "1-1-301、1-1-302"})
    master = Meter.objects.get(serial="GT-1")
    assert master.kind == "master" and set(master.shared_units.all()) == {unit, other}
    # the units it covers are changed on its page
    client.post(
        reverse("fees:meter_detail", args=[master.pk]),
        {"action": "units", "units-units": "1-1-302"},
    )
    assert list(master.shared_units.all()) == [other]
    event = AuditEvent.objects.filter(subject_type="fees.meter", action="update").get()
    assert event.before == {"shared_units": ["1-1-301", "1-1-302"]}


def test_a_replacement_bills_the_old_meters_last_consumption_and_starts_the_new_one(
    client, finance, estate, unit, water_item, meter
):
    client.force_login(finance)
    response = client.post(
        reverse("fees:meter_detail", args=[meter.pk]),
        {
            "action": "replace",
            "replace-on": "2026-02-20",
            "replace-final_reading": "118",
            "replace-new_serial": "W-0301B",
            "replace-initial_reading": "0",
        },
    )
    new = Meter.objects.get(serial="W-0301B")
    assert response.status_code == 302 and response["Location"].endswith(f"/meters/{new.pk}/")
    meter.refresh_from_db()
    assert not meter.is_active and meter.retired_on == date(2026, 2, 20)
    assert new.replaces == meter and new.unit == unit and new.installed_on == date(2026, 2, 20)
    final = meter.readings.get(read_on=date(2026, 2, 20))
    assert final.consumption == Decimal("6.000")
    assert new.readings.get().consumption is None
    # the next reading of the new meter counts from its initial reading
    later = services.reading_record(actor=finance, meter=new, read_on=date(2026, 3, 1), value="4")
    assert later.consumption == Decimal("4.000")
    billable = selectors.billable_consumption(
        estate_id=estate.pk, fee_item=water_item, until=date(2026, 3, 1)
    )
    assert sum(row["consumption"] for row in billable) == Decimal("22.000")  # 12 + 6 + 4
    # the old meter takes no more readings
    with pytest.raises(Exception, match="not in use"):
        services.reading_record(actor=finance, meter=meter, read_on=date(2026, 3, 1), value="120")
    page = client.get(reverse("fees:meter_detail", args=[new.pk])).content.decode()
    assert "W-0301" in page and "replaces" in page


def test_a_replacement_without_a_new_serial_is_refused_and_nothing_changes(client, finance, meter):
    client.force_login(finance)
    response = client.post(
        reverse("fees:meter_detail", args=[meter.pk]),
        {
            "action": "replace",
            "replace-on": "2026-02-20",
            "replace-final_reading": "118",
            "replace-new_serial": "W-0301",
            "replace-initial_reading": "0",
        },
    )
    assert "the new meter needs its own serial number" in response.content.decode()
    meter.refresh_from_db()
    assert meter.is_active and MeterReading.objects.filter(meter=meter).count() == 2


def test_retiring_a_meter_with_its_final_reading(client, finance, meter):
    client.force_login(finance)
    client.post(
        reverse("fees:meter_detail", args=[meter.pk]),
        {"action": "retire", "retire-on": "2026-02-25", "retire-final_reading": "115"},
    )
    meter.refresh_from_db()
    assert not meter.is_active and meter.retired_on == date(2026, 2, 25)
    assert meter.readings.get(read_on=date(2026, 2, 25)).consumption == Decimal("3.000")
    assert AuditEvent.objects.filter(summary__startswith="meter W-0301 retired").exists()


def test_engineering_reads_meters_but_cannot_replace_them(client, make_staff, estate, meter):
    client.force_login(make_staff("engineering", estates=[estate]))
    assert client.get(reverse("fees:meter_list")).status_code == 200
    assert client.get(reverse("fees:meter_new")).status_code == 403
    client.post(
        reverse("fees:meter_detail", args=[meter.pk]),
        {"action": "retire", "retire-on": "2026-02-25"},
    )
    meter.refresh_from_db()
    assert meter.is_active


def test_another_estates_meter_is_not_there(client, make_staff, other_estate, meter):
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.get(reverse("fees:meter_detail", args=[meter.pk])).status_code == 404
    assert "W-0301" not in client.get(reverse("fees:meter_list")).content.decode()


def test_the_api_registers_and_replaces_a_meter(finance, estate, unit, water_item):
    api = APIClient()
    api.force_authenticate(finance)
    made = api.post(
        "/api/v1/meters/",
        {
            "estate": estate.pk,
            "fee_item": water_item.pk,
            "serial": "W-9",
            "unit": unit.pk,
            "installed_on": "2026-01-01",
            "initial_reading": "10",
        },
        format="json",
    )
    assert made.status_code == 201, made.data
    replaced = api.post(
        f"/api/v1/meters/{made.data['id']}/replace/",
        {"on": "2026-02-01", "final_reading": "15", "new_serial": "W-9B", "initial_reading": "0"},
        format="json",
    )
    assert replaced.status_code == 201, replaced.data
    assert replaced.data["serial"] == "W-9B" and replaced.data["replaces"] == made.data["id"]
    listed = api.get("/api/v1/meters/", {"estate": estate.pk}).data["results"]
    assert {m["serial"]: m["is_active"] for m in listed} == {"W-9": False, "W-9B": True}


def test_finance_edits_a_fee_items_due_days_on_its_page(client, finance, estate, water_item):
    client.force_login(finance)
    url = reverse("fees:item_edit", args=[water_item.pk])
    page = client.get(url).content.decode()
    assert "水费" in page
    data = {
        "code": "WATER",
        "name": "自来水费",
        "kind": "water",
        "basis": "metered",
        "meter_unit": "ton",
        "cycle": "monthly",
        "timing": "arrears",
        "advance_days": "0",
        "due_days": "20",
        "rounding_unit": "fen",
        "rounding_mode": "half_up",
        "treatment": "pass_through",
    }
    assert client.post(url, data).status_code == 302
    water_item.refresh_from_db()
    assert water_item.name == "自来水费" and water_item.due_days == 20
    assert AuditEvent.objects.filter(subject_type="fees.feeitem", action="update").exists()


def test_a_cashier_cannot_edit_a_fee_item(client, make_staff, estate, water_item):
    client.force_login(make_staff("cashier", estates=[estate]))
    assert client.get(reverse("fees:item_edit", args=[water_item.pk])).status_code == 403
