"""The staff pages of fees: they call the services, show their messages, follow the roles."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from wuye.fees import services
from wuye.fees.models import FeeItem, FeeStandard, MeterReading, VacancyDiscount

from .test_meters import xlsx

pytestmark = pytest.mark.django_db


def test_finance_creates_a_fee_item_from_the_page(client, finance, estate):
    client.force_login(finance)
    response = client.post(
        reverse("fees:item_create"),
        {
            "estate": estate.pk,
            "code": "garbage",
            "name": "垃圾清运费",
            "kind": "garbage",
            "basis": "per_unit_month",
            "cycle": "monthly",
            "timing": "advance",
            "advance_days": 10,
            "due_days": 30,
            "rounding_unit": "fen",
            "rounding_mode": "half_up",
            "treatment": "revenue",
            "online_payable": "on",
        },
    )
    assert response.status_code == 302
    item = FeeItem.objects.get(code="GARBAGE")
    assert item.online_payable and not item.prepayment_offset and item.advance_days == 10
    page = client.get(reverse("fees:item_list"), {"estate": estate.pk})
    assert "垃圾清运费" in page.content.decode() and "6001.GARBAGE" in page.content.decode()


def test_a_cashier_cannot_open_the_new_item_page(client, make_staff, estate):
    client.force_login(make_staff("cashier", estates=[estate]))
    assert client.get(reverse("fees:item_create")).status_code == 403
    assert client.get(reverse("fees:item_list")).status_code == 200


def test_an_absurd_rate_on_the_page_is_shown_naming_the_item(client, finance, property_item):
    client.force_login(finance)
    response = client.post(
        reverse("fees:standard_create"),
        {"fee_item": property_item.pk, "rate": "250", "effective_from": "2026-01-01"},
    )
    assert response.status_code == 200
    assert "物业服务费 (PROPERTY)" in response.content.decode()
    assert not FeeStandard.objects.exists()


def test_a_standard_goes_from_draft_to_published_on_the_list_page(
    client, finance, supervisor, property_item
):
    # given a draft
    std = services.standard_create(
        actor=finance, fee_item=property_item, rate="2.5", effective_from=date(2026, 1, 1)
    )
    url = reverse("fees:standard_list")
    # when finance tries to approve it, the page says no and nothing changes
    client.force_login(finance)
    client.post(reverse("fees:standard_action", args=[std.pk, "approve"]))
    std.refresh_from_db()
    assert std.status == "draft"
    # when the supervisor approves and finance publishes
    client.force_login(supervisor)
    client.post(reverse("fees:standard_action", args=[std.pk, "approve"]), {"next": url})
    client.force_login(finance)
    response = client.post(reverse("fees:standard_action", args=[std.pk, "publish"]))
    assert response.status_code == 302
    # then the list links the notice, which downloads as a PDF
    std.refresh_from_db()
    assert std.status == "published"
    notice_url = reverse("fees:standard_notice", args=[std.pk])
    assert notice_url in client.get(url).content.decode()
    pdf = client.get(notice_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_another_estates_notice_does_not_exist_for_you(
    client, make_staff, other_estate, property_item, published
):
    std = published(property_item, "2.5", date(2026, 1, 1))
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.get(reverse("fees:standard_notice", args=[std.pk])).status_code == 404
    assert "物业服务费" not in client.get(reverse("fees:standard_list")).content.decode()


def test_vacancy_application_inspection_and_approval_on_the_pages(
    client, make_staff, supervisor, estate, unit
):
    clerk = make_staff("customer_service", estates=[estate])
    client.force_login(clerk)
    response = client.post(
        reverse("fees:vacancy_apply"),
        {"estate": estate.pk, "unit_number": unit.number, "start_date": "2026-01-01"},
    )
    assert response.status_code == 302
    discount = VacancyDiscount.objects.get()
    client.post(
        reverse("fees:vacancy_action", args=[discount.pk, "inspect"]),
        {"vacant": "1", "notes": "无人居住"},
    )
    client.force_login(supervisor)
    client.post(reverse("fees:vacancy_action", args=[discount.pk, "approve"]))
    discount.refresh_from_db()
    assert discount.status == "approved" and discount.approved_by == supervisor


def test_an_unknown_unit_on_the_vacancy_form_is_named(client, make_staff, estate):
    client.force_login(make_staff("customer_service", estates=[estate]))
    response = client.post(
        reverse("fees:vacancy_apply"),
        {"estate": estate.pk, "unit_number": "9-9-999", "start_date": "2026-01-01"},
    )
    assert "No such unit in this estate." in response.content.decode()


@pytest.fixture
def meter(finance, estate, unit, water_item):
    return services.meter_create(
        actor=finance, estate=estate, serial="W-0301", fee_item=water_item, unit=unit
    )


def test_a_reading_entered_on_the_phone_page(client, finance, meter, estate):
    client.force_login(finance)
    page = client.get(reverse("fees:reading_entry"))
    assert page.status_code == 200 and 'inputmode="decimal"' in page.content.decode()
    for day, value in (("2026-01-31", "100"), ("2026-02-28", "90")):
        response = client.post(
            reverse("fees:reading_entry"),
            {"estate": estate.pk, "serial": "W-0301", "read_on": day, "value": value},
            follow=True,
        )
    assert "flagged for review" in response.content.decode()
    assert MeterReading.objects.get(read_on=date(2026, 2, 28)).status == "flagged"
    response = client.post(
        reverse("fees:reading_entry"),
        {"estate": estate.pk, "serial": "NOPE", "read_on": "2026-02-28", "value": "1"},
    )
    assert "No such meter in this estate." in response.content.decode()


def test_a_supervisor_reviews_a_flagged_reading(client, finance, supervisor, meter):
    services.reading_record(actor=finance, meter=meter, read_on=date(2026, 1, 31), value="500")
    low = services.reading_record(actor=finance, meter=meter, read_on=date(2026, 2, 28), value="20")
    client.force_login(supervisor)
    listing = client.get(reverse("fees:reading_list")).content.decode()
    assert "lower than the last reading" in listing
    client.post(
        reverse("fees:reading_action", args=[low.pk, "approve"]),
        {"consumption": "20", "reason": "换表"},
    )
    low.refresh_from_db()
    assert low.status == "approved" and low.consumption == Decimal("20.000")


def test_the_import_page_lists_each_error_and_writes_nothing(client, finance, meter, estate):
    client.force_login(finance)
    upload = xlsx(
        [["表号", "读数日期", "读数"], ["W-0301", "2026-01-31", "x"], ["Q", "2026-01-31", 1]]
    )
    upload.name = "readings.xlsx"
    response = client.post(reverse("fees:reading_import"), {"estate": estate.pk, "file": upload})
    html = response.content.decode()
    assert "2 errors; nothing was imported." in html
    assert "读数/value" in html and "no meter Q" in html
    assert not MeterReading.objects.exists()
    good = xlsx([["表号", "读数日期", "读数"], ["W-0301", "2025-06-30", "12"]])
    good.name = "readings.xlsx"
    response = client.post(reverse("fees:reading_import"), {"estate": estate.pk, "file": good})
    assert "1 readings imported" in response.content.decode()


def test_a_shared_meter_is_apportioned_and_approved_on_the_pages(
    client, finance, supervisor, estate, building, water_item
):
    from wuye.fees.models import SharedApportionment
    from wuye.registry.models import Unit

    units = [
        Unit.objects.create(estate=estate, building=building, number=f"3-{n}", gross_area=area)
        for n, area in ((1, Decimal("50")), (2, Decimal("150")))
    ]
    master = services.meter_create(
        actor=finance, estate=estate, serial="M-3", fee_item=water_item, shared_units=units
    )
    services.reading_record(actor=finance, meter=master, read_on=date(2026, 1, 31), value="0")
    reading = services.reading_record(
        actor=finance, meter=master, read_on=date(2026, 2, 28), value="40"
    )
    client.force_login(finance)
    listing = client.get(reverse("fees:reading_list"), {"status": "ok"}).content.decode()
    assert reverse("fees:reading_action", args=[reading.pk, "apportion"]) in listing
    client.post(
        reverse("fees:reading_action", args=[reading.pk, "apportion"]), {"method": "by_area"}
    )
    share = SharedApportionment.objects.get()
    client.force_login(supervisor)
    page = client.get(reverse("fees:apportionment_list")).content.decode()
    assert "3-2" in page and "30.000" in page
    client.post(reverse("fees:apportionment_action", args=[share.pk, "approve"]))
    share.refresh_from_db()
    assert share.status == "approved"
