"""The per-sample loop (backend/workflow/graph.py) in process: what it asks, what it records,
when it stops."""

import pytest

from backend.core.vocabulary import ErrorType, SampleStatus
from backend.workflow.errors import PredictionError, TaskAuthError
from tests.workflow.fakes import MemorySink, ScriptedPredictor, rules, run_sample


def uts(*values: float) -> list[dict[str, float]]:
    return [{"UTS": v} for v in values]


def test_a_sample_stops_at_the_round_its_change_falls_below_the_threshold():
    sink = MemorySink()
    final = run_sample(ScriptedPredictor({0: uts(800, 850, 851, 900)}), sink, rules())
    assert [(r.iteration, r.status, r.converged_at) for r in sink.rounds] == [
        (1, SampleStatus.RUNNING, None),
        (2, SampleStatus.RUNNING, None),
        (3, SampleStatus.CONVERGED, 3),
    ]
    assert all(r.sample_index == 7 for r in sink.rounds)
    assert final["outcome"] == SampleStatus.CONVERGED
    assert final["history"] == uts(800, 850, 851)


def test_every_target_must_be_below_the_threshold_at_once():
    answers: list[dict[str, float]] = [
        {"UTS": 800, "El": 10},
        {"UTS": 801, "El": 12},
        {"UTS": 802, "El": 12.01},
    ]
    sink = MemorySink()
    run_sample(ScriptedPredictor({0: answers}), sink, rules(targets=["UTS", "El"]))
    assert [r.status for r in sink.rounds][-1] == SampleStatus.CONVERGED
    assert sink.rounds[-1].converged_at == 3


def test_without_early_stop_a_converged_sample_runs_every_round_and_keeps_its_round():
    sink = MemorySink()
    run_sample(
        ScriptedPredictor({0: uts(800, 800, 800)}), sink, rules(max_iterations=3, early_stop=False)
    )
    assert [(r.status, r.converged_at) for r in sink.rounds] == [
        (SampleStatus.RUNNING, None),
        (SampleStatus.RUNNING, 2),
        (SampleStatus.CONVERGED, 2),
    ]


def test_a_sample_that_keeps_moving_ends_not_converged_at_the_round_limit():
    sink = MemorySink()
    final = run_sample(ScriptedPredictor({0: uts(100, 200, 300)}), sink, rules(max_iterations=3))
    assert [r.iteration for r in sink.rounds] == [1, 2, 3]
    assert sink.rounds[-1].status == SampleStatus.NOT_CONVERGED
    assert final["outcome"] == SampleStatus.NOT_CONVERGED


def test_the_predictor_is_shown_the_samples_own_earlier_rounds():
    predictor = ScriptedPredictor({0: uts(100, 200, 300)})
    run_sample(predictor, MemorySink(), rules(max_iterations=3))
    assert [history for _, history in predictor.seen] == [[], uts(100), uts(100, 200)]


def test_a_failed_call_records_the_failure_and_ends_the_sample():
    error = PredictionError(ErrorType.PARSE_ERROR, "no JSON")
    error.attempts = 3
    sink = MemorySink()
    final = run_sample(ScriptedPredictor({0: [{"UTS": 100}, error]}), sink, rules())
    assert [r.iteration for r in sink.rounds] == [1]
    assert sink.failures == [(7, 2, error)]
    assert final["outcome"] == SampleStatus.FAILED


def test_rejected_credentials_stop_the_whole_task():
    error = PredictionError(ErrorType.AUTH_ERROR, "401 invalid key")
    sink = MemorySink()
    with pytest.raises(TaskAuthError, match="invalid key"):
        run_sample(ScriptedPredictor({0: [error]}), sink, rules())
    assert sink.failures == [(7, 1, error)]


def test_a_cancelled_task_asks_nothing_and_records_nothing():
    predictor = ScriptedPredictor({0: uts(100)})
    sink = MemorySink()
    final = run_sample(predictor, sink, rules(), cancelled=True)
    assert final["outcome"] == "cancelled"
    assert predictor.seen == [] and sink.rounds == [] and sink.failures == []


def test_a_resumed_sample_continues_from_its_stored_rounds():
    predictor = ScriptedPredictor({0: uts(100, 150, 151)})
    sink = MemorySink()
    run_sample(predictor, sink, rules(), history=uts(100, 150))
    assert [history for _, history in predictor.seen] == [uts(100, 150)]
    assert [(r.iteration, r.status, r.converged_at) for r in sink.rounds] == [
        (3, SampleStatus.CONVERGED, 3)
    ]


def test_ten_rounds_fit_the_recursion_limit():
    sink = MemorySink()
    run_sample(ScriptedPredictor({0: uts(*range(100, 1100, 100))}), sink, rules(max_iterations=10))
    assert len(sink.rounds) == 10
