"""The API schema says how every operation can fail (issue 12: schemathesis found 88
undocumented status codes). drf-spectacular documents the success answers each view
declares; this hook adds, to every operation that does not document them itself, the
answers any of them may give: 400 (a parameter or body refused: a field -> messages
object, or {"detail", "code", "field"}), 401/403 (not signed in, role or estate), 404,
405 (a method the record's state refuses), 409/412/428 (Idempotency-Key), 413 (an upload too
large), 415 (a body that is not JSON/form), 422 (an Idempotency-Key already used for another
request), 429 (throttled) and 503 (the database was busy; try again). Their body is an error
object (`ApiError`).

Also here: `times_of_day` (another hook) and the project's `AutoSchema`."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as _AutoSchema
from rest_framework import serializers

ERRORS = {
    "400": "The request was refused: parameters or body not valid, or a business rule",
    "401": "Not signed in (no or a wrong token)",
    "403": "The role or the estate does not allow it",
    "404": "No such record in the caller's estates",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Conflict (e.g. the same Idempotency-Key with another request)",
    "412": "Precondition failed",
    "413": "Too large",
    "415": "Unsupported media type",
    "422": "This Idempotency-Key was already used for a different request; use a new key",
    "428": "Idempotency-Key required",
    "429": "Too many requests; try again later",
    "503": "Busy (a database time limit); nothing was saved, try again",
}
ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: {detail, code[, field]} or {field: [messages]}",
    "additionalProperties": True,
}


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ApiError", ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/ApiError"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, description in ERRORS.items():
                if code not in responses:
                    responses[code] = {
                        "description": description,
                        "content": {"application/json": {"schema": ref}},
                    }
    return result


# A time of day as DRF writes it ("08:00:00", no UTC offset). OpenAPI's `format: time` is
# RFC 3339's full-time, which needs an offset: the schema would call every answer invalid.
TIME_OF_DAY = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
    "example": "08:00:00",
    "description": "A time of day, HH:MM[:SS], local time",
}


def _times_of_day(node) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            for key, value in TIME_OF_DAY.items():
                node.setdefault(key, value)
        for value in node.values():
            _times_of_day(value)
    elif isinstance(node, list):
        for value in node:
            _times_of_day(value)


def times_of_day(result, generator, request, public):
    """Every `format: time` of the schema documented as the HH:MM:SS the API writes."""
    _times_of_day(result)
    return result


class AutoSchema(_AutoSchema):
    """drf-spectacular's, with one correction: a read-only choice field of a model field that
    may be blank documents "" among its values. DRF drops `allow_blank` from read-only model
    fields, so the schema said "ton, kWh or m³" of a fee item's `meter_unit` that is "" for
    every item not metered (found by the fuzz test)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if (
            isinstance(field, serializers.ChoiceField)
            and field.read_only
            and not field.allow_blank
            and _model_field_blank(field)
        ):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _model_field_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:
        return False
