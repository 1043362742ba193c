"""The fees REST API: estate-scoped lists, draft standards, approve and publish actions."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from wuye.fees.models import FeeStandard

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_standard_through_the_api_from_draft_to_published(finance, supervisor, property_item):
    # given finance drafts a standard
    response = api(finance).post(
        "/api/v1/fee-standards/",
        {"fee_item": property_item.pk, "rate": "2.80", "effective_from": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 201, response.content
    std_id = response.json()["id"]
    assert response.json()["status"] == "draft" and response.json()["version"] == 1
    # when finance tries to approve it, it is refused
    refused = api(finance).post(f"/api/v1/fee-standards/{std_id}/approve/")
    assert refused.status_code == 403 and "approve_feestandard" in refused.json()["detail"]
    # when the supervisor approves and finance publishes
    assert api(supervisor).post(f"/api/v1/fee-standards/{std_id}/approve/").status_code == 200
    published = api(finance).post(f"/api/v1/fee-standards/{std_id}/publish/")
    # then it is published with a notice
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert published.json()["notice_url"].endswith(f"/fees/standards/{std_id}/notice.pdf")


def test_an_absurd_rate_through_the_api_is_a_400_naming_the_item(finance, property_item):
    response = api(finance).post(
        "/api/v1/fee-standards/",
        {"fee_item": property_item.pk, "rate": "-2", "effective_from": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "rate" and "PROPERTY" in response.json()["detail"]
    assert not FeeStandard.objects.exists()


def test_fee_items_are_listed_and_created_per_estate(
    finance, make_staff, estate, other_estate, property_item
):
    # given a finance user of another estate
    stranger = make_staff("finance", estates=[other_estate])
    # then they see none of this estate's items, and cannot read or use one
    assert api(stranger).get("/api/v1/fee-items/").json()["results"] == []
    assert api(stranger).get(f"/api/v1/fee-items/{property_item.pk}/").status_code == 404
    response = api(stranger).post(
        "/api/v1/fee-standards/",
        {"fee_item": property_item.pk, "rate": "2", "effective_from": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400 and "fee_item" in response.json()
    # while this estate's finance lists it and creates another
    listed = api(finance).get("/api/v1/fee-items/", {"estate": estate.pk}).json()["results"]
    assert [i["code"] for i in listed] == ["PROPERTY"]
    assert listed[0]["gl_account"] == "6001.PROPERTY" and listed[0]["months"] == 1
    created = api(finance).post(
        "/api/v1/fee-items/",
        {
            "estate": estate.pk,
            "code": "PARK",
            "name": "车位管理费",
            "kind": "parking",
            "basis": "per_unit_month",
            "cycle": "quarterly",
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["months"] == 3


def test_a_cashier_reads_standards_but_cannot_draft_one(make_staff, estate, property_item):
    cashier = make_staff("cashier", estates=[estate])
    assert api(cashier).get("/api/v1/fee-standards/").status_code == 200
    response = api(cashier).post(
        "/api/v1/fee-standards/",
        {"fee_item": property_item.pk, "rate": "2", "effective_from": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 403


def test_publishing_twice_with_one_idempotency_key_answers_the_same(
    finance, supervisor, property_item
):
    std = (
        api(finance)
        .post(
            "/api/v1/fee-standards/",
            {"fee_item": property_item.pk, "rate": "2.5", "effective_from": date(2026, 1, 1)},
            format="json",
        )
        .json()
    )
    api(supervisor).post(f"/api/v1/fee-standards/{std['id']}/approve/")
    client = api(finance)
    first = client.post(f"/api/v1/fee-standards/{std['id']}/publish/", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post(f"/api/v1/fee-standards/{std['id']}/publish/", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
