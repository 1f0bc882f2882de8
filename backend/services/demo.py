"""The MPEA demo: a reproducible split of the bundled data set into reference and test files.

Source and licence: backend/demo_data/mpea/README.md (Citrine Informatics MPEA dataset,
doi:10.6084/m9.figshare.12642953, Apache License 2.0).
"""

import io
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.db.models import Dataset
from backend.services.datasets import store_upload

MPEA_CSV = Path(__file__).resolve().parents[1] / "demo_data" / "mpea" / "mpea_alloys.csv"
TARGETS = ["YS(MPa)", "UTS(MPa)", "El(%)"]
TEST_FRACTION = 0.2
SEED = 42
REFERENCE_NAME = "mpea_reference.csv"
TEST_NAME = "mpea_test.csv"


def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference, test): 80 / 20, the same rows every time. The test file keeps the measured
    targets, which the service treats as ground truth for scoring only."""
    frame = pd.read_csv(MPEA_CSV)
    order = np.random.default_rng(SEED).permutation(len(frame))
    n_test = round(len(frame) * TEST_FRACTION)
    return frame.iloc[np.sort(order[n_test:])], frame.iloc[np.sort(order[:n_test])]


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode()


def load_demo(session: Session, settings: Settings) -> dict[str, str]:
    """Store both files as datasets (once: a second call finds them by checksum)."""
    reference, test = split()
    paths = {}
    for name, frame in ((REFERENCE_NAME, reference), (TEST_NAME, test)):
        raw = _csv_bytes(frame)
        existing = session.scalars(
            select(Dataset).where(Dataset.filename == name).order_by(Dataset.id)
        ).all()
        match = next((d for d in existing if (settings.DATA_DIR / d.path).is_file()), None)
        dataset = match or store_upload(session, settings, name, raw)
        paths[name] = dataset.path
    return paths
