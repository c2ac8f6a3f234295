"""`clvbid serve` loads the CDNOW demo dataset into an empty store, once."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import API_KEY


def test_demo_dataset_is_loaded_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=(API_KEY,), load_demo=True, workers=1)
    for _ in range(2):
        with TestClient(create_app(settings), headers={"X-API-Key": API_KEY}) as client:
            datasets = client.get("/v1/datasets").json()["datasets"]
            assert len(datasets) == 1
            assert datasets[0]["customers"] == 23570
            assert datasets[0]["rows_rejected"] == 0
