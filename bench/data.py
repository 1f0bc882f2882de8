"""Benchmark tables, all derived from the bundled MPEA data set.

Source and licence: backend/demo_data/mpea/README.md (Citrine Informatics MPEA dataset,
doi:10.6084/m9.figshare.12642953, Apache License 2.0).
"""

import numpy as np
import pandas as pd

from backend.services.demo import TARGETS, split

__all__ = ["TARGETS", "demo_split", "reference_csv", "synthetic_test_csv"]


def demo_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The service's own reproducible 80/20 split (reference, test with known targets)."""
    return split()


def reference_csv() -> str:
    reference, _ = split()
    return reference.to_csv(index=False)


def synthetic_test_csv(n: int, prefix: str, seed: int = 0) -> str:
    """`n` alloys resampled from MPEA with compositions jittered (and renormalised to 100 at%),
    ids `<prefix>-<i>`, targets dropped (nothing to score)."""
    frame = pd.concat(split()).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    rows = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True)
    atoms = [c for c in rows.columns if c.endswith("(at%)")]
    values = rows[atoms].to_numpy(dtype=float)
    jitter = np.where(values > 0, rng.normal(1.0, 0.05, values.shape), 0.0)
    values = values * jitter
    values = values / values.sum(axis=1, keepdims=True) * 100.0
    rows[atoms] = values.round(3)
    rows["ID"] = [f"{prefix}-{i}" for i in range(n)]
    return rows.drop(columns=TARGETS).to_csv(index=False)
