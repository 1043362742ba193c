"""The registry's staff pages: estate scoping, search, masking and shared notes."""

from datetime import date

import pytest
from django.urls import reverse

from wuye.audit.models import AuditEvent
from wuye.registry.models import Building, OwnerNote, Party, Unit, UnitParty

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_unit(other_estate):
    b = Building.objects.create(estate=other_estate, code="9", name="9栋")
    unit = Unit.objects.create(estate=other_estate, building=b, number="9-1-101")
    party = Party.objects.create(estate=other_estate, name="外人", mobile="13700001234")
    UnitParty.objects.create(
        estate=other_estate, unit=unit, party=party, start_date=date(2024, 1, 1)
    )
    return unit


def test_staff_of_one_estate_get_404_for_another_estates_records(
    client, make_staff, unit, owner, foreign_unit
):
    # given a cashier of 华苑 only
    client.force_login(make_staff("cashier", estates=[unit.estate]))
    foreign_party = foreign_unit.relations.get().party
    # when / then: their own records open, the other estate's do not exist for them
    assert client.get(reverse("registry:unit_detail", args=[unit.pk])).status_code == 200
    assert client.get(reverse("registry:unit_detail", args=[foreign_unit.pk])).status_code == 404
    assert client.get(reverse("registry:party_detail", args=[foreign_party.pk])).status_code == 404
    assert (
        client.get(reverse("registry:estate_detail", args=[foreign_unit.estate_id])).status_code
        == 404
    )
    listing = client.get(reverse("registry:unit_list")).content.decode()
    assert "1-1-301" in listing and "9-1-101" not in listing


def test_a_cashier_finds_a_unit_by_the_owners_phone_tail(client, make_staff, unit, owner):
    client.force_login(make_staff("cashier", estates=[unit.estate]))
    page = client.get(reverse("registry:unit_list"), {"q": "5678"}).content.decode()
    assert "1-1-301" in page and "张伟" in page


def test_the_owner_page_masks_phones_and_a_reveal_is_audited(client, make_staff, owner):
    collector = make_staff("collector", estates=[owner.estate])
    client.force_login(collector)
    page = client.get(reverse("registry:party_detail", args=[owner.pk])).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    revealed = client.post(reverse("registry:party_reveal", args=[owner.pk])).content.decode()
    assert "13812345678" in revealed and "44030119800101123X" in revealed
    assert (
        AuditEvent.objects.filter(
            action="unmask", actor=collector, subject_id=str(owner.pk)
        ).count()
        == 1
    )


def test_a_cashier_cannot_reveal_full_numbers(client, make_staff, owner):
    client.force_login(make_staff("cashier", estates=[owner.estate]))
    page = client.get(reverse("registry:party_detail", args=[owner.pk])).content.decode()
    assert 'id="reveal"' not in page
    assert client.post(reverse("registry:party_reveal", args=[owner.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="unmask").exists()


def test_a_note_from_engineering_reaches_the_collector_but_not_the_cashier(
    client, make_staff, owner
):
    engineer = make_staff("engineering", estates=[owner.estate])
    client.force_login(engineer)
    client.post(
        reverse("registry:note_add", args=[owner.pk]),
        {
            "category": OwnerNote.Category.HOUSE_QUALITY,
            "text": "卫生间渗水, 已派工单",
            "visible_to": ["collector", "customer_service"],
        },
    )
    assert OwnerNote.objects.filter(party=owner).count() == 1
    client.force_login(make_staff("collector", estates=[owner.estate]))
    assert (
        "卫生间渗水"
        in client.get(reverse("registry:party_detail", args=[owner.pk])).content.decode()
    )
    client.force_login(make_staff("cashier", estates=[owner.estate]))
    assert (
        "卫生间渗水"
        not in client.get(reverse("registry:party_detail", args=[owner.pk])).content.decode()
    )


def test_creating_a_unit_with_bad_area_shows_the_error_and_writes_nothing(
    client, make_staff, building
):
    client.force_login(make_staff("customer_service", estates=[building.estate]))
    response = client.post(
        reverse("registry:unit_create"),
        {
            "building": building.pk,
            "number": "1-1-901",
            "gross_area": "-5",
            "unit_type": "residential",
            "occupancy": "occupied",
        },
    )
    assert response.status_code == 200
    assert not Unit.objects.filter(number="1-1-901").exists()
    assert "The gross area must be greater than zero." in response.content.decode()


def test_editing_a_unit_is_audited(client, make_staff, unit):
    client.force_login(make_staff("customer_service", estates=[unit.estate]))
    response = client.post(
        reverse("registry:unit_edit", args=[unit.pk]),
        {
            "building": unit.building_id,
            "number": unit.number,
            "floor": 3,
            "gross_area": "90.00",
            "unit_type": "residential",
            "occupancy": "renovating",
            "handover_date": "2025-06-01",
            "fee_start_date": "2025-07-01",
        },
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.occupancy == "renovating" and str(unit.gross_area) == "90.00"
    event = AuditEvent.objects.get(action="update", subject_type="registry.unit")
    assert event.after == {"gross_area": "90.00", "occupancy": "renovating"}


def test_navigation_follows_the_role(client, make_staff, estate):
    client.force_login(make_staff("cashier", estates=[estate]))
    home = client.get("/").content.decode()
    assert reverse("registry:unit_list") in home
    assert reverse("audit:list") not in home
    client.force_login(make_staff("auditor"))
    assert reverse("audit:list") in client.get("/").content.decode()


def test_login_is_locked_after_five_failures(client, make_staff, estate):
    user = make_staff("cashier", estates=[estate])
    for _ in range(5):
        client.post(reverse("login"), {"username": user.username, "password": "wrong-pass-1"})
    from wuye.testing import DEMO_PASSWORD

    response = client.post(reverse("login"), {"username": user.username, "password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert AuditEvent.objects.filter(action="login_failed").count() >= 5


def test_the_interface_speaks_the_staffs_language(client, make_staff, estate, settings):
    # given production's default language and a browser that asks for nothing in particular
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(make_staff("cashier", estates=[estate]))
    assert "房屋" in client.get(reverse("registry:unit_list")).content.decode()
    # when the clerk picks 繁體中文
    client.post(reverse("set_language"), {"language": "zh-hant", "next": "/"})
    # then the pages are in traditional characters
    assert "房屋" in client.get(reverse("registry:unit_list")).content.decode()
    assert "業主" in client.get(reverse("registry:party_list")).content.decode()


def test_the_unit_page_offers_an_ad_hoc_charge_only_to_who_may_raise_one(client, make_staff, unit):
    # given the unit's page, seen by finance (may raise ad hoc charges) and by security (may not)
    url = reverse("registry:unit_detail", args=[unit.pk])
    link = f"{reverse('billing:charge_new')}?unit={unit.pk}"
    client.force_login(make_staff("finance", estates=[unit.estate]))
    finance_sees = client.get(url).content.decode()
    client.force_login(make_staff("security", estates=[unit.estate]))
    security_sees = client.get(url).content.decode()
    # then only finance gets the link, pointing at this unit
    assert link in finance_sees
    assert link not in security_sees
