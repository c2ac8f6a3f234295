"""Where the service keeps files: one folder per dataset under the data directory."""

from __future__ import annotations

import shutil
from pathlib import Path

ORDERS_PARQUET = "orders.parquet"
CONTACTS_PARQUET = "contacts.parquet"
PARQUET_SUFFIXES = (".parquet", ".pq")


class DataDir:
    """The data directory: `datasets/<id>/` holds an upload, its loaded orders and fit outputs;
    `runs/<id>/` a scenario run's outputs."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        (self.root / "datasets").mkdir(parents=True, exist_ok=True)
        (self.root / "uploads").mkdir(parents=True, exist_ok=True)
        (self.root / "runs").mkdir(parents=True, exist_ok=True)

    def dataset(self, dataset_id: str) -> Path:
        """The folder of one dataset (created on first use)."""
        folder = self.root / "datasets" / dataset_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def orders(self, dataset_id: str, file_format: str) -> Path:
        """The orders file every read of a dataset uses: the upload when it is Parquet, else
        the Parquet copy made at upload (the CSV itself for datasets stored before copies)."""
        folder = self.dataset(dataset_id)
        if file_format not in PARQUET_SUFFIXES and (folder / ORDERS_PARQUET).exists():
            return folder / ORDERS_PARQUET
        return folder / f"source{file_format}"

    def contacts(self, dataset_id: str) -> Path | None:
        """The contacts file every read of a dataset uses: the Parquet upload or the copy
        made at upload, else a text upload stored before copies; None without contacts."""
        folder = self.dataset(dataset_id)
        if (folder / CONTACTS_PARQUET).exists():
            return folder / CONTACTS_PARQUET
        return next(iter(sorted(folder.glob("contacts.*"))), None)

    def run(self, run_id: str) -> Path:
        """The output folder of one scenario run (created by the run)."""
        return self.root / "runs" / run_id

    def incoming(self, upload_id: str) -> Path:
        """A path for an upload still being received; moved into its dataset when accepted."""
        return self.root / "uploads" / upload_id

    def remove_dataset(self, dataset_id: str) -> None:
        """Delete every file of a dataset."""
        shutil.rmtree(self.root / "datasets" / dataset_id, ignore_errors=True)
