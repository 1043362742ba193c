"""The API fuzzed from its own OpenAPI schema with schemathesis (issue 12, "in CI from now
on"): every operation, `MAX_EXAMPLES` generated requests each (valid by the schema), sent by a
signed-in supervisor (a staff token) through the WSGI application. No answer may be a 5xx,
and every answer must be what the schema says: a documented status code, content type and
body. Grouped by the path's first segment so pytest-xdist can share the work.

NOT YET IN THE SUITE (the file name does not match test_*.py): run it by hand with
`pytest -n 2 wuye/tests/fuzz_api.py`. Its first runs found limit=-1 answered 400 while only
200 was documented (now documented for every operation: wuye/core/api_schema.py); the whole
run was not finished on the shared machine (over 10 minutes under load). Rename it to
test_api_fuzz.py once a full run is green. schemathesis' own pytest plugin
(`schema.parametrize()`) fails under pytest 9 ('Function' object has no attribute '_nodeid'),
hence the plain hypothesis loop below."""

import json
from functools import cache

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db
MAX_EXAMPLES = 2
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@cache
def _document() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


def _group(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/")[0]


def _groups() -> list[str]:
    import django

    django.setup()
    return sorted({_group(p) for p in _document()["paths"]})


@pytest.fixture
def staff_token(make_staff, estate, unit, owner):
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=make_staff("supervisor", estates=[estate])).key


@pytest.mark.parametrize("group", _groups())
def test_the_api_keeps_to_its_schema(group, staff_token):
    schema = schemathesis.openapi.from_dict(_document())
    schema.app = get_wsgi_application()
    headers = {"Authorization": f"Token {staff_token}", "Idempotency-Key": "fuzz-1"}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if _group(operation.path) != group:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # every operation's first failure, then the whole list
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:1500])
    assert not failures, f"{len(failures)} operations:\n\n" + "\n\n".join(failures)
