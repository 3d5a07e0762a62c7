"""The API's OpenAPI schema, made to say what the API really does.

FastAPI's generated schema only knows the 200 answers and a 422 the API never sends (it
answers invalid bodies with 400). This module rewrites each operation's responses from
``STATUS_CODES`` (the codes each route can return, with the Bento error body), declares
the formats of the IDs in paths (UUIDs; image IDs are 32 bytes of hex) and the raw bodies
of the upload routes, so clients and ``schemathesis`` can rely on it. It also computes the
``Allow`` header of a 405 answer from every route that matches the path.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.routing import Match

# Answers every route that reads the API key can give.
COMMON = {400, 503}
STATUS_CODES: dict[tuple[str, str], set[int]] = {
    ("get", "/health"): {200, 503},
    ("get", "/metrics"): {200, 503},
    ("get", "/version"): {200},
    ("get", "/user/quotas"): {200} | COMMON,
    ("get", "/images/upload/{image_id}"): {200, 204} | COMMON,
    ("put", "/images/upload/{image_id}"): {200, 204, 413} | COMMON,
    ("delete", "/images/{image_id}"): {200, 404} | COMMON,
    ("get", "/inputs/upload"): {200} | COMMON,
    ("put", "/inputs/upload/{input_id}"): {200, 204, 413} | COMMON,
    ("delete", "/inputs/{input_id}"): {200, 404} | COMMON,
    ("get", "/receipts/upload"): {200} | COMMON,
    ("put", "/receipts/upload/{receipt_id}"): {200, 204, 413} | COMMON,
    ("get", "/receipts/stark/receipt/{job_id}"): {200, 404} | COMMON,
    ("get", "/receipts/{job_id}"): {200, 404} | COMMON,
    ("post", "/sessions/create"): {200, 404} | COMMON,
    ("get", "/sessions/status/{job_id}"): {200, 404} | COMMON,
    ("get", "/sessions/stop/{job_id}"): {200, 404} | COMMON,
    ("get", "/sessions/exec_only_journal/{job_id}"): {200, 404} | COMMON,
    ("get", "/sessions/logs/{job_id}"): {200, 404} | COMMON,
    ("post", "/snark/create"): {501} | COMMON,
    ("get", "/snark/status/{job_id}"): {501} | COMMON,
}
DESCRIPTIONS = {
    200: "Success",
    204: "Already exists (nothing to upload); no body",
    400: "Invalid request: malformed ID, body or API key",
    404: "No such image, input, receipt, session or route",
    405: "Method not allowed on this path (see the Allow header)",
    413: "Upload larger than the configured limit",
    501: "Not implemented by this cluster",
    503: "Task database or object store unavailable; retry later",
}
UUID_PARAMS = {"job_id", "input_id", "receipt_id"}
IMAGE_ID_PATTERN = "^(0[xX])?[0-9a-fA-F]{64}$"
UPLOAD_BODIES = {  # path: (description, required)
    "/images/upload/{image_id}": ("a static RV32IM ELF; its image ID must equal the path's", True),
    "/inputs/upload/{input_id}": ("the guest's input bytes (may be empty)", False),
    "/receipts/upload/{receipt_id}": ("a proofmarket receipt", True),
}
# Routes whose success answer has no body.
EMPTY_SUCCESS = {
    ("put", "/images/upload/{image_id}"),
    ("put", "/inputs/upload/{input_id}"),
    ("put", "/receipts/upload/{receipt_id}"),
    ("delete", "/images/{image_id}"),
    ("delete", "/inputs/{input_id}"),
}
ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
RAW_BODY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["type", "msg"],
    "properties": {"type": {"type": "string"}, "msg": {"type": "string"}},
}


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Methods of the routes of the most specific path template matching the request
    (``/inputs/upload`` over ``/inputs/{input_id}``), for the ``Allow`` header."""
    by_template: dict[str, set[str]] = {}
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        route_methods = getattr(route, "methods", None)
        if match != Match.NONE and route_methods:
            by_template.setdefault(getattr(route, "path", ""), set()).update(route_methods)
    if not by_template:
        return []
    best = min(by_template, key=lambda template: template.count("{"))
    return sorted(by_template[best])


def _responses(codes: set[int], success: dict[str, Any] | None) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for code in sorted(codes):
        if code == 200:
            responses["200"] = success or {"description": DESCRIPTIONS[200]}
        elif code == 204:
            responses["204"] = {"description": DESCRIPTIONS[204]}
        else:
            responses[str(code)] = {
                "description": DESCRIPTIONS[code],
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}
                },
            }
    responses["405"] = {"description": DESCRIPTIONS[405]}
    return responses


def _fix_parameters(operation: dict[str, Any]) -> None:
    for param in operation.get("parameters", []):
        if param.get("in") != "path":
            continue
        if param["name"] in UUID_PARAMS:
            param["schema"] = {"type": "string", "format": "uuid"}
        elif param["name"] == "image_id":
            param["schema"] = {"type": "string", "pattern": IMAGE_ID_PATTERN}


def build_schema(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema with the real status codes, ID formats and upload bodies."""
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            codes = STATUS_CODES.get((method, path))
            if codes is None:
                raise RuntimeError(f"{method.upper()} {path}: add its status codes to openapi.py")
            success = operation.get("responses", {}).get("200")
            if (method, path) in EMPTY_SUCCESS:
                success = {"description": "Success; no body"}
            operation["responses"] = _responses(codes, success)
            _fix_parameters(operation)
            if method == "put" and path in UPLOAD_BODIES:
                description, required = UPLOAD_BODIES[path]
                operation["requestBody"] = {
                    "description": description,
                    "required": required,
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                }
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`build_schema` (built once, on first request) as the app's schema."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_schema(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["STATUS_CODES", "allowed_methods", "build_schema", "install_openapi"]
