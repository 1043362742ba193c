"""Pages with personal data are not cached; HSTS behind HTTPS."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_signed_in_page_is_no_store(client, make_staff, unit):
    client.force_login(make_staff("supervisor", estates=[unit.estate]))
    response = client.get(f"/registry/units/{unit.pk}/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "no-store" in client.get("/api/v1/units/")["Cache-Control"]


def test_hsts_only_behind_https(settings, client):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/accounts/login/", secure=True)
    assert "max-age=31536000" in response["Strict-Transport-Security"]
