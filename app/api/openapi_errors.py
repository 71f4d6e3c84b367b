"""Document, on every operation, the error responses the app's edges really send.

The routers declare their success bodies and the errors particular to them (`ERROR_RESPONSES`);
the errors that come from the edges are added here, in one pass over the generated document:

* 401: every operation with a security requirement (`app.api.deps.CALLER`) answers a missing,
  unknown, expired or revoked token with 401 (before validating anything);
* 403: the role check (`app.auth.policy.require`), except on the operations that every role may
  call (`EVERY_ROLE`);
* 404: every operation with a path parameter (a missing resource, or one that is not yours);
* 409: every operation that writes (someone else is changing the same data);
* 413: every operation with a request body (`app.api.limits.BodySizeLimit`);
* 422: every operation with parameters or a body (`app.api.errors` answers validation);
* 503: every operation, as each reads the database (the caller's token at least), with
  `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from app.api.schemas import ErrorPublic

ERROR_REF = {"$ref": "#/components/schemas/ErrorPublic"}
VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again",
                               "schema": {"type": "integer"}}}
DESCRIPTIONS = {
    "401": "Not authenticated: no bearer token, or one unknown, expired or revoked",
    "403": "Refused: the token's roles do not allow this",
    "404": "Not found (or not yours)",
    "409": "Conflict with the current state, or with a change being made at the same time",
    "413": "The request body is larger than the service accepts",
    "422": "Invalid input; `errors` names each field",
    "503": "The database is unavailable; nothing was changed. Try again after `Retry-After`",
}
EVERY_ROLE = frozenset({
    ("get", "/api/v1/agencies"),
    ("get", "/api/v1/definitions"),
    ("get", "/api/v1/definitions/{key}"),
    ("get", "/api/v1/definitions/{key}/diagram.svg"),
    ("get", "/api/v1/definitions/{key}/heat"),
    ("get", "/api/v1/definitions/{key}/versions"),
    ("get", "/api/v1/definitions/{key}/diff"),
    ("get", "/api/v1/definitions/{key}/versions/{version}/xml"),
    ("post", "/api/v1/decisions/{decision_id}/evaluate"),
    ("get", "/api/v1/publications"),
    ("get", "/api/v1/learning-events"),
})
"""Operations that every role may call (`policy.ACTIONS` allows all roles): no 403 is sent."""
HEALTH_UNAVAILABLE = {"type": "object", "required": ["status", "database"], "properties": {
    "status": {"type": "string"}, "database": {"type": "string"}}}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _error(status: str, schema: dict[str, Any], headers: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    response: dict[str, Any] = {"description": DESCRIPTIONS[status],
                                "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def expected_errors(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses `operation` can answer, by what it takes and who may call it."""
    statuses = []
    if operation.get("security"):
        statuses.append("401")
        if (method, path) not in EVERY_ROLE:
            statuses.append("403")
    if "{" in path:
        statuses.append("404")
    if method not in ("get", "head"):
        statuses.append("409")
    if "requestBody" in operation:
        statuses.append("413")
    if operation.get("parameters") or "requestBody" in operation:
        statuses.append("422")
    statuses.append("503")
    return statuses


def add_error_responses(schema: dict[str, Any]) -> None:
    """Add the edge errors to every operation of `schema`, keeping what a router declared."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorPublic", ErrorPublic.model_json_schema())
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in expected_errors(path, method, operation):
                if status in responses:
                    continue
                if path == "/health":  # its own body, not the error one
                    responses[status] = {"description": "The database is unreachable",
                                         "content": {"application/json": {
                                             "schema": HEALTH_UNAVAILABLE}}}
                elif status == "422":
                    responses[status] = _error(status, VALIDATION_REF)
                else:
                    responses[status] = _error(status, ERROR_REF,
                                               RETRY_AFTER if status == "503" else None)
