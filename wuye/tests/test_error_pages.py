"""The 400, 403, 404 and 500 pages are the site's own, styled and in the user's language
(issue 13 §4), not Django's bare English text."""

import pytest


@pytest.fixture
def cashier(make_staff, estate):
    return make_staff("cashier", estates=[estate])


@pytest.mark.django_db
def test_a_page_that_does_not_exist_says_so_in_chinese(client, cashier):
    client.force_login(cashier)
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    body = response.content.decode()
    assert "bootstrap.min.css" in body
    assert "找不到" in body and "返回工作台" in body


@pytest.mark.django_db
def test_another_estates_record_is_a_styled_404_in_traditional_chinese(
    client, make_staff, other_estate, estate
):
    staff = make_staff("cashier", estates=[estate])
    client.force_login(staff)
    response = client.get(f"/registry/estates/{other_estate.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert response.status_code == 404
    assert "找不到" in response.content.decode()


@pytest.mark.django_db
def test_a_role_without_the_right_gets_a_styled_403(client, cashier):
    client.force_login(cashier)
    response = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403
    body = response.content.decode()
    assert "无权" in body and "主管" in body


@pytest.mark.django_db
def test_an_unreadable_request_is_a_styled_400(client, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = client.get("/", HTTP_HOST="bad host!", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "请求" in response.content.decode()


def test_the_500_page_renders_without_any_context(rf):
    from django.utils import translation

    from wuye.views import server_error

    with translation.override("zh-hans"):
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "出错" in response.content.decode()


@pytest.mark.django_db
def test_under_the_api_an_error_is_the_apis_json_not_a_page(client, make_staff, estate, rf):
    """An API client gets the API's error object for an address no view matches, an id beyond
    a bigint, a NUL byte and a crash (the fuzz test found HTML 404 pages under /api/)."""
    from rest_framework.authtoken.models import Token

    from wuye.views import server_error

    key = Token.objects.create(user=make_staff("supervisor", estates=[estate])).key
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    for url, status in [
        ("/api/v1/collection/demands/x/adhoc/", 404),
        (f"/api/v1/units/{2**70}/", 404),
        ("/api/v1/units/?search=a%00b", 400),
    ]:
        response = client.get(url, **auth)
        assert (response.status_code, response["Content-Type"]) == (status, "application/json")
        assert response.json()["detail"]
    crashed = server_error(rf.get("/api/v1/units/"))
    assert (crashed.status_code, crashed["Content-Type"]) == (500, "application/json")
    assert client.get("/no-such-page/").headers["Content-Type"].startswith("text/html")
