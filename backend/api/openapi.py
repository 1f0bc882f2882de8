"""The OpenAPI document as client generators read it: short operation ids (the route function's
name), the error envelope for every validation failure, and file fields typed as binary."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}


def operation_id(route: APIRoute) -> str:
    return route.name


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _envelope_for_validation_errors(_binary_files(document))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _envelope_for_validation_errors(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents its own 422 body; this app answers every 422 with the envelope."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422")
            if answer is not None:
                answer["description"] = "Validation Error"
                answer["content"] = {"application/json": {"schema": ENVELOPE_REF}}
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def _binary_files(document: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.1 says `contentMediaType`; generators such as openapi-python-client only
    recognise a file upload by `format: binary`."""
    for schema in document.get("components", {}).get("schemas", {}).values():
        for field in schema.get("properties", {}).values():
            if field.get("type") == "string" and "contentMediaType" in field:
                field["format"] = "binary"
    return document
