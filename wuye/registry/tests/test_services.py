from datetime import date
from decimal import Decimal

import pytest

from wuye.audit.models import AuditEvent
from wuye.core.errors import DomainError, PermissionDenied
from wuye.registry import selectors, services
from wuye.registry.models import Party, Unit, UnitParty


@pytest.mark.django_db
def test_creating_a_unit_records_who_did_it(make_staff, building):
    # given
    clerk = make_staff("customer_service", estates=[building.estate])
    # when
    unit = services.unit_create(
        actor=clerk, building=building, number=" 1-2-502 ", gross_area=Decimal("120.35"), floor=5
    )
    # then
    assert unit.number == "1-2-502" and unit.estate_id == building.estate_id
    event = AuditEvent.objects.get(subject_type="registry.unit", subject_id=str(unit.pk))
    assert event.action == "create" and event.actor == clerk
    assert event.after["gross_area"] == "120.35"


@pytest.mark.django_db
def test_a_unit_with_negative_area_is_refused_naming_the_field(make_staff, building):
    clerk = make_staff("customer_service", estates=[building.estate])
    with pytest.raises(DomainError) as err:
        services.unit_create(
            actor=clerk, building=building, number="1-1-101", gross_area=Decimal("-3")
        )
    assert err.value.field in ("gross_area", None)
    assert not Unit.objects.filter(number="1-1-101").exists()


@pytest.mark.django_db
def test_staff_cannot_write_to_an_estate_that_is_not_theirs(make_staff, building, other_estate):
    clerk = make_staff("customer_service", estates=[other_estate])
    with pytest.raises(PermissionDenied):
        services.unit_create(actor=clerk, building=building, number="1-1-102")


@pytest.mark.django_db
def test_a_cashier_may_not_create_units(make_staff, building):
    cashier = make_staff("cashier", estates=[building.estate])
    with pytest.raises(PermissionDenied):
        services.unit_create(actor=cashier, building=building, number="1-1-103")


@pytest.mark.django_db
def test_an_update_audits_only_what_changed(make_staff, unit):
    clerk = make_staff("customer_service", estates=[unit.estate])
    services.unit_update(actor=clerk, unit=unit, occupancy=Unit.Occupancy.RENOVATING)
    event = AuditEvent.objects.filter(action="update", subject_type="registry.unit").get()
    assert event.before == {"occupancy": "occupied"}
    assert event.after == {"occupancy": "renovating"}


@pytest.mark.django_db
def test_a_transfer_ends_the_previous_ownership_and_moves_the_payer(make_staff, unit, owner):
    # given: 张伟 owns and pays for the unit since 2025-06-01
    clerk = make_staff("customer_service", estates=[unit.estate])
    buyer = services.party_create(
        actor=clerk, estate=unit.estate, name="李娜", mobile="139 0000 1111"
    )
    # when: 李娜 buys it on 2026-03-15
    services.unit_party_add(
        actor=clerk, unit=unit, party=buyer, start_date=date(2026, 3, 15), is_payer=True
    )
    # then: 张伟 owed until 2026-03-14, 李娜 from 2026-03-15
    old = UnitParty.objects.get(party=owner)
    assert old.end_date == date(2026, 3, 14)
    assert selectors.payer_on(unit, date(2026, 3, 14)) == owner
    assert selectors.payer_on(unit, date(2026, 3, 15)) == buyer
    assert buyer.mobile == "13900001111"


@pytest.mark.django_db
def test_a_malformed_phone_is_refused(make_staff, estate):
    clerk = make_staff("customer_service", estates=[estate])
    with pytest.raises(DomainError) as err:
        services.party_create(actor=clerk, estate=estate, name="王芳", mobile="12345")
    assert err.value.field == "mobile"
    assert not Party.objects.filter(name="王芳").exists()


@pytest.mark.django_db
def test_phones_are_masked_unless_revealed_and_every_reveal_is_audited(make_staff, owner):
    cashier = make_staff("cashier", estates=[owner.estate])
    collector = make_staff("collector", estates=[owner.estate])
    masked = services.party_contact_view(actor=cashier, party=owner)
    assert masked["mobile"] == "138****5678"
    assert masked["id_number"] == "4403**********123X"
    with pytest.raises(PermissionDenied):
        services.party_contact_view(actor=cashier, party=owner, reveal=True)
    shown = services.party_contact_view(actor=collector, party=owner, reveal=True)
    assert shown["mobile"] == "13812345678"
    assert AuditEvent.objects.filter(action="unmask", actor=collector).count() == 1
    assert not AuditEvent.objects.filter(action="unmask", actor=cashier).exists()


@pytest.mark.django_db
def test_id_numbers_are_encrypted_at_rest(owner):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM registry_party WHERE id = %s", [owner.pk])
        stored = cursor.fetchone()[0]
    assert "44030119800101123X" not in stored
    assert Party.objects.get(pk=owner.pk).id_number == "44030119800101123X"


@pytest.mark.django_db
def test_search_finds_a_unit_by_phone_tail_and_owner_name(make_staff, unit, owner, other_estate):
    cashier = make_staff("cashier", estates=[unit.estate])
    assert list(selectors.unit_search(cashier, q="5678")) == [unit]
    assert list(selectors.unit_search(cashier, q="张伟")) == [unit]
    assert list(selectors.unit_search(cashier, q="１－１－３０１".replace("－", "-"))) == [unit]
    outsider = make_staff("cashier", estates=[other_estate])
    assert list(selectors.unit_search(outsider, q="5678")) == []
