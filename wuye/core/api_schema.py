"""The API schema says how every operation can fail (issue 12: schemathesis found 88
undocumented status codes). drf-spectacular documents the success answers each view
declares; this hook adds, to every operation that does not document them itself, the
answers any of them may give: 400 (a parameter or body refused: a field -> messages
object, or {"detail", "code", "field"}), 401/403 (not signed in, role or estate), 404,
405 (a method the record's state refuses), 409/412/428 (Idempotency-Key), 413 (an upload too
large), 415 (a body that is not JSON/form), 429 (throttled) and 503 (the database was busy;
try again). Their body is an error object (`ApiError`)."""

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
