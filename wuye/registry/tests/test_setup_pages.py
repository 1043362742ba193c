"""Estate setup on pages: the supervisor edits the estate, finance sets the collection
account printed on notices; estate-scoped, validated, audited."""

import pytest
from rest_framework.test import APIClient

from wuye.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "bank_name": "中国工商银行深圳南山支行",
    "bank_account_name": "华苑物业服务有限公司",
    "bank_account_number": "4000 0200 0900 1234 567",
}


def test_finance_sets_the_collection_account_and_the_estate_page_shows_it(
    client, make_staff, estate
):
    client.force_login(make_staff("finance", estates=[estate]))
    url = f"/registry/estates/{estate.pk}/account/"
    assert client.get(url).status_code == 200
    assert client.post(url, ACCOUNT).status_code == 302
    estate.refresh_from_db()
    assert estate.bank_account_number == "4000020009001234567"
    page = client.get(f"/registry/estates/{estate.pk}/").content.decode()
    assert "中国工商银行深圳南山支行 华苑物业服务有限公司 4000 0200 0900 1234 567" in page
    event = AuditEvent.objects.get(subject_type="registry.estate", action="update")
    assert event.after["bank_account_number"] == "4000020009001234567"


def test_an_account_number_without_its_bank_is_refused_naming_the_field(client, make_staff, estate):
    client.force_login(make_staff("finance", estates=[estate]))
    url = f"/registry/estates/{estate.pk}/account/"
    response = client.post(url, {**ACCOUNT, "bank_name": ""})
    assert "enter the bank and branch of the account" in response.content.decode()
    response = client.post(url, {**ACCOUNT, "bank_account_number": "12AB"})
    assert "an account number has 8 to 30 digits" in response.content.decode()
    estate.refresh_from_db()
    assert estate.bank_account_number == ""


def test_a_cashier_cannot_and_another_estate_is_not_there(client, make_staff, estate, other_estate):
    client.force_login(make_staff("cashier", estates=[estate]))
    assert client.get(f"/registry/estates/{estate.pk}/account/").status_code == 403
    assert client.get(f"/registry/estates/{estate.pk}/edit/").status_code == 403
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.post(f"/registry/estates/{estate.pk}/account/", ACCOUNT).status_code == 404


def test_the_supervisor_edits_the_estates_hotline(client, make_staff, estate):
    client.force_login(make_staff("supervisor", estates=[estate]))
    response = client.post(
        f"/registry/estates/{estate.pk}/edit/",
        {
            "name": estate.name,
            "address": estate.address,
            "hotline": "0755-86009999",
            "company_name": "华苑物业服务有限公司",
        },
    )
    assert response.status_code == 302
    estate.refresh_from_db()
    assert estate.hotline == "0755-86009999"
    assert AuditEvent.objects.filter(subject_type="registry.estate").exists()


def test_the_api_sets_the_collection_account(make_staff, estate):
    api = APIClient()
    api.force_authenticate(make_staff("finance", estates=[estate]))
    response = api.put(f"/api/v1/estates/{estate.pk}/collection-account/", ACCOUNT, format="json")
    assert response.status_code == 200 and response.data["bank_account_number"] == (
        "4000020009001234567"
    )
    api.force_authenticate(make_staff("cashier", estates=[estate]))
    refused = api.put(f"/api/v1/estates/{estate.pk}/collection-account/", ACCOUNT, format="json")
    assert refused.status_code == 403


def test_the_supervisor_creates_an_estate_and_works_for_it(client, make_staff, estate):
    boss = make_staff("supervisor", estates=[estate])
    client.force_login(boss)
    response = client.post(
        "/registry/estates/new/",
        {
            "code": "LJ2",
            "name": "丽景二期",
            "address": "深圳市",
            "hotline": "0755-1",
            "company_name": "",
        },
    )
    assert response.status_code == 302
    new = boss.staff_profile.estates.get(code="LJ2")
    assert client.get(f"/registry/estates/{new.pk}/").status_code == 200
    # then its buildings and its service contract are set up on its page
    client.post(f"/registry/estates/{new.pk}/buildings/new/", {"code": "3", "floors": "18"})
    building = new.buildings.get()
    assert building.name == "3栋" and building.floors == 18
    client.post(
        f"/registry/estates/{new.pk}/contracts/new/",
        {
            "number": "LJ2-2026",
            "start_date": "2026-01-01",
            "pricing_mode": "lump_sum",
            "late_fee_grace_days": "0",
            "late_fee_cap_ratio": "1",
        },
    )
    assert new.contracts.get().number == "LJ2-2026"
    types = set(AuditEvent.objects.values_list("subject_type", flat=True))
    assert {"registry.estate", "registry.building", "registry.servicecontract"} <= types


def test_a_cashier_cannot_create_estates_or_buildings(client, make_staff, estate):
    client.force_login(make_staff("cashier", estates=[estate]))
    assert client.get("/registry/estates/new/").status_code == 403
    assert client.get(f"/registry/estates/{estate.pk}/buildings/new/").status_code == 403
