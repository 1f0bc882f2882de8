"""Turn a model's text answer into checked numbers, or say precisely why not."""

import ast
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from backend.core.vocabulary import ErrorType
from backend.workflow.errors import PredictionError

PLAUSIBLE_FACTOR = 10.0
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def extract_json_object(text: str, *, repair: bool = False) -> dict[str, Any]:
    """The answer's JSON object: bare, fenced in ```json, or surrounded by prose; with `repair`,
    also one with a trailing comma or in single quotes (see `repair_json_object`)."""
    candidates = [text.strip()] + [m.strip() for m in _FENCE.findall(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
            if "predictions" in value:
                return value
    repaired = repair_json_object(text) if repair else None
    if repaired is not None:
        return repaired
    if found:
        return found[0]
    raise PredictionError(ErrorType.PARSE_ERROR, "the answer holds no JSON object")


_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
MAX_REPAIR_CHARS = 20_000


def repair_json_object(text: str) -> dict[str, Any] | None:
    """The object of an answer with one of two slips that lose nothing: a trailing comma
    (`{"UTS": 850,}`) or single quotes (`{'UTS': 850}`, read as a Python literal, never run).
    Only for a complete answer: a truncated one (finish_reason "length") is never repaired."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start or end - start > MAX_REPAIR_CHARS:
        return None
    body = text[start : end + 1]
    attempts: tuple[Callable[[], Any], ...] = (
        lambda: json.loads(_TRAILING_COMMA.sub(r"\1", body)),
        lambda: ast.literal_eval(body),
    )
    for attempt in attempts:
        try:
            value = attempt()
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _as_number(target: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise PredictionError(ErrorType.TYPE_ERROR, f"{target}: {raw!r} is not a number")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        match = re.fullmatch(r"\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*[^\d\s]*\s*", raw)
        if not match:
            raise PredictionError(ErrorType.TYPE_ERROR, f"{target}: {raw!r} is not a number")
        value = float(match.group(1))
    elif isinstance(raw, Mapping) and "value" in raw:
        return _as_number(target, raw["value"])
    else:
        raise PredictionError(ErrorType.TYPE_ERROR, f"{target}: {raw!r} is not a number")
    if not math.isfinite(value):
        raise PredictionError(ErrorType.TYPE_ERROR, f"{target}: {raw!r} is not a finite number")
    return value


def parse_predictions(
    text: str,
    targets: list[str],
    bounds: Mapping[str, tuple[float, float]],
    *,
    repair: bool = False,
) -> tuple[dict[str, float], dict[str, Any] | None]:
    """Values for every target, checked against `bounds`; also the model's analysis if any."""
    answer = extract_json_object(text, repair=repair)
    predictions = answer.get("predictions", answer)
    if not isinstance(predictions, Mapping):
        raise PredictionError(ErrorType.PARSE_ERROR, "`predictions` is not an object")
    values: dict[str, float] = {}
    for target in targets:
        if target not in predictions:
            raise PredictionError(ErrorType.MISSING_FIELD, f"the answer has no value for {target}")
        value = _as_number(target, predictions[target])
        low, high = bounds[target]
        if not low <= value <= high:
            raise PredictionError(
                ErrorType.RANGE_ERROR,
                f"{target}: {value:g} is outside the plausible range [{low:g}, {high:g}]",
            )
        values[target] = value
    analysis = answer.get("analysis")
    return values, analysis if isinstance(analysis, dict) else None


def plausible_bounds(low: float, high: float) -> tuple[float, float]:
    """What the reference values make physically plausible: an order of magnitude around their
    range, and never negative for a property no reference shows negative. Generous on purpose:
    it catches unit slips and runaway numbers, not bold predictions."""
    scale = max(high - low, abs(high), abs(low), 1.0)
    lower = low - PLAUSIBLE_FACTOR * scale
    if low >= 0:
        lower = max(lower, 0.0)
    return lower, high + PLAUSIBLE_FACTOR * scale
