"""The registry REST API: who may call it, what they see, and what it refuses."""

from datetime import date

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from wuye.audit.models import AuditEvent
from wuye.registry.models import Building, Party, ServiceContract, Unit, UnitParty


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def clerk(make_staff, estate):
    return make_staff("customer_service", estates=[estate])


@pytest.fixture
def foreign(other_estate):
    """Estate B's building, unit, party and contract, which estate A's staff must not see."""
    building = Building.objects.create(estate=other_estate, code="9", name="9栋")
    unit = Unit.objects.create(estate=other_estate, building=building, number="9-1-101")
    party = Party.objects.create(estate=other_estate, name="李娜", mobile="13900001111")
    contract = ServiceContract.objects.create(
        estate=other_estate, number="LJ-2026-01", start_date=date(2026, 1, 1)
    )
    return {"building": building, "unit": unit, "party": party, "contract": contract}


def ids(response) -> set[int]:
    return {row["id"] for row in response.data["results"]}


# --- authentication --------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_token_opens_the_api_and_an_anonymous_call_is_401(make_staff, unit):
    # given a cashier with an API token
    cashier = make_staff("cashier", estates=[unit.estate])
    token = Token.objects.create(user=cashier)
    url = reverse("api:unit-list")
    # when called with the token, and without
    with_token = APIClient().get(url, HTTP_AUTHORIZATION=f"Token {token.key}")
    anonymous = APIClient().get(url)
    bad_token = APIClient().get(url, HTTP_AUTHORIZATION="Token not-a-real-token")
    # then
    assert with_token.status_code == 200 and ids(with_token) == {unit.pk}
    assert anonymous.status_code == 401
    assert bad_token.status_code == 401


# --- estate scoping --------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind, url_name",
    [
        ("unit", "api:unit-detail"),
        ("party", "api:party-detail"),
        ("contract", "api:contract-detail"),
        ("building", "api:building-detail"),
    ],
)
def test_another_estates_object_is_not_found(make_staff, estate, foreign, kind, url_name):
    # given a supervisor of estate A, who may read and change all of these
    client = api_as(make_staff("supervisor", estates=[estate]))
    url = reverse(url_name, args=[foreign[kind].pk])
    # then estate B's object does not exist for them
    assert client.get(url).status_code == 404
    if kind != "building":  # buildings have no PATCH
        assert client.patch(url, {"name": "x"}, format="json").status_code == 404


@pytest.mark.django_db
def test_another_estates_nested_lists_and_the_estate_itself_are_not_found(clerk, foreign):
    client = api_as(clerk)
    other = foreign["unit"].estate
    assert client.get(reverse("api:estate-detail", args=[other.pk])).status_code == 404
    unit_parties = reverse("api:unit-party-list", args=[foreign["unit"].pk])
    assert client.get(unit_parties).status_code == 404
    notes = reverse("api:party-note-list", args=[foreign["party"].pk])
    assert client.get(notes).status_code == 404
    body = {"category": "away", "text": "abroad until June"}
    assert client.post(notes, body, format="json").status_code == 404


@pytest.mark.django_db
def test_lists_show_only_the_users_estates(clerk, estate, unit, owner, foreign):
    client = api_as(clerk)
    assert ids(client.get(reverse("api:estate-list"))) == {estate.pk}
    assert ids(client.get(reverse("api:unit-list"))) == {unit.pk}
    assert ids(client.get(reverse("api:party-list"))) == {owner.pk}
    assert ids(client.get(reverse("api:building-list"))) == {unit.building_id}
    contracts = client.get(reverse("api:contract-list"))
    assert foreign["contract"].pk not in ids(contracts) and len(ids(contracts)) == 1
    # asking for the other estate explicitly gives nothing either
    other = foreign["unit"].estate_id
    assert ids(client.get(reverse("api:unit-list"), {"estate": other})) == set()
    assert ids(client.get(reverse("api:party-list"), {"q": "李娜"})) == set()


@pytest.mark.django_db
def test_a_unit_cannot_be_created_in_another_estates_building(clerk, foreign):
    response = api_as(clerk).post(
        reverse("api:unit-list"),
        {"building": foreign["building"].pk, "number": "9-1-102"},
        format="json",
    )
    assert response.status_code == 400 and "building" in response.data
    assert not Unit.objects.filter(number="9-1-102").exists()


@pytest.mark.django_db
def test_an_auditor_of_every_estate_sees_both(make_staff, unit, foreign):
    auditor = make_staff("auditor")
    listed = ids(api_as(auditor).get(reverse("api:unit-list")))
    assert listed == {unit.pk, foreign["unit"].pk}


