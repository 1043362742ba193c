"""Every API operation documents the errors it may answer (issue 12: 88 undocumented status
codes found by schemathesis), with the error body's schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from wuye.core.api_schema import ERRORS


@pytest.mark.django_db
def test_every_operation_documents_the_error_answers():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            absent = set(ERRORS) - set(operation["responses"])
            if absent:
                missing.append(f"{method.upper()} {path}: {sorted(absent)}")
    assert not missing, "\n".join(missing)
    units = schema["paths"]["/api/v1/units/"]["get"]["responses"]
    assert units["200"]["content"]["application/json"]["schema"]["$ref"].endswith("UnitOutputList")
    error = units["400"]["content"]["application/json"]["schema"]["$ref"]
    assert error == "#/components/schemas/ApiError"
    assert "ApiError" in schema["components"]["schemas"]
