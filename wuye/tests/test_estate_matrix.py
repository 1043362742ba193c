"""Role x endpoint x estate, generated from the URL conf (issue 12, "in CI from now on"):
every role, signed in for estate A only, walks every GET endpoint (staff pages and API) with
estate B's records in the address and in `?estate=`; nothing of estate B (its owner's name,
mobile, unit number) may appear in any answer, and no answer may be a server error.
An endpoint added tomorrow is walked the day it is added; `test_the_matrix_catches_a_leak`
proves the walk fails for an endpoint that leaks."""

from datetime import date
from decimal import Decimal

import pytest
from django.http import HttpResponse
from django.urls import path

from wuye.core.roles import ROLES

from .urlwalk import Endpoint, endpoints

pytestmark = pytest.mark.django_db

# What of estate B a staff member of estate A must never read.
SECRETS = ("泄漏测试业主", "13999990001", "9-9-909")


@pytest.fixture
def estates(estate, other_estate, unit, owner):
    """Estate A (the `estate` fixture, with its unit and owner) and estate B with a building,
    a unit and an owner whose name, mobile and unit number are the secrets."""
    from wuye.registry.models import Building, Party, Unit, UnitParty

    b_building = Building.objects.create(estate=other_estate, code="9", name="9栋")
    b_unit = Unit.objects.create(
        estate=other_estate,
        building=b_building,
        number="9-9-909",
        floor=9,
        gross_area=Decimal("99.00"),
        handover_date=date(2025, 6, 1),
        fee_start_date=date(2025, 7, 1),
    )
    b_owner = Party.objects.create(estate=other_estate, name="泄漏测试业主", mobile="13999990001")
    UnitParty.objects.create(
        estate=other_estate, unit=b_unit, party=b_owner, start_date=date(2025, 6, 1), is_payer=True
    )
    own = {"estate": estate, "building": unit.building, "unit": unit, "owner": owner}
    other = {"estate": other_estate, "building": b_building, "unit": b_unit, "owner": b_owner}
    return own, other


def _pk(endpoint: Endpoint, name: str, world: dict) -> int:
    """The record of `world` an int parameter most likely names (by the route)."""
    head = endpoint.route.split(f"<int:{name}>")[0]
    last = head.rstrip("/").rsplit("/", 1)[-1]
    if name in ("party_pk",) or last.startswith("part"):
        return world["owner"].pk
    if name in ("estate_pk", "estate_id") or last.startswith("estate"):
        return world["estate"].pk
    if last.startswith("building"):
        return world["building"].pk
    return world["unit"].pk


def _path(endpoint: Endpoint, world: dict) -> str:
    return endpoint.path(
        {n: _pk(endpoint, n, world) if c == "int" else "x" for c, n in endpoint.params}
    )


def walk(client, eps, own: dict, other: dict) -> list[str]:
    """Faults of the signed-in client over `eps`: estate B's secrets in an answer, or a
    server error."""
    faults = []
    client.raise_request_exception = False
    for ep in eps:
        # estate B's records in the address, estate B in the filter (one request: the walk
        # runs for every role; crashes on the own estate are test_hostile_params' part)
        for url, query in [(_path(ep, other), {"estate": other["estate"].pk})]:
            response = client.get(url, query)
            if response.status_code >= 500:
                faults.append(f"{response.status_code} {url} {query}")
                continue
            body = b"".join(response) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            leaked = [s for s in SECRETS if s in text]
            if leaked:
                faults.append(f"LEAK {url} {query}: {leaked}")
    return faults


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reads_another_estate_through_any_endpoint(client, make_staff, estates, role):
    from wuye.registry.selectors import can_access_all_estates

    own, other = estates
    user = make_staff(role, estates=[own["estate"]])
    client.force_login(user)
    faults = walk(client, endpoints(), own, other)
    if can_access_all_estates(user):  # the auditor reads every estate (DESIGN §1)
        faults = [f for f in faults if not f.startswith("LEAK")]
    assert not faults, f"{role}: " + "\n".join(faults)


def _leaky_unit(request, pk):
    from wuye.registry.models import Unit

    unit = Unit.objects.get(pk=pk)  # no estate scope: the bug the matrix must catch
    return HttpResponse(f"{unit.number} {unit.estate.name}")


urlpatterns = [path("leaky/units/<int:pk>/", _leaky_unit, name="leaky")]


def test_the_matrix_catches_a_leak(client, make_staff, estates, settings):
    settings.ROOT_URLCONF = __name__
    own, other = estates
    client.force_login(make_staff("cashier", estates=[own["estate"]]))
    faults = walk(client, endpoints(), own, other)
    assert faults and faults[0].startswith("LEAK /leaky/units/")