# --- roles -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_cashier_may_read_units_but_not_create_or_change_them(make_staff, building, unit):
    cashier = make_staff("cashier", estates=[building.estate])
    client = api_as(cashier)
    assert client.get(reverse("api:unit-detail", args=[unit.pk])).status_code == 200
    created = client.post(
        reverse("api:unit-list"), {"building": building.pk, "number": "1-1-999"}, format="json"
    )
    changed = client.patch(reverse("api:unit-detail", args=[unit.pk]), {"floor": 9}, format="json")
    assert created.status_code == 403 and changed.status_code == 403
    assert not Unit.objects.filter(number="1-1-999").exists()
    assert Unit.objects.get(pk=unit.pk).floor == 3


@pytest.mark.django_db
def test_only_roles_with_the_permission_create_estates_and_contracts(make_staff, estate):
    clerk = api_as(make_staff("customer_service", estates=[estate]))
    estate_body = {"code": "XH", "name": "星河湾"}
    contract_body = {"estate": estate.pk, "number": "HY-2026-02", "start_date": "2026-07-01"}
    assert clerk.post(reverse("api:estate-list"), estate_body, format="json").status_code == 403
    refused = clerk.post(reverse("api:contract-list"), contract_body, format="json")
    assert refused.status_code == 403
    supervisor = api_as(make_staff("supervisor", estates=[estate]))
    created = supervisor.post(reverse("api:estate-list"), estate_body, format="json")
    assert created.status_code == 201 and created.data["code"] == "XH"
    contract = supervisor.post(reverse("api:contract-list"), contract_body, format="json")
    assert contract.status_code == 201
    assert AuditEvent.objects.filter(
        action="create", subject_type="registry.servicecontract", subject_id=contract.data["id"]
    ).exists()


# --- units -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_clerk_creates_and_changes_a_unit_through_the_services(clerk, building):
    client = api_as(clerk)
    # when
    created = client.post(
        reverse("api:unit-list"),
        {"building": building.pk, "number": " 1-2-502 ", "gross_area": "120.35", "floor": 5},
        format="json",
    )
    # then the service normalised and audited it
    assert created.status_code == 201, created.data
    assert created.data["number"] == "1-2-502" and created.data["gross_area"] == "120.35"
    assert created.data["estate"] == building.estate_id
    unit_id = created.data["id"]
    assert AuditEvent.objects.filter(
        action="create", subject_type="registry.unit", subject_id=str(unit_id), actor=clerk
    ).exists()
    # when a partial update follows
    url = reverse("api:unit-detail", args=[unit_id])
    changed = client.patch(url, {"occupancy": "renovating"}, format="json")
    # then only that field changed, and the change is audited
    assert changed.status_code == 200 and changed.data["occupancy"] == "renovating"
    assert changed.data["gross_area"] == "120.35"
    event = AuditEvent.objects.get(action="update", subject_type="registry.unit")
    assert event.after == {"occupancy": "renovating"}


@pytest.mark.django_db
def test_units_are_found_by_number_owner_name_and_phone_tail(clerk, unit, owner, building):
    other = Unit.objects.create(estate=unit.estate, building=building, number="1-1-302")
    client = api_as(clerk)
    url = reverse("api:unit-list")
    assert ids(client.get(url, {"q": "301"})) == {unit.pk}
    assert ids(client.get(url, {"q": "张伟"})) == {unit.pk}
    assert ids(client.get(url, {"q": "5678"})) == {unit.pk}
    assert ids(client.get(url, {"building": building.pk})) == {unit.pk, other.pk}
    assert ids(client.get(url, {"occupancy": "vacant"})) == set()
    assert ids(client.get(url, {"unit_type": "residential", "q": "302"})) == {other.pk}


