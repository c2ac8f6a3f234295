"""Write the lifetimes reference summaries of CDNOW that tests/models/customers compare against.

Run once with the `bench` extra installed (lifetimes==0.11.3):
    .venv/bin/python tests/data/make_reference.py
Each file is lifetimes' `summary_data_from_transaction_data` on the full bundled CDNOW master
file (load_cdnow(): one row per source line), full float precision, gzipped.
"""

from __future__ import annotations

from pathlib import Path

from lifetimes.utils import summary_data_from_transaction_data

from models.datasets import load_cdnow

HERE = Path(__file__).parent
# (file name, observation_period_end, freq_multiplier: 1 = days, 7 = weeks)
REFERENCES = [
    ("cdnow_lifetimes_days_1998-06-30.csv.gz", "1998-06-30", 1),
    ("cdnow_lifetimes_weeks_1997-09-30.csv.gz", "1997-09-30", 7),
]


def main() -> None:
    """Compute and write every reference file."""
    transactions = load_cdnow()
    for name, end, multiplier in REFERENCES:
        summary = summary_data_from_transaction_data(
            transactions,
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end=end,
            freq="D",
            freq_multiplier=multiplier,
        )
        summary.to_csv(HERE / name, compression={"method": "gzip", "mtime": 0})


if __name__ == "__main__":
    main()
