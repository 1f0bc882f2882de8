"""Retrieval, prompts, and the rule that known target values in the test file are ground truth
only: never a feature, never used for retrieval, never in `composition` or a prompt."""

import asyncio
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from backend.workflow import retrieval
from backend.workflow.predictors import BaselinePredictor, RunLimits
from backend.workflow.prompts import render_prompt
from backend.workflow.retrieval import ReferenceIndex, nearest
from backend.workflow.task_data import TaskDataError, check_tables, prepare, retrieve

TARGETS = ["UTS", "El"]


def reference() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": [f"R{i}" for i in range(6)],
            "Fe": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "Processing": ["CAST", "CAST", "WROUGHT", "WROUGHT", "CAST", "WROUGHT"],
            "Formula": [f"Fe{i}" for i in range(6)],
            "UTS": [500.0, 550.0, 600.0, 650.0, 700.0, 750.0],
            "El": [30.0, 28.0, 26.0, 24.0, 22.0, 20.0],
        }
    )


def make_test_frame(truth: bool) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "ID": ["T1", "T2"],
            "Fe": [21.0, 58.0],
            "Processing": ["CAST", "WROUGHT"],
            "Formula": ["FeX", "FeY"],
        }
    )
    if truth:
        # Deliberately extreme "truth": if it leaked into distances or prompts, we'd see it.
        frame["UTS"] = [123456.0, 654321.0]
        frame["El"] = [99.5, 98.5]
    return frame


def test_known_targets_in_the_test_file_are_ground_truth_only():
    with_truth = prepare(make_test_frame(True), reference(), TARGETS, top_k=3)
    without = prepare(make_test_frame(False), reference(), TARGETS, top_k=3)
    assert with_truth.feature_columns == without.feature_columns == ["Fe", "Processing", "Formula"]
    np.testing.assert_array_equal(with_truth.neighbours, without.neighbours)
    sample = with_truth.samples[0]
    assert sample.truth == {"UTS": 123456.0, "El": 99.5}
    assert set(sample.composition) == {"Fe", "Processing", "Formula"}
    for round_history in ([], [{"UTS": 560.0, "El": 27.0}]):
        prompt = render_prompt(with_truth, 0, round_history, max_rounds=5, threshold=0.01)
        for leaked in ("123456", "99.5", "654321", "98.5"):
            assert leaked not in prompt


def test_neighbours_are_the_nearest_rows_and_free_text_is_ignored():
    data = prepare(make_test_frame(False), reference(), TARGETS, top_k=2)
    ids = [[data.reference_ids[i] for i in row] for row in data.neighbours]
    assert ids[0] == ["R1", "R0"]  # Fe 21 and CAST: R1 (20, CAST), then R0 (10, CAST)
    assert ids[1] == ["R5", "R3"]  # Fe 58 and WROUGHT
    assert (np.diff(data.distances, axis=1) >= 0).all()


def test_nearest_matches_brute_force_in_chunks():
    rng = np.random.default_rng(0)
    test, ref = rng.normal(size=(50, 4)), rng.normal(size=(40, 4))
    idx, dist = nearest(test, ref, 5, chunk=7)
    brute = np.linalg.norm(test[:, None, :] - ref[None, :, :], axis=2)
    np.testing.assert_array_equal(idx, np.argsort(brute, axis=1)[:, :5])
    np.testing.assert_allclose(dist, np.sort(brute, axis=1)[:, :5], atol=1e-9)


def test_round_one_prompt_has_references_and_no_history():
    data = prepare(make_test_frame(False), reference(), TARGETS, top_k=2)
    prompt = render_prompt(data, 0, [], max_rounds=5, threshold=0.01)
    assert "This is round 1 of 5" in prompt
    assert "Sample ID: T1" in prompt
    assert "| R1 |" in prompt and "| R0 |" in prompt
    assert "earlier predictions" not in prompt
    assert '"UTS": <number>' in prompt


