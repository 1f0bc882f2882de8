"""The k most similar reference rows per test sample, for all samples at once (vectorized)."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

# A text column is a category when its values repeat: at most this many distinct values, and at
# most half as many as rows. Otherwise it is free text (e.g. a formula) and left out of distances.
MAX_CATEGORIES = 30


def split_feature_kinds(frame: pd.DataFrame, columns: list[str]) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature columns; free-text columns are left out of distances."""
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [
        c
        for c in columns
        if c not in numeric and frame[c].nunique(dropna=True) <= min(MAX_CATEGORIES, len(frame) / 2)
    ]
    return numeric, categorical


@dataclass
class ReferenceIndex:
    """The reference rows encoded as retrieval compares them, and the encoding itself: numeric
    columns standardized with the reference statistics, categories one-hot. Test rows are
    encoded the same way whenever they come (a batch, one previewed sample)."""

    numeric: list[str]
    categorical: list[str]
    mean: np.ndarray
    std: np.ndarray
    levels: dict[str, list[str]]
    matrix: np.ndarray  # (reference rows, encoded columns)

    @classmethod
    def build(
        cls, reference: pd.DataFrame, numeric: list[str], categorical: list[str]
    ) -> "ReferenceIndex":
        ref_num = reference[numeric].to_numpy(dtype=float)
        mean = np.nanmean(ref_num, axis=0) if numeric else np.zeros(0)
        std = np.nanstd(ref_num, axis=0) if numeric else np.zeros(0)
        std[~(std > 0)] = 1.0
        levels = {c: sorted(set(reference[c].dropna().astype(str))) for c in categorical}
        index = cls(numeric, categorical, np.nan_to_num(mean), std, levels, np.zeros((0, 0)))
        index.matrix = index.encode(reference)
        return index

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        # A missing value sits at the mean: it neither attracts nor repels.
        values = frame[self.numeric].to_numpy(dtype=float)
        parts = [np.nan_to_num((values - self.mean) / self.std)]
        for column in self.categorical:
            parts.append(_one_hot(frame[column], self.levels[column]))
        return np.hstack(parts)

    def nearest(self, frame: pd.DataFrame, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest reference rows of each row of `frame` (as `nearest`)."""
        return nearest(self.encode(frame), self.matrix, k)


def _one_hot(values: pd.Series, levels: list[str]) -> np.ndarray:
    # Missing (NaN, or None from a stored composition) is no level.
    codes = pd.Categorical(values.astype(str).where(values.notna()), categories=levels).codes
    out = np.zeros((len(values), len(levels)))
    known = codes >= 0
    out[np.nonzero(known)[0], codes[known]] = 1.0
    return out


def nearest(
    test: np.ndarray, reference: np.ndarray, k: int, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of the k nearest reference rows, nearest first; equally
    distant rows in reference-file order."""
    k = min(k, len(reference))
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    all_idx, all_dist = [], []
    for start in range(0, len(test), chunk):
        block = test[start : start + chunk]
        sq = (
            np.einsum("ij,ij->i", block, block)[:, None] + ref_sq[None, :] - 2 * block @ reference.T
        )
        np.maximum(sq, 0, out=sq)
        part = _k_smallest(sq, k)
        part_sq = np.take_along_axis(sq, part, axis=1)
        all_idx.append(part)
        all_dist.append(np.sqrt(part_sq))
    return np.vstack(all_idx), np.vstack(all_dist)


def _k_smallest(sq: np.ndarray, k: int) -> np.ndarray:
    """Per row, the k smallest columns, nearest first; equal distances go to the lower index
    (the reference row earlier in its file), so ties never depend on the sort's internals."""
    part = np.argpartition(sq, k - 1, axis=1)[:, :k]
    part_sq = np.take_along_axis(sq, part, axis=1)
    # Sort each row's k by (distance, index): lexsort's last key is the primary one.
    order = np.lexsort((part, part_sq), axis=1)
    part = np.take_along_axis(part, order, axis=1)
    # A tie across the k-th place may have been cut arbitrarily: redo those rows in full.
    kth = np.take_along_axis(sq, part[:, -1:], axis=1)
    tied = np.nonzero((sq <= kth).sum(axis=1) > k)[0]
    for row in tied:
        part[row] = np.argsort(sq[row], kind="stable")[:k]
    return part


def nearest_others(
    reference: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out: for each reference row in `rows`, its k nearest *other* reference rows
    (indices and distances, nearest first, ties as `nearest` breaks them). k < len(reference)."""
    neighbours, distances = nearest(reference[rows], reference, k + 1)
    # Drop each row itself (or, when it is not among the k+1 because of exact duplicates, the
    # farthest): what remains are its k nearest other references.
    keep = neighbours != rows[:, None]
    keep[keep.all(axis=1), -1] = False
    return neighbours[keep].reshape(len(rows), k), distances[keep].reshape(len(rows), k)
