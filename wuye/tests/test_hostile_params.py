"""Every GET endpoint of the URL conf, walked as a signed-in supervisor with hostile
parameters: a NUL byte, impossible dates and months, ids that are not numbers or do not fit
a database integer. Each must be answered 2xx/3xx/4xx, never 5xx (issue 12 §8: 37 of 3,212
fuzzed GETs were 500s). A page added tomorrow is walked the day it is added."""

import pytest

from .urlwalk import endpoints

pytestmark = pytest.mark.django_db

# Every query parameter name the views and the API filters read (grep of request.GET /
# query_params, filterset fields), and some a browser or a scanner might send.
NAMES = [
    "q",
    "status",
    "estate",
    "page",
    "kind",
    "active",
    "unit",
    "next",
    "year",
    "start",
    "ref",
    "period",
    "paper",
    "month",
    "language",
    "from",
    "format",
    "department",
    "days",
    "code",
    "barred",
    "as_of",
    "token",
    "to",
    "subject_type",
    "reveal",
    "return",
    "read_on",
    "item",
    "find",
    "end",
    "date",
    "campaign",
    "building",
    "actor",
    "action",
    "party",
    "provider",
    "reason",
    "charge",
    "fee_item",
    "search",
    "ordering",
    "limit",
    "offset",
    "id",
    "pk",
    "parent",
    "is_active",
    "account",
    "source_type",
    "source_id",
    "voucher_year",
    "voucher_no",
    "stage",
    "case",
    "owner",
    "phone",
    "day",
    "since",
    "until",
    "cycle",
    "policy",
    "run",
    "mandate",
    "meter",
    "merchant",
    "order",
    "channel",
    "purpose",
    "template",
    "batch",
    "shift",
    "payment",
    "receipt",
]
HOSTILE = {
    "nul": "a\x00b",
    "impossible date": "2026-02-30",
    "month 13": "2026-13",
    "not a number": "abc",
    "too big": "9" * 30,
    "negative": "-1",
    "exponent": "1e3",
    "superscript digit": "²",
}
HUGE_ID = "9" * 25


def _values(endpoint, world, hostile_id: bool) -> dict[str, str]:
    values = {}
    for conv, name in endpoint.params:
        if conv == "int":
            if hostile_id:
                values[name] = HUGE_ID
                continue
            route = endpoint.route
            if name == "party_pk" or "part" in route.split("<")[0].rsplit("/", 2)[-2]:
                values[name] = world["owner"].pk
            elif name in ("estate_pk", "estate_id") or route.endswith("estates/<int:pk>/"):
                values[name] = world["estate"].pk
            elif "building" in route:
                values[name] = world["building"].pk
            else:
                values[name] = world["unit"].pk
        else:
            values[name] = "x\x00" if hostile_id else "x"
    return values


def test_no_get_endpoint_answers_a_hostile_parameter_with_a_server_error(
    client, make_staff, owner, unit, building, estate
):
    world = {"owner": owner, "unit": unit, "building": building, "estate": estate}
    client.force_login(make_staff("supervisor", estates=[estate]))
    client.raise_request_exception = False
    failures = []
    for endpoint in endpoints():
        for hostile_id in (False, True):
            path = endpoint.path(_values(endpoint, world, hostile_id))
            queries = [{n: v for n in NAMES} for v in HOSTILE.values()]
            # and every name with a different hostile value, so one refusal cannot hide another
            # (a NUL byte is refused before any view: it stays out of these)
            kinds = [v for v in HOSTILE.values() if "\x00" not in v]
            queries += [
                {n: kinds[(i + shift) % len(kinds)] for i, n in enumerate(NAMES)}
                for shift in range(1, 4)
            ]
            for query in queries if not hostile_id else queries[:1]:
                response = client.get(path, query)
                if response.status_code >= 500:
                    bad = sorted({v for v in query.values()})
                    failures.append(f"{response.status_code} {endpoint.route} {path!r} {bad}")
                    break
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures)


def test_a_nul_byte_is_a_400_with_the_styled_page(client, make_staff, estate):
    client.force_login(make_staff("supervisor", estates=[estate]))
    client.raise_request_exception = False
    response = client.get("/registry/units/", {"q": "陈\x00"})
    assert response.status_code == 400
    assert "The request could not be read" in response.content.decode()
    assert client.post("/payments/", {"q": "a\x00"}).status_code == 400
    assert client.get("/registry/units/", {"q": "陈"}).status_code == 200


def test_an_id_beyond_a_database_integer_is_not_found(client, make_staff, estate):
    client.force_login(make_staff("supervisor", estates=[estate]))
    assert client.get(f"/registry/units/{HUGE_ID}/").status_code == 404
    assert client.get(f"/api/v1/units/{HUGE_ID}/").status_code == 404


def test_an_impossible_date_is_no_date_and_a_bad_id_no_record(client, make_staff, unit):
    client.force_login(make_staff("supervisor", estates=[unit.estate]))
    assert client.get("/audit/", {"from": "2026-02-30"}).status_code == 200
    assert client.get("/payments/day/", {"date": "2026-02-30"}).status_code == 200
    assert client.get("/payments/", {"unit": "²"}).status_code == 404
    back = client.get("/owner/large/", {"next": "2026-02-30"})
    assert back.status_code == 302 and back["Location"] == "/owner/"
