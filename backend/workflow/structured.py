"""The answer's shape as a JSON schema, sent as the provider's structured-output response
format where litellm says the model supports it (elsewhere the prompt alone asks for it)."""

from typing import Any

import litellm


def answer_schema(targets: list[str]) -> dict[str, Any]:
    """{"analysis": {"reasoning": str}, "predictions": {TARGET: number}} — what the prompt asks."""
    return {
        "type": "object",
        "properties": {
            "analysis": {
                "type": "object",
                "properties": {"reasoning": {"type": "string"}},
                "required": ["reasoning"],
                "additionalProperties": False,
            },
            "predictions": {
                "type": "object",
                "properties": {t: {"type": "number"} for t in targets},
                "required": list(targets),
                "additionalProperties": False,
            },
        },
        "required": ["analysis", "predictions"],
        "additionalProperties": False,
    }


def response_format_for(model: str, targets: list[str]) -> dict[str, Any] | None:
    """The `response_format` for litellm, or None when the model has no JSON-schema mode."""
    try:
        supported = litellm.supports_response_schema(model=model)
    except Exception:  # an unknown model: litellm may raise rather than answer False
        supported = False
    if not supported:
        return None
    return {
        "type": "json_schema",
        "json_schema": {"name": "prediction", "schema": answer_schema(targets), "strict": True},
    }
