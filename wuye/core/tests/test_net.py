"""The client's address behind the README's reverse proxy: X-Forwarded-For only from a
trusted proxy, read from the right, never forged by the client."""

import pytest
from django.test import RequestFactory

from wuye.core.net import client_ip


def _request(remote: str, forwarded: str = ""):
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_the_client_behind_a_trusted_proxy(behind_proxy):
    assert client_ip(_request("127.0.0.1", "198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("127.0.0.1", "198.51.100.7, 10.1.2.3")) == "198.51.100.7"


def test_a_forged_header_does_not_move_the_client(behind_proxy):
    # the client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the real address
    assert client_ip(_request("127.0.0.1", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    # and a request straight from the internet is not believed at all
    assert client_ip(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    assert client_ip(_request("127.0.0.1", "not-an-address")) == "127.0.0.1"


@pytest.mark.django_db
def test_failed_logins_lock_the_client_not_the_proxy(behind_proxy, settings, client, make_staff):
    # given five bad passwords from one client behind the proxy
    settings.AXES_FAILURE_LIMIT = 2
    user = make_staff("cashier")
    user.set_password("Another-client-2026")
    user.save()
    for _ in range(2):
        client.post(
            "/accounts/login/",
            {"username": user.username, "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    # then another client through the same proxy still signs in
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": "Another-client-2026"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )
    assert response.status_code == 302
