"""A unit POSTed twice with one Idempotency-Key is created once, and both answers are the same."""

import threading

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from wuye.audit.models import AuditEvent
from wuye.registry.models import Unit


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def unit_audits() -> int:
    return AuditEvent.objects.filter(subject_type="registry.unit").count()


@pytest.mark.django_db
def test_the_same_post_twice_with_one_key_creates_one_unit(make_staff, building):
    # given
    client = api_as(make_staff("customer_service", estates=[building.estate]))
    body = {"building": building.pk, "number": "1-2-601", "gross_area": "98.40"}
    url = reverse("api:unit-list")
    # when the client sends it twice with one key
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="unit-601")
    second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="unit-601")
    # then one unit, one audit row, the same answer
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Unit.objects.filter(number="1-2-601").count() == 1
    assert unit_audits() == 1


@pytest.mark.django_db
def test_without_a_key_the_second_post_is_refused_as_a_duplicate(make_staff, building):
    client = api_as(make_staff("customer_service", estates=[building.estate]))
    body = {"building": building.pk, "number": "1-2-602"}
    url = reverse("api:unit-list")
    assert client.post(url, body, format="json").status_code == 201
    second = client.post(url, body, format="json")
    assert second.status_code == 400 and "number" in second.data
    assert Unit.objects.filter(number="1-2-602").count() == 1


@pytest.mark.django_db
def test_a_patch_repeated_with_one_key_is_applied_once(make_staff, unit):
    client = api_as(make_staff("customer_service", estates=[unit.estate]))
    url = reverse("api:unit-detail", args=[unit.pk])
    for _ in range(2):
        response = client.patch(
            url, {"occupancy": "vacant"}, format="json", HTTP_IDEMPOTENCY_KEY="vacate-301"
        )
        assert response.status_code == 200 and response.data["occupancy"] == "vacant"
    assert AuditEvent.objects.filter(action="update", subject_type="registry.unit").count() == 1


@pytest.mark.django_db
def test_a_refused_post_keeps_nothing_and_the_key_can_be_used_for_the_fix(make_staff, building):
    client = api_as(make_staff("customer_service", estates=[building.estate]))
    url = reverse("api:unit-list")
    bad = {"building": building.pk, "number": "1-2-603", "gross_area": "-1"}
    good = {**bad, "gross_area": "70.00"}
    refused = client.post(url, bad, format="json", HTTP_IDEMPOTENCY_KEY="unit-603")
    assert refused.status_code == 400 and "gross_area" in refused.data
    done = client.post(url, good, format="json", HTTP_IDEMPOTENCY_KEY="unit-603")
    assert done.status_code == 201 and done.data["gross_area"] == "70.00"
    again = client.post(url, bad, format="json", HTTP_IDEMPOTENCY_KEY="unit-603")
    assert again.status_code == 422
    assert Unit.objects.filter(number="1-2-603").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_exactly_one_unit_on_postgresql(make_staff, building):
    if connection.vendor != "postgresql":
        pytest.skip("racing transactions need PostgreSQL (SQLite serialises writers)")
    # given one clerk's token, and eight copies of one request racing with one key
    token = Token.objects.create(user=make_staff("customer_service", estates=[building.estate]))
    body = {"building": building.pk, "number": "1-2-604", "gross_area": "88.00"}
    start = threading.Barrier(8)
    responses = []

    def send():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            start.wait()
            responses.append(
                client.post(
                    reverse("api:unit-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="race-604"
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then exactly one unit and one audit row, and every client got the same 201 answer
    assert Unit.objects.filter(number="1-2-604").count() == 1
    assert unit_audits() == 1
    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.json()["id"] for r in responses}) == 1
