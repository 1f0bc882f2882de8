from itertools import pairwise

import pytest

from backend.workflow.convergence import (
    is_converged,
    relative_change,
    relative_changes,
    sample_converged_at,
    target_converged_at,
    trend,
)


@pytest.mark.parametrize(
    ("previous", "current", "expected", "converged"),
    [
        (100, 105, 0.05, False),
        (100, 100.5, 0.005, True),
        (0.05, 0.06, 0.1, False),  # |Δ| / max(0.05, 0.1): the floor is the denominator
        (0, 0.1, 1.0, False),
        (-100, -105, 0.05, False),
        (-100, -100.5, 0.005, True),
    ],
)
def test_worked_cases_of_api_md(previous, current, expected, converged):
    change = relative_change(previous, current)
    assert change == pytest.approx(expected)
    assert is_converged(change, 0.01) is converged


def test_a_change_equal_to_the_threshold_is_not_converged():
    assert relative_change(100, 101) == pytest.approx(0.01)
    assert not is_converged(0.01, 0.01)
    assert is_converged(0.009999, 0.01)


def test_first_round_has_no_change():
    assert relative_changes([850, 855, 857]) == [
        None,
        pytest.approx(5 / 850),
        pytest.approx(2 / 855),
    ]
    assert not is_converged(None, 0.01)


@pytest.mark.parametrize("values", [[850, 855, 857], [0.0, 0.05, -0.2, 3.0], [-0.1, 0.1, -5, 5]])
def test_relative_changes_are_relative_change_round_by_round(values):
    assert relative_changes(values)[1:] == [relative_change(a, b) for a, b in pairwise(values)]


def test_a_sample_converges_when_all_targets_do_at_once():
    history: list[dict[str, float]] = [
        {"a": 100, "b": 10},
        {"a": 100.1, "b": 12},
        {"a": 100.2, "b": 12.01},
    ]
    assert sample_converged_at(history, ["a", "b"], 0.01) == 3
    assert sample_converged_at(history[:2], ["a", "b"], 0.01) is None
    assert sample_converged_at(history, ["a"], 0.01) == 2


def test_target_convergence_is_the_start_of_the_latest_run():
    assert target_converged_at([None, 0.001, 0.5, 0.002, 0.001], 0.01) == 4
    assert target_converged_at([None, 0.001, 0.5], 0.01) is None


def test_trend_words():
    assert trend([None], 0.01) == "first prediction"
    assert trend([None, 0.2, 0.05], 0.01) == "converging"
    assert trend([None, 0.05, 0.2], 0.01) == "still changing"
    assert trend([None, 0.05, 0.001], 0.01) == "converged"
