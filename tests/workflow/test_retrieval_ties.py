"""Nearest neighbours: equally distant references are taken in file order, every time."""

import numpy as np

from backend.workflow.retrieval import nearest


def test_ties_go_to_the_reference_earlier_in_the_file():
    # Rows 1, 2, 3 and 5 are all at distance 1 from the first test row; 1, 2, 3 (and 5) at 0
    # from the second: the k nearest are the earliest of the tied ones.
    reference = np.array([[0.0], [1.0], [1.0], [1.0], [2.0], [1.0]])
    test = np.array([[0.0], [1.0]])
    indices, distances = nearest(test, reference, 3)
    assert indices.tolist() == [[0, 1, 2], [1, 2, 3]]
    assert distances.tolist() == [[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]


def test_the_order_is_distance_then_index_as_a_full_stable_sort_gives_it():
    rng = np.random.default_rng(3)
    # Rounded features make many exact ties, across the k-th place too.
    reference = rng.integers(0, 3, size=(400, 2)).astype(float)
    test = rng.integers(0, 3, size=(150, 2)).astype(float)
    indices, _ = nearest(test, reference, 7, chunk=64)
    squared = ((test[:, None, :] - reference[None]) ** 2).sum(axis=-1)
    expected = np.argsort(squared, axis=1, kind="stable")[:, :7]
    assert (indices == expected).all()
