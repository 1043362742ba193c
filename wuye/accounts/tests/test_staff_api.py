"""Staff administration through the API: the same rules as the pages."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from wuye.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_staff, estate):
    client = APIClient()
    client.force_authenticate(make_staff("supervisor", estates=[estate]))
    return client


def test_the_api_adds_staff_and_answers_the_temporary_password_once(api, estate):
    response = api.post(
        "/api/v1/staff/",
        {"full_name": "李娜", "login": "lina", "roles": ["cashier"], "estates": [estate.pk]},
        format="json",
    )
    assert response.status_code == 201, response.data
    user = get_user_model().objects.get(username="lina")
    assert user.check_password(response.data["temporary_password"])
    assert response.data["staff"]["name"] == "李娜"
    assert response.data["staff"]["roles"] == ["cashier"]
    assert response["Cache-Control"] == "no-store"
    listed = api.get("/api/v1/staff/").data["results"]
    assert [s["name"] for s in listed if s["login"] == "lina"] == ["李娜"]


def test_the_api_refuses_another_estate_and_hides_its_staff(api, make_staff, other_estate):
    refused = api.post(
        "/api/v1/staff/",
        {"full_name": "赵六", "login": "zhao6", "roles": ["cashier"], "estates": [other_estate.pk]},
        format="json",
    )
    assert refused.status_code == 403
    elsewhere = make_staff("cashier", estates=[other_estate])
    assert api.get(f"/api/v1/staff/{elsewhere.pk}/").status_code == 404
    assert api.post(f"/api/v1/staff/{elsewhere.pk}/deactivate/").status_code == 404


def test_the_api_deactivates_and_resets_and_audits(api, make_staff, estate):
    cashier = make_staff("cashier", estates=[estate])
    reset = api.post(f"/api/v1/staff/{cashier.pk}/password/", {}, format="json")
    assert reset.status_code == 200
    cashier.refresh_from_db()
    assert cashier.check_password(reset.data["temporary_password"])
    gone = api.post(f"/api/v1/staff/{cashier.pk}/deactivate/")
    assert gone.status_code == 200 and gone.data["is_active"] is False
    assert AuditEvent.objects.filter(subject_id=str(cashier.pk)).count() == 2


def test_a_cashier_gets_no_staff_api(make_staff, estate):
    client = APIClient()
    client.force_authenticate(make_staff("cashier", estates=[estate]))
    assert client.get("/api/v1/staff/").status_code == 403
