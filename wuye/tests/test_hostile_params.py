"""Every GET endpoint of the URL conf, walked as a signed-in supervisor with hostile
parameters: a NUL byte, impossible dates and months, ids that are not numbers or do not fit
a database integer. Each must be answered 2xx/3xx/4xx, never 5xx (issue 12 §8: 37 of 3,212
fuzzed GETs were 500s). And every date, month, id or number parameter an endpoint reads is a
400 naming it when it cannot be read (core.params), never silently ignored. A page added
tomorrow is walked the day it is added."""

import json

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.http import QueryDict

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


def test_an_impossible_date_or_a_bad_id_is_a_400_naming_it(client, make_staff, unit):
    client.force_login(make_staff("supervisor", estates=[unit.estate]))
    client.raise_request_exception = False
    page = client.get("/audit/", {"from": "2026-02-30"})
    assert page.status_code == 400
    assert "from: “2026-02-30” is not a date (YYYY-MM-DD)" in page.content.decode()
    assert "The request could not be read" in page.content.decode()
    assert client.get("/payments/day/", {"date": "2026-02-30"}).status_code == 400
    assert client.get("/payments/", {"unit": "²"}).status_code == 400
    answer = client.get("/api/v1/reports/dashboard/", {"as_of": "abc"})
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": "as_of: “abc” is not a date (YYYY-MM-DD)",
        "code": "invalid",
        "field": "as_of",
    }
    months = client.get("/api/v1/billing/charges/", {"period": "2026-13"})
    assert (months.status_code, months.json()["field"]) == (400, "period")
    # while good values still filter, and an empty field of a filter form is no filter
    assert client.get("/audit/", {"from": "2026-02-28", "to": ""}).status_code == 200
    assert client.get("/payments/list/", {"date": "", "amount_min": "10"}).status_code == 200
    back = client.get("/owner/large/", {"next": "2026-02-30"})
    assert back.status_code == 302 and back["Location"] == "/owner/"


# --- every typed parameter an endpoint reads ---------------------------------------------------
DATES = {"date", "as_of", "from", "to", "start", "end", "since", "until", "read_on", "day"}
DATES |= {"date_from", "date_to"}
MONTHS = {"period", "month", "before"}
IDS = {"estate", "unit", "building", "party", "item", "fee_item", "campaign", "case", "run"}
IDS |= {"assignee", "collector", "cashier", "stage", "days", "year", "account", "parent"}
IDS |= {"mandate", "meter", "merchant", "batch", "shift", "payment", "receipt", "charge"}
IDS |= {"template", "policy", "source_id", "id", "pk"}
UNREADABLE = {"date": "2026-02-30", "month": "2026-13", "id": "abc"}
GOOD = {"date": "2026-02-27", "month": "2026-02", "id": "1"}
# A parameter of one of those names that is text on that endpoint, and why.
TEXT = {
    ("/notifications/consents/<int:party_pk>/", "from"): "where the form was opened (window)",
    ("/payments/list/", "unit"): "a unit number or part of one",
    ("/api/v1/payments/", "unit"): "a unit number or part of one",
    ("/api/v1/notifications/messages/", "party"): "an owner's name, payment reference or id",
    ("/notifications/", "party"): "an owner's name, payment reference or id",
    ("/api/v1/schema/", "estate"): "the schema describes the filters, it filters nothing",
    ("/api/v1/schema/", "fee_item"): "the schema describes the filters, it filters nothing",
    ("/api/v1/collection/limitation/", "estate"): "the estate's code",
}


def _kind(name: str) -> str | None:
    return "date" if name in DATES else "month" if name in MONTHS else "id" if name in IDS else None


class _Reads(QueryDict):
    """A query string that notes the names the view read by name (not those it walked
    through whole: the NUL check, copying, encoding)."""

    seen: set[str] = set()

    def get(self, key, default=None):
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def getlist(self, key, default=None):
        self.seen.add(key)
        return super().getlist(key, default)

    def items(self):
        for key, values in self.lists():
            yield key, values[-1] if values else []

    def values(self):
        for _key, value in self.items():
            yield value

    def dict(self):
        return dict(self.items())


def _recording_get(self):
    if "_reads" not in self.__dict__:
        self.__dict__["_reads"] = _Reads(self.environ.get("QUERY_STRING", ""))
    return self.__dict__["_reads"]


def _set_get(self, value):
    self.__dict__["_reads"] = value


def _names(response, name: str) -> bool:
    """Whether a 400 names `name`: the API's `field` (or a field of a validation error), the
    error page's parameter."""
    if response["Content-Type"].startswith("application/json"):
        body = json.loads(response.content)
        return isinstance(body, dict) and name in (body.get("field"), *body)
    return f'data-parameter="{name}"' in response.content.decode(errors="replace")


def test_every_date_month_and_id_parameter_read_is_a_400_naming_it_when_unreadable(
    client, make_staff, owner, unit, building, estate, monkeypatch
):
    # given every GET endpoint, and the query parameters each one reads (noted as it reads
    # them, with no parameters and with good values of every name)
    monkeypatch.setattr(WSGIRequest, "GET", property(_recording_get, _set_get))
    world = {"owner": owner, "unit": unit, "building": building, "estate": estate}
    client.force_login(make_staff("supervisor", estates=[estate]))
    client.raise_request_exception = False
    good = {n: GOOD[_kind(n)] for n in NAMES if _kind(n)}
    good |= {"estate": estate.pk, "unit": unit.pk, "building": building.pk, "party": owner.pk}
    failures, checked = [], 0
    for endpoint in endpoints():
        path = endpoint.path(_values(endpoint, world, False))
        _Reads.seen = set()
        client.get(path)
        client.get(path, good)
        read = {n for n in _Reads.seen if _kind(n) and (endpoint.route, n) not in TEXT}
        # when each is sent a value that cannot be read
        for name in sorted(read):
            response = client.get(path, good | {name: UNREADABLE[_kind(name)]})
            checked += 1
            # then the answer is a 400 that names the parameter
            if response.status_code != 400 or not _names(response, name):
                failures.append(f"{response.status_code} {endpoint.route} ?{name}=")
    assert checked > 100, checked
    assert not failures, f"{len(failures)} not refused:\n" + "\n".join(failures)
