import pytest

from backend.workflow.answers import extract_json_object, parse_predictions, plausible_bounds
from backend.workflow.errors import PredictionError

TARGETS = ["UTS(MPa)", "El(%)"]
BOUNDS = {"UTS(MPa)": plausible_bounds(300, 1500), "El(%)": plausible_bounds(1, 60)}
GOOD = '{"analysis": {"reasoning": "similar"}, "predictions": {"UTS(MPa)": 850, "El(%)": 22.5}}'


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        f"```json\n{GOOD}\n```",
        f"Here is my answer:\n```\n{GOOD}\n```\nHope it helps.",
        f"Based on the references {{UTS}} rises. {GOOD} That is all.",
    ],
)
def test_bare_fenced_and_prose_wrapped_answers(text):
    values, analysis = parse_predictions(text, TARGETS, BOUNDS)
    assert values == {"UTS(MPa)": 850.0, "El(%)": 22.5}
    assert analysis == {"reasoning": "similar"}


def test_numbers_written_as_strings_with_units_are_accepted():
    text = '{"predictions": {"UTS(MPa)": "850 MPa", "El(%)": "22.5%"}}'
    assert parse_predictions(text, TARGETS, BOUNDS)[0] == {"UTS(MPa)": 850.0, "El(%)": 22.5}


@pytest.mark.parametrize(
    ("text", "error_type"),
    [
        ("I cannot answer that.", "parse_error"),
        ('{"predictions": [850, 22]}', "parse_error"),
        ('{"predictions": {"UTS(MPa)": 850}}', "missing_field"),
        ('{"predictions": {"UTS(MPa)": "high", "El(%)": 20}}', "type_error"),
        ('{"predictions": {"UTS(MPa)": true, "El(%)": 20}}', "type_error"),
        ('{"predictions": {"UTS(MPa)": null, "El(%)": 20}}', "type_error"),
        ('{"predictions": {"UTS(MPa)": 1e9, "El(%)": 20}}', "range_error"),
        ('{"predictions": {"UTS(MPa)": 850, "El(%)": -5}}', "range_error"),
    ],
)
def test_bad_answers_are_classified(text, error_type):
    with pytest.raises(PredictionError) as info:
        parse_predictions(text, TARGETS, BOUNDS)
    assert info.value.error_type == error_type


def test_plausible_bounds_widen_the_reference_range():
    low, high = plausible_bounds(300, 1500)
    assert low == 0 and high == 16500  # never negative when no reference is
    assert plausible_bounds(-50, 50) == (-1050, 1050)


def test_the_object_holding_predictions_wins_over_other_objects():
    text = 'Units: {"UTS": "MPa"}. Answer: {"predictions": {"UTS(MPa)": 900, "El(%)": 10}}'
    assert extract_json_object(text)["predictions"]["UTS(MPa)"] == 900


@pytest.mark.parametrize(
    "text",
    [
        '{"analysis": {"reasoning": "x"}, "predictions": {"UTS(MPa)": 850, "El(%)": 22.5,},}',
        "{'analysis': {'reasoning': \"it's like R3\"},"
        " 'predictions': {'UTS(MPa)': 850, 'El(%)': 22.5}}",
        "Answer:\n```json\n{'predictions': {'UTS(MPa)': 850, 'El(%)': 22.5,}}\n```",
    ],
)
def test_a_trailing_comma_or_single_quotes_are_repaired_in_a_complete_answer(text):
    values, _ = parse_predictions(text, TARGETS, BOUNDS, repair=True)
    assert values == {"UTS(MPa)": 850.0, "El(%)": 22.5}
    # Without repair (a truncated answer, finish_reason "length") it stays a parse failure.
    with pytest.raises(PredictionError):
        parse_predictions(text, TARGETS, BOUNDS)


def test_repair_never_invents_what_was_cut_off():
    truncated = '{"predictions": {"UTS(MPa)": 850, "El(%)": 2'
    with pytest.raises(PredictionError) as info:
        parse_predictions(truncated, TARGETS, BOUNDS, repair=True)
    assert info.value.error_type == "parse_error"
    # Python expressions are not evaluated, only literals read.
    with pytest.raises(PredictionError):
        parse_predictions("{'predictions': __import__('os')}", TARGETS, BOUNDS, repair=True)


def test_the_json_schema_response_format_only_where_litellm_supports_it():
    from backend.workflow.structured import response_format_for

    shaped = response_format_for("openai/gpt-4o", TARGETS)
    assert shaped is not None and shaped["type"] == "json_schema"
    schema = shaped["json_schema"]["schema"]
    assert schema["properties"]["predictions"]["required"] == TARGETS
    assert response_format_for("openai/fake-model", TARGETS) is None
    assert response_format_for("ollama/llama3", TARGETS) is None
