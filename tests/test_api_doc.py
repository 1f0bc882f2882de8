"""docs/API.md stays true: its table of operations and the served OpenAPI document list the same
operations, with the same short operation ids; every documented error answer is the envelope."""

import re
from pathlib import Path

from backend.main import app

API_MD = Path(__file__).resolve().parents[1] / "docs" / "API.md"
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| `([a-z_]+)` \|$", re.MULTILINE)


def served() -> set[tuple[str, str, str]]:
    document = app.openapi()
    return {
        (method.upper(), path, operation["operationId"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def test_the_api_reference_lists_exactly_the_served_operations():
    documented = set(ROW.findall(API_MD.read_text()))
    assert documented == served()


def test_operation_ids_are_short_and_unique():
    ids = [operation_id for _, _, operation_id in served()]
    assert len(ids) == len(set(ids))
    assert all(len(i) <= 24 and "api" not in i for i in ids), ids


def test_every_error_answer_is_the_envelope():
    document = app.openapi()
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"error", "details"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (
                        method,
                        path,
                        status,
                    )


def test_uploads_are_binary_for_client_generators():
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["Body_upload_dataset"]["properties"]["file"]["format"] == "binary"
