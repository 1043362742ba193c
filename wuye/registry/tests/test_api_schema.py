"""The OpenAPI schema describes the registry endpoints, and generating it raises no warning
about them."""

import pytest
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from wuye.registry import api, serializers

REGISTRY_PATHS = [
    "/api/v1/estates/",
    "/api/v1/estates/{id}/",
    "/api/v1/buildings/",
    "/api/v1/buildings/{id}/",
    "/api/v1/units/",
    "/api/v1/units/{id}/",
    "/api/v1/units/{unit_pk}/parties/",
    "/api/v1/parties/",
    "/api/v1/parties/{id}/",
    "/api/v1/parties/{party_pk}/notes/",
    "/api/v1/contracts/",
    "/api/v1/contracts/{id}/",
]


@pytest.mark.django_db
def test_the_schema_endpoint_serves_the_registry_paths(make_staff):
    api = APIClient()
    api.force_authenticate(make_staff("auditor"))  # the schema needs a login (API_DOCS_PUBLIC)
    response = api.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert set(REGISTRY_PATHS) <= set(schema["paths"])
    unit_list = schema["paths"]["/api/v1/units/"]
    params = {p["name"] for p in unit_list["get"]["parameters"]}
    assert {"q", "estate", "building", "unit_type", "occupancy", "limit", "offset"} <= params
    assert "Idempotency-Key" in {p["name"] for p in unit_list["post"]["parameters"]}
    party_detail = schema["paths"]["/api/v1/parties/{id}/"]
    assert "reveal" in {p["name"] for p in party_detail["get"]["parameters"]}


def test_the_docs_page_loads(make_staff):
    api = APIClient()
    api.force_authenticate(make_staff("auditor"))
    response = api.get(reverse("api:docs"))
    assert response.status_code == 200


def _ours(message: str) -> bool:
    names = [name for name in dir(api) + dir(serializers) if name[:1].isupper()]
    return (
        "registry" in message
        or any(f"[{name}" in message for name in names)
        or any(f"{name} >" in message or f"> {name}]" in message for name in names)
    )


def test_generating_the_schema_warns_about_nothing_of_the_registry():
    # given a clean slate of generator warnings
    GENERATOR_STATS.reset()
    # when the schema is generated
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    # then none of the warnings or errors come from the registry endpoints
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert [m for m in problems if _ours(m)] == []
    assert set(REGISTRY_PATHS) <= set(schema["paths"])
    # and the registry's enums are named, not hashed
    components = schema["components"]["schemas"]
    assert {"PartyKindEnum", "OccupancyEnum", "PricingModeEnum"} <= set(components)
