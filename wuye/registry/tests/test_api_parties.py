"""Parties through the API: personal data masked, revealed only with permission and audited."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from wuye.audit.models import AuditEvent
from wuye.registry.models import OwnerNote, Party


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def unmasks(party) -> int:
    return AuditEvent.objects.filter(
        action="unmask", subject_type="registry.party", subject_id=str(party.pk)
    ).count()


@pytest.mark.django_db
def test_phones_and_id_numbers_are_masked_in_lists_and_details(make_staff, owner):
    # given a collector, who may reveal but has not asked to
    client = api_as(make_staff("collector", estates=[owner.estate]))
    # when
    listed = client.get(reverse("api:party-list")).data["results"][0]
    detail = client.get(reverse("api:party-detail", args=[owner.pk])).data
    # then
    for data in (listed, detail):
        assert data["mobile"] == "138****5678"
        assert data["id_number"] == "4403**********123X"
        assert "13812345678" not in str(data)
    assert unmasks(owner) == 0


@pytest.mark.django_db
def test_a_reveal_with_permission_shows_everything_and_is_audited(make_staff, owner):
    # given
    collector = make_staff("collector", estates=[owner.estate])
    client = api_as(collector)
    # when
    detail = client.get(reverse("api:party-detail", args=[owner.pk]), {"reveal": "1"})
    listed = client.get(reverse("api:party-list"), {"reveal": "1"})
    # then
    assert detail.status_code == 200
    assert detail.data["mobile"] == "13812345678"
    assert detail.data["id_number"] == "44030119800101123X"
    assert listed.data["results"][0]["mobile"] == "13812345678"
    assert unmasks(owner) == 2
    event = AuditEvent.objects.filter(action="unmask").first()
    assert event.actor == collector and event.source == "api"


@pytest.mark.django_db
def test_a_reveal_without_permission_is_403_and_writes_nothing(make_staff, owner):
    cashier = api_as(make_staff("cashier", estates=[owner.estate]))
    detail = cashier.get(reverse("api:party-detail", args=[owner.pk]), {"reveal": "1"})
    listed = cashier.get(reverse("api:party-list"), {"reveal": "1"})
    assert detail.status_code == 403 and listed.status_code == 403
    assert "13812345678" not in str(detail.data) + str(listed.data)
    assert unmasks(owner) == 0


@pytest.mark.django_db
def test_another_estates_party_cannot_be_revealed(make_staff, owner, other_estate):
    collector = api_as(make_staff("collector", estates=[other_estate]))
    response = collector.get(reverse("api:party-detail", args=[owner.pk]), {"reveal": "1"})
    assert response.status_code == 404
    assert unmasks(owner) == 0


@pytest.mark.django_db
def test_a_new_party_is_created_normalised_and_answered_masked(make_staff, estate):
    clerk = api_as(make_staff("customer_service", estates=[estate]))
    response = clerk.post(
        reverse("api:party-list"),
        {
            "estate": estate.pk,
            "name": " 王芳 ",
            "mobile": "+86 139 0000 2222",
            "id_number": "440301199002023456",
            "preferred_channels": ["wechat", "sms"],
            "consents": {"sms": True},
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["mobile"] == "139****2222"
    assert response.data["id_number"] == "4403**********3456"
    party = Party.objects.get(pk=response.data["id"])
    assert (party.name, party.mobile, party.phone_tails) == ("王芳", "13900002222", "2222")
    assert party.id_number == "440301199002023456"
    assert response.data["payment_ref"] == party.payment_ref


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"mobile": "12345"}, "mobile"),
        ({"phone_alt": "call me maybe"}, "phone_alt"),
        ({"email": "not-an-email"}, "email"),
        ({"preferred_channels": ["pigeon"]}, "preferred_channels"),
        ({"consents": {"telepathy": True}}, "consents"),
        ({"name": ""}, "name"),
    ],
)
def test_a_malformed_party_is_refused_naming_the_field(make_staff, estate, body, field):
    client = api_as(make_staff("customer_service", estates=[estate]))
    before = (Party.objects.count(), AuditEvent.objects.count())
    response = client.post(
        reverse("api:party-list"), {"estate": estate.pk, "name": "王芳", **body}, format="json"
    )
    assert response.status_code == 400
    assert response.data.get("field") == field or field in response.data
    assert (Party.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_a_party_update_changes_only_what_was_sent(make_staff, owner):
    client = api_as(make_staff("customer_service", estates=[owner.estate]))
    url = reverse("api:party-detail", args=[owner.pk])
    refused = client.patch(url, {"mobile": "0000"}, format="json")
    assert refused.status_code == 400 and refused.data["field"] == "mobile"
    changed = client.patch(url, {"mobile": "139 0000 3333"}, format="json")
    assert changed.status_code == 200 and changed.data["mobile"] == "139****3333"
    owner.refresh_from_db()
    assert (owner.mobile, owner.name) == ("13900003333", "张伟")


@pytest.mark.django_db
def test_parties_are_found_by_name_and_phone_tail(make_staff, owner):
    Party.objects.create(estate=owner.estate, name="王芳", mobile="13900002222")
    client = api_as(make_staff("cashier", estates=[owner.estate]))
    url = reverse("api:party-list")
    assert [p["name"] for p in client.get(url, {"q": "5678"}).data["results"]] == ["张伟"]
    assert [p["name"] for p in client.get(url, {"q": "王"}).data["results"]] == ["王芳"]


# --- owner notes -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_note_is_read_only_by_the_roles_it_is_shared_with(make_staff, owner):
    # given security writes a note meant for the collectors
    guard = make_staff("security", estates=[owner.estate])
    url = reverse("api:party-note-list", args=[owner.pk])
    written = api_as(guard).post(
        url,
        {"category": "away", "text": "abroad until June", "visible_to": ["collector"]},
        format="json",
    )
    assert written.status_code == 201, written.data
    assert written.data["author"] == guard.username
    # then a collector reads it, a cashier does not
    collector = api_as(make_staff("collector", estates=[owner.estate]))
    cashier = api_as(make_staff("cashier", estates=[owner.estate]))
    assert [n["text"] for n in collector.get(url).data["results"]] == ["abroad until June"]
    assert cashier.get(url).data["results"] == []


@pytest.mark.django_db
def test_a_note_needs_text_a_known_role_and_a_unit_of_the_same_estate(
    make_staff, owner, other_estate
):
    from wuye.registry.models import Building, Unit

    client = api_as(make_staff("collector", estates=[owner.estate, other_estate]))
    far = Unit.objects.create(
        estate=other_estate,
        building=Building.objects.create(estate=other_estate, code="9"),
        number="9-1-101",
    )
    url = reverse("api:party-note-list", args=[owner.pk])
    cases = [
        ({"category": "away", "text": "   "}, "text"),
        ({"category": "away", "text": "x", "visible_to": ["neighbours"]}, "visible_to"),
        ({"category": "away", "text": "x", "unit": far.pk}, "unit"),
    ]
    for body, field in cases:
        response = client.post(url, body, format="json")
        assert response.status_code == 400, body
        assert response.data.get("field") == field or field in response.data
    assert not OwnerNote.objects.exists()


@pytest.mark.django_db
def test_a_cashier_may_not_write_notes(make_staff, owner):
    cashier = api_as(make_staff("cashier", estates=[owner.estate]))
    response = cashier.post(
        reverse("api:party-note-list", args=[owner.pk]),
        {"category": "other", "text": "x"},
        format="json",
    )
    assert response.status_code == 403
