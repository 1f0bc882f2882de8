import pytest

from backend.core.config import Settings
from backend.core.errors import PayloadTooLarge
from backend.services.datasets import store_upload


def test_an_upload_over_the_size_limit_is_413_and_stores_nothing(tmp_path):
    settings = Settings(DATA_DIR=tmp_path, MAX_UPLOAD_MB=0.001)  # about 1 KB
    raw = b"a,b\n" + b"1,2\n" * 400
    with pytest.raises(PayloadTooLarge):
        store_upload(None, settings, "big.csv", raw)  # type: ignore[arg-type]
    assert not (tmp_path / "datasets").exists()
