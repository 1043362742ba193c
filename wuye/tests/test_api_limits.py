"""The API's `limit`: at most 500 rows a page; a word, a negative or a huge number is a 400
naming the parameter (it was a 500 on 17 endpoints, and `limit=700000` stalled the site)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, make_staff, unit):
    client.force_login(make_staff("supervisor", estates=[unit.estate]))
    return client


def test_a_page_is_at_most_500_rows(api):
    response = api.get("/api/v1/units/", {"limit": "500"})
    assert response.status_code == 200 and response.json()["count"] == 1


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "501"},
        {"limit": "700000"},
        {"limit": "10043014950051753984"},
        {"limit": "abc"},
        {"limit": "-1"},
        {"limit": "1e3"},
        {"offset": "10043014950051753984"},
        {"offset": "x"},
    ],
)
def test_a_bad_limit_or_offset_is_a_400_naming_it(api, query):
    for url in ("/api/v1/units/", "/api/v1/notifications/messages/"):
        response = api.get(url, query)
        assert response.status_code == 400, url
        assert list(query) == list(response.json())