@pytest.mark.django_db
def test_a_bad_filter_value_is_a_400_naming_the_parameter(clerk, unit):
    response = api_as(clerk).get(reverse("api:unit-list"), {"occupancy": "haunted"})
    assert response.status_code == 400 and "occupancy" in response.data


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"number": "1-1-401", "gross_area": "-3"}, "gross_area"),
        ({"number": "1-1-301"}, "number"),  # the fixture's unit has this number
        ({"number": "1-1-402", "unit_type": "castle"}, "unit_type"),
        ({"number": "1-1-403", "handover_date": "2026-02-30"}, "handover_date"),
        ({"gross_area": "80"}, "number"),
    ],
)
def test_a_bad_unit_is_refused_naming_the_field_and_nothing_is_written(
    clerk, building, unit, body, field
):
    # given
    client = api_as(clerk)
    before = (Unit.objects.count(), AuditEvent.objects.count())
    # when
    response = client.post(
        reverse("api:unit-list"), {"building": building.pk, **body}, format="json"
    )
    # then
    assert response.status_code == 400
    assert field in response.data
    assert (Unit.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_a_unit_number_taken_by_another_unit_is_refused_on_update(clerk, building, unit):
    other = Unit.objects.create(estate=unit.estate, building=building, number="1-1-302")
    url = reverse("api:unit-detail", args=[other.pk])
    response = api_as(clerk).patch(url, {"number": "1-1-301"}, format="json")
    assert response.status_code == 400 and "number" in response.data
    assert Unit.objects.get(pk=other.pk).number == "1-1-302"


# --- ownership -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_transfer_through_the_api_ends_the_previous_ownership(clerk, unit, owner):
    # given a new owner
    client = api_as(clerk)
    buyer = client.post(
        reverse("api:party-list"),
        {"estate": unit.estate_id, "name": "王芳", "mobile": "139 0000 2222"},
        format="json",
    ).data
    url = reverse("api:unit-party-list", args=[unit.pk])
    # when the sale is recorded
    response = client.post(
        url, {"party": buyer["id"], "start_date": "2026-03-01", "is_payer": True}, format="json"
    )
    # then the previous owner's ownership ends the day before, and both are listed in order
    assert response.status_code == 201, response.data
    assert response.data["party"] == {"id": buyer["id"], "name": "王芳"}
    listed = client.get(url).data["results"]
    assert [(r["party"]["name"], r["end_date"]) for r in listed] == [
        ("张伟", "2026-02-28"),
        ("王芳", None),
    ]


@pytest.mark.django_db
def test_an_ownership_starting_before_the_current_one_is_refused_naming_the_date(
    clerk, unit, owner
):
    buyer = Party.objects.create(estate=unit.estate, name="王芳")
    response = api_as(clerk).post(
        reverse("api:unit-party-list", args=[unit.pk]),
        {"party": buyer.pk, "start_date": "2025-01-01"},
        format="json",
    )
    assert response.status_code == 400 and response.data["field"] == "start_date"
    assert UnitParty.objects.filter(unit=unit).count() == 1


# --- contracts -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_late_fee_clause_without_a_rate_is_refused(make_staff, estate):
    finance = api_as(make_staff("finance", estates=[estate]))
    contract = ServiceContract.objects.get(estate=estate)
    url = reverse("api:contract-detail", args=[contract.pk])
    refused = finance.patch(url, {"late_fee_daily_rate": None}, format="json")
    assert refused.status_code == 400 and "late_fee_daily_rate" in refused.data
    changed = finance.patch(url, {"late_fee_grace_days": 30}, format="json")
    assert changed.status_code == 200 and changed.data["late_fee_grace_days"] == 30
    assert changed.data["late_fee_daily_rate"] == "0.000300"


# --- estates and buildings -------------------------------------------------------------------
@pytest.mark.django_db
def test_a_supervisor_renames_an_estate_and_a_clerk_may_not(make_staff, estate):
    url = reverse("api:estate-detail", args=[estate.pk])
    clerk = api_as(make_staff("customer_service", estates=[estate]))
    assert clerk.patch(url, {"hotline": "0755-1"}, format="json").status_code == 403
    supervisor = api_as(make_staff("supervisor", estates=[estate]))
    response = supervisor.patch(url, {"hotline": "0755-86009999"}, format="json")
    assert response.status_code == 200 and response.data["hotline"] == "0755-86009999"
    assert response.data["code"] == "HY"  # untouched
    event = AuditEvent.objects.get(action="update", subject_type="registry.estate")
    assert event.after == {"hotline": "0755-86009999"}


@pytest.mark.django_db
def test_an_estate_code_in_use_is_refused_naming_the_code(make_staff, estate, other_estate):
    supervisor = api_as(make_staff("supervisor", estates=[estate]))
    created = supervisor.post(
        reverse("api:estate-list"), {"code": "LJ", "name": "又一个"}, format="json"
    )
    assert created.status_code == 400 and "code" in created.data


@pytest.mark.django_db
def test_a_building_is_created_in_ones_own_estate_only(clerk, estate, other_estate):
    url = reverse("api:building-list")
    created = api_as(clerk).post(url, {"estate": estate.pk, "code": "2"}, format="json")
    assert created.status_code == 201 and created.data["name"] == "2栋"
    again = api_as(clerk).post(url, {"estate": estate.pk, "code": "2"}, format="json")
    assert again.status_code == 400 and "code" in again.data
    foreign = api_as(clerk).post(url, {"estate": other_estate.pk, "code": "3"}, format="json")
    assert foreign.status_code == 400 and "estate" in foreign.data
    assert Building.objects.filter(estate=other_estate).count() == 0


@pytest.mark.django_db
def test_a_page_of_units_costs_the_same_queries_for_5_or_50_units(
    clerk, building, owner, django_assert_max_num_queries
):
    client = api_as(clerk)
    url = reverse("api:unit-list")
    Unit.objects.bulk_create(
        Unit(estate=building.estate, building=building, number=f"2-1-{n:03d}") for n in range(4)
    )
    with django_assert_max_num_queries(12) as few:
        assert len(client.get(url).data["results"]) == 5
    Unit.objects.bulk_create(
        Unit(estate=building.estate, building=building, number=f"3-1-{n:03d}") for n in range(45)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(url).data["results"]) == 50
    parties = [Party(estate=building.estate, name=f"业主{n}") for n in range(60)]
    Party.objects.bulk_create(parties)
    with django_assert_max_num_queries(12):
        assert len(client.get(reverse("api:party-list")).data["results"]) == 50
