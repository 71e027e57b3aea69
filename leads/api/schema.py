"""The error answers every API operation can give, documented once for the whole schema.

DRF answers 401 (no or a wrong token), 403 (a role that may not), 404 (an unknown id, a page
past the last), 415 (a body that is not JSON), 429 (throttled) and 400 (a body or query it
cannot read) the same way for
every view; writing them on each view would let one be forgotten. A drf-spectacular
postprocessing hook adds the ones an operation does not document itself, so the schema
names every status the API gives (schemathesis checks it in tests/api/).
"""

ERROR_DETAIL = "ErrorDetail"
FIELD_ERRORS = "FieldErrors"

COMPONENTS = {
    ERROR_DETAIL: {
        "type": "object",
        "description": "Why the request was refused, in one sentence.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    FIELD_ERRORS: {
        "type": "object",
        "description": "Errors by field, each a list of messages (nested for a list or an "
        'object field), e.g. {"email": ["Enter a valid email address."]}; or, for a body '
        'that is not readable JSON, {"detail": "JSON parse error - ..."}. Nothing was stored.',
        "additionalProperties": {},
    },
}

DESCRIPTIONS = {
    "400": "Refused input; nothing was stored.",
    "401": "No token, or an unknown one: send `Authorization: Token <key>`.",
    "403": "Your role does not allow this.",
    "404": "Not found, or not visible to you (a rep sees only their own leads), or a page "
    "past the last.",
    "415": "The body must be JSON: send `Content-Type: application/json`.",
    "429": "Too many requests; retry after the seconds in the Retry-After header.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _accepts_input(operation: dict) -> bool:
    return "requestBody" in operation or any(
        parameter.get("in") == "query" for parameter in operation.get("parameters", [])
    )


def _may_be_missing(path: str, operation: dict) -> bool:
    # An unknown id in the path, or a page number past the last page.
    return "{" in path or any(
        parameter.get("name") == "page" for parameter in operation.get("parameters", [])
    )


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error answers operations leave out."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in COMPONENTS.items():
        schemas.setdefault(name, schema)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            codes = ["401", "403", "429"]
            if _accepts_input(operation):
                codes.append("400")
            if "requestBody" in operation:
                codes.append("415")
            if _may_be_missing(path, operation):
                codes.append("404")
            for code in codes:
                if code not in responses:
                    schema = _ref(FIELD_ERRORS if code == "400" else ERROR_DETAIL)
                    responses[code] = {"content": _json(schema), "description": DESCRIPTIONS[code]}
                elif code == "400":
                    _also_parse_errors(responses[code])
            operation["responses"] = dict(sorted(responses.items()))
    return result


def _also_parse_errors(response: dict) -> None:
    """A view's own 400 shape, or the parser's {"detail": ...} for a body it cannot read."""
    content = response.setdefault("content", {})
    media = content.setdefault("application/json", {})
    own = media.get("schema")
    if own is None:
        media["schema"] = _ref(FIELD_ERRORS)
    elif own != _ref(FIELD_ERRORS):
        media["schema"] = {"anyOf": [own, _ref(ERROR_DETAIL)]}
