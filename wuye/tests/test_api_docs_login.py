"""The API schema and docs need a login in production (issue 12 §8); the demo (DEBUG, or
API_DOCS_PUBLIC) keeps them open."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.API_DOCS_PUBLIC = False


def test_the_schema_is_refused_to_a_visitor(production):
    response = APIClient().get("/api/v1/schema/")
    assert response.status_code in (401, 403)
    assert b"openapi" not in response.content


def test_the_docs_send_a_visitor_to_the_login_page(production, client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/v1/docs/")


def test_signed_in_staff_read_the_schema_and_the_docs(production, client, make_staff, estate):
    client.force_login(make_staff("finance", estates=[estate]))
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    assert client.get("/api/v1/docs/").status_code == 200


def test_a_staff_token_reads_the_schema(production, make_staff, estate):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_staff("auditor", estates=[estate]))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/schema/").status_code == 200


def test_the_demo_keeps_them_open(settings, client):
    settings.API_DOCS_PUBLIC = True
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
