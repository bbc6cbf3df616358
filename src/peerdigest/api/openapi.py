"""The OpenAPI schema says what the API really answers: its error bodies and the headers on every answer.

FastAPI documents a 422 as its own `HTTPValidationError` (a list under
`detail`), but `api/validation.py` answers `{detail: "a sentence", errors:
[...]}`, and a route that refuses a value itself answers `{detail}`; both fit
`ValidationProblem`, which every 422 now names (an import's 422 may also be
`ImportRejected`). Every answer carries the X-RateLimit-* headers
(`api/ratelimit.py`) and a 429 or 503 carries Retry-After; the schema says so
once, in components, and refers to it from each response.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM = "#/components/schemas/Problem"
VALIDATION_PROBLEM = "#/components/schemas/ValidationProblem"
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")

HEADERS = {
    "X-RateLimit-Limit": "Requests allowed in the window of this kind of request (see the README, Rate limits)",
    "X-RateLimit-Remaining": "Requests left in the window",
    "X-RateLimit-Reset": "When the window resets, in Unix seconds",
    "Retry-After": "Seconds to wait before trying again (429: over the rate limit; 503: an outage)",
}
RATE_LIMITED = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


def _truthful(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    components["headers"] = {
        name: {"description": text, "schema": {"type": "integer"}} for name, text in HEADERS.items()
    }
    for path, methods in schema.get("paths", {}).items():
        for operation in methods.values():
            for code, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                if path != "/metrics" or code == "200":
                    headers.update({name: _ref(name) for name in RATE_LIMITED})
                if code in ("429", "503"):
                    headers["Retry-After"] = _ref("Retry-After")
                if code == "422":
                    _validation_problem(response)
    for name in FASTAPI_VALIDATION:
        components.get("schemas", {}).pop(name, None)
    return schema


def _validation_problem(response: dict) -> None:
    json_body = response.setdefault("content", {}).setdefault("application/json", {})
    given = json_body.get("schema", {}).get("$ref", "")
    if given.rsplit("/", 1)[-1] in (*FASTAPI_VALIDATION, "Problem", "") or given == VALIDATION_PROBLEM:
        json_body["schema"] = {"$ref": VALIDATION_PROBLEM}
    else:  # a route's own 422 body (an import's problems), or a request that did not match the schema
        json_body["schema"] = {"oneOf": [{"$ref": given}, {"$ref": VALIDATION_PROBLEM}]}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and /openapi.json, /docs) describe the real answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _truthful(
                get_openapi(
                    title=app.title, version=app.version, description=app.description, routes=app.routes,
                    tags=app.openapi_tags, servers=app.servers,
                )
            )
        return app.openapi_schema

    app.openapi = openapi
