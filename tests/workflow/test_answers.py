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
