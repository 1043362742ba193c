"""What the schema fuzz test (test_api_fuzz.py) found, each pinned by a test of its own: the
API answered 500 to numbers it could not store, and its schema said other than what it
answered (so a client generated from it would reject real answers)."""

import hashlib
from datetime import timedelta

import pytest
from django.db import DataError
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _ok(schema, path, method="get", status="200"):
    return schema["paths"][path][method]["responses"][status]["content"]["application/json"][
        "schema"
    ]


def _component(schema, ref_holder) -> dict:
    return schema["components"]["schemas"][ref_holder["$ref"].rsplit("/", 1)[-1]]


@pytest.fixture
def supervisor_auth(make_staff, estate):
    key = Token.objects.create(user=make_staff("supervisor", estates=[estate])).key
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def test_an_owner_order_for_a_charge_id_beyond_a_bigint_is_a_400(client, owner):
    from wuye.portal.models import OwnerToken

    now = timezone.now()
    OwnerToken.objects.create(
        key_hash=hashlib.sha256(b"k" * 40).hexdigest(),
        phone=owner.mobile,
        expires_at=now + timedelta(days=1),
    )
    response = client.post(
        "/api/v1/owner/orders",
        {"charge_ids": [2**70], "provider": "wechat"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Owner {'k' * 40}",
    )
    assert response.status_code == 400
    assert "charge_ids" in response.json()


def test_a_number_the_database_cannot_hold_is_a_400_wherever_it_is_read():
    from wuye.core.api import exception_handler

    class OutOfRange(Exception):
        sqlstate = "22003"

    pg = DataError("integer out of range")
    pg.__cause__ = OutOfRange()
    for exc in (OverflowError("Python int too large to convert to SQLite INTEGER"), pg):
        response = exception_handler(exc, {})
        assert response.status_code == 400 and response.data["code"] == "out_of_range"
    assert exception_handler(DataError("value too long"), {}) is None  # still a crash


def test_closing_the_month_of_year_0_is_refused_and_a_month_reads_yyyy_mm(
    client, make_staff, estate
):
    key = Token.objects.create(user=make_staff("finance", estates=[estate])).key
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    refused = client.post(
        "/api/v1/ledger/periods/", {"estate": estate.pk, "month": "0000-01"}, **auth
    )
    assert refused.status_code == 400 and "month" in refused.json()
    closed = client.post(
        "/api/v1/ledger/periods/", {"estate": estate.pk, "month": "0400-02"}, **auth
    )
    assert closed.status_code == 201, closed.content
    assert closed.json()["month"] == "0400-02"


def test_the_lists_are_documented_as_they_answer(client, supervisor_auth, schema):
    # the outbox pages; offers and merchant accounts are one short list
    messages = _component(schema, _ok(schema, "/api/v1/notifications/messages/"))
    assert {"count", "results"} <= set(messages["properties"])
    page = client.get("/api/v1/notifications/messages/?limit=1", **supervisor_auth).json()
    assert set(page) == {"count", "next", "previous", "results"}
    for path in ("/api/v1/payments/offers/", "/api/v1/online/merchants/"):
        assert _ok(schema, path)["type"] == "array"
        assert client.get(path, **supervisor_auth).json() == []


def test_values_the_api_writes_are_values_the_schema_allows(schema):
    parts = schema["components"]["schemas"]
    # a party without an email has "" (not an email address)
    assert "format" not in parts["PartyOutput"]["properties"]["email"]
    # a fee item that is not metered has meter_unit ""
    meter_unit = parts["FeeItemOutput"]["properties"]["meter_unit"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in meter_unit["oneOf"]
    # a time of day is "08:00:00", without the UTC offset OpenAPI's format "time" needs
    policy = _component(schema, _ok(schema, "/api/v1/notifications/policies/{estate_pk}/"))
    times = [p for p in policy["properties"].values() if "HH:MM" in p.get("description", "")]
    assert times and all("format" not in p for p in times)
    assert "time" not in {p.get("format") for p in _walk(schema)}
    # starting a run answers 202 with the run; a reused Idempotency-Key 422
    post = schema["paths"]["/api/v1/billing/runs/{id}/post/"]["post"]["responses"]
    assert post["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/RunOut")
    assert "422" in schema["paths"]["/api/v1/units/"]["post"]["responses"]
    # billing's answers are documented, so clients (and the fuzz test) check them
    for path in ("/api/v1/billing/charges/{id}/", "/api/v1/billing/statements/{party_pk}/"):
        assert _ok(schema, path)["$ref"].endswith(("/ChargeDetailOut", "/PartyStatementOut"))
    assert _ok(schema, "/api/v1/billing/runs/")["items"]["$ref"].endswith("/RunOut")
    # the owners' app's errors may be {field: [messages]} ({"phone": ["... blank."]})
    token_refused = _ok(schema, "/api/v1/owner/auth/token", "post", "400")
    assert token_refused == {"$ref": "#/components/schemas/ApiError"}


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_wechat_server_url_answers_plain_text_as_documented(client, schema, settings):
    settings.WUYE_NOTIFY = {"wechat": {"token": "t0ken"}}
    answers = schema["paths"]["/api/v1/notifications/wechat/"]["post"]["responses"]
    assert {"200", "400", "403"} <= {c for c, a in answers.items() if "text/plain" in a["content"]}
    wrong = client.post(
        "/api/v1/notifications/wechat/?signature=x", "<xml/>", content_type="text/xml"
    )
    assert (wrong.status_code, wrong["Content-Type"]) == (403, "text/plain; charset=utf-8")
    signature = hashlib.sha1(b"".join(sorted([b"t0ken", b"1", b"2"]))).hexdigest()
    url = f"/api/v1/notifications/wechat/?signature={signature}&timestamp=1&nonce=2"
    broken = client.post(url, "<xml", content_type="text/xml")
    assert (broken.status_code, broken["Content-Type"]) == (400, "text/plain; charset=utf-8")
    assert client.post(url, "<xml/>", content_type="text/xml").content == b"success"


def test_a_consent_dated_in_year_662_is_refused(client, supervisor_auth, owner):
    """It was stored, and read back as 0662-10-29T21:12:55+08:05:43 (Shanghai's local mean
    time), which is no RFC 3339 date-time."""
    url = f"/api/v1/parties/{owner.pk}/consents/"
    body = {"channel": "sms", "given": True, "source": "window", "method": "signed_form"}
    old = client.post(url, {**body, "at": "0662-10-29T13:06:00Z"}, **supervisor_auth)
    assert old.status_code == 400 and old.json()["field"] == "at"
    recent = client.post(url, {**body, "at": "2026-03-01T09:30:00+08:00"}, **supervisor_auth)
    assert recent.status_code == 201, recent.content
    assert recent.json()["at"] == "2026-03-01T09:30:00+08:00"