def test_later_round_prompt_has_the_table_of_earlier_rounds():
    data = prepare(make_test_frame(False), reference(), TARGETS, top_k=2)
    history = [{"UTS": 560.0, "El": 27.0}, {"UTS": 600.0, "El": 27.1}]
    prompt = render_prompt(data, 0, history, max_rounds=5, threshold=0.01)
    assert "This is round 3 of 5" in prompt
    assert "## Your earlier predictions for this sample" in prompt
    assert "| 1 | 560 | – | 27 | – |" in prompt
    assert "| 2 | 600 | 7.14% | 27.1 | 0.37% |" in prompt
    assert "- UTS: still changing" in prompt
    assert "- El: converged" in prompt


def test_configuration_errors_name_the_problem():
    with pytest.raises(TaskDataError, match="Hardness"):
        prepare(make_test_frame(False), reference(), ["Hardness"])
    with pytest.raises(TaskDataError, match="id_column"):
        prepare(make_test_frame(False), reference(), TARGETS, id_column="Serial")
    with pytest.raises(TaskDataError, match="no rows"):
        prepare(make_test_frame(False).iloc[0:0], reference(), TARGETS)


def test_baseline_is_a_deterministic_weighted_knn():
    data = prepare(make_test_frame(False), reference(), TARGETS, top_k=2)

    async def predict(history: list) -> dict:
        limits = RunLimits(asyncio.Semaphore(1), asyncio.Event())
        return (await BaselinePredictor(data).predict(0, history, limits)).values

    first = asyncio.run(predict([]))
    # Fe 21, CAST: R1 (Fe 20, UTS 550) is much nearer than R0 (Fe 10, UTS 500).
    assert 540 < first["UTS"] < 550
    assert asyncio.run(predict([first])) == first


def test_columns_zero_for_the_sample_and_every_reference_shown_are_named_once():
    ref = reference().assign(Cu=0.0, Mo=[0.0, 0.0, 0.0, 0.0, 0.0, 5.0])
    test = make_test_frame(False).assign(Cu=0.0, Mo=[0.0, 5.0])
    data = prepare(test, ref, TARGETS, top_k=2)  # sample 0's neighbours: R1, R0 (Mo 0)
    prompt = render_prompt(data, 0, [], max_rounds=5, threshold=0.01)
    assert "left out of the table): Cu, Mo." in prompt
    assert "| Cu |" not in prompt and "- Cu:" not in prompt
    # Sample 1 has Mo: then Mo stays in the table.
    assert "| Mo |" in render_prompt(data, 1, [], max_rounds=5, threshold=0.01)


def test_checks_retrieve_nothing(monkeypatch):
    def no_retrieval(*args, **kwargs):
        raise AssertionError("a check must not retrieve")

    monkeypatch.setattr(ReferenceIndex, "build", no_retrieval)
    monkeypatch.setattr(retrieval, "nearest", no_retrieval)
    tables = check_tables(make_test_frame(True), reference(), TARGETS)
    assert [s.sample_id for s in tables.samples] == ["T1", "T2"]
    assert (tables.numeric, tables.categorical) == (["Fe"], ["Processing"])


def test_retrieval_from_stored_inputs_equals_retrieval_from_the_file():
    """A batch retrieves from samples' stored compositions (missing values are None there,
    integers stay integers): the same neighbours as encoding the test file itself."""
    ref = reference().assign(Ni=[1, 2, 3, 4, 5, 6], Grain=[1.0, None, 3.0, 4.0, None, 6.0])
    test = pd.DataFrame(
        {
            "ID": ["T1", "T2", "T3", "T4"],
            "Fe": [21.0, None, 58.0, 33.0],
            "Ni": [2, 5, 1, 3],
            "Grain": [None, 2.0, 5.5, None],
            "Processing": ["CAST", None, "FORGED", "WROUGHT"],  # FORGED: no reference has it
        }
    )
    tables = check_tables(test, ref, TARGETS)
    index = tables.index()
    from_file = nearest(index.encode(test), index.matrix, 3)
    stored = json.loads(json.dumps([s.composition for s in tables.samples]))  # as jsonb gives
    samples = [replace(s, composition=c) for s, c in zip(tables.samples, stored, strict=True)]
    pairs = retrieve(index, tables.feature_columns, samples, 3)
    assert [[i for i, _ in row] for row in pairs] == from_file[0].tolist()
    np.testing.assert_allclose([[d for _, d in row] for row in pairs], from_file[1])
