"""Dataset routes: uploads with rejects by reason, listing, reading, deleting, the dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from api.settings import Settings
from models.customers import load_orders
from tests.api.orders import BAD_ROWS, GOOD_ROWS, cdnow_sample, orders_csv, parquet_bytes


def _upload(client: TestClient, name: str, content: bytes) -> dict:
    response = client.post("/v1/datasets", files={"file": (name, content)})
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/v1/datasets/{response.json()['id']}"
    return response.json()


@pytest.fixture(scope="module")
def sample(client: TestClient) -> dict:
    """The CDNOW sample uploaded as Parquet."""
    return _upload(client, "cdnow_sample.parquet", parquet_bytes(cdnow_sample()))


def test_upload_keeps_good_rows_and_counts_rejects_by_reason(client: TestClient) -> None:
    dataset = _upload(client, "mixed.csv", orders_csv(GOOD_ROWS + BAD_ROWS))
    assert dataset["rows_read"] == len(GOOD_ROWS) + len(BAD_ROWS)
    assert dataset["rows_loaded"] == len(GOOD_ROWS)
    assert dataset["rows_rejected"] == len(BAD_ROWS)
    assert sum(dataset["rejected_by_reason"].values()) == len(BAD_ROWS)
    assert {"missing_customer_id", "bad_timestamp", "bad_amount", "future_timestamp"} <= set(
        dataset["rejected_by_reason"]
    )
    assert dataset["customers"] == 3
    assert dataset["file_format"] == ".csv"
    rejects = client.get(f"/v1/datasets/{dataset['id']}/rejects.csv")
    assert rejects.status_code == 200
    assert rejects.headers["content-type"].startswith("text/csv")
    assert len(rejects.text.strip().splitlines()) == 1 + len(BAD_ROWS)


def test_parquet_upload_counts_every_sample_customer(sample: dict) -> None:
    assert sample["file_format"] == ".parquet"
    assert sample["customers"] == 2357  # the published size of the CDNOW sample
    assert sample["rows_loaded"] == len(cdnow_sample())
    assert sample["rows_rejected"] == 0


def test_list_get_and_delete(client: TestClient) -> None:
    dataset = _upload(client, "small.csv", orders_csv(GOOD_ROWS))
    listed = client.get("/v1/datasets").json()["datasets"]
    assert dataset["id"] in [d["id"] for d in listed]
    assert client.get(f"/v1/datasets/{dataset['id']}").json() == dataset
    assert client.delete(f"/v1/datasets/{dataset['id']}").status_code == 204
    assert client.get(f"/v1/datasets/{dataset['id']}").status_code == 404
    assert client.delete(f"/v1/datasets/{dataset['id']}").status_code == 404


def stage_counts_by_hand(frame: pd.DataFrame, as_of: pd.Timestamp, months: int = 6) -> dict:
    """Lifecycle stages of docs/DESIGN.md counted with pandas from the order rows: the window
    is the days after `as_of - months` calendar months up to `as_of`."""
    start = as_of - pd.DateOffset(months=months)
    frame = frame[frame["timestamp"].dt.normalize() <= as_of]
    day = frame["timestamp"].dt.normalize()
    per_customer = pd.DataFrame(
        {
            "first": day.groupby(frame["customer_id"]).min(),
            "in_window": ((day > start) & (day <= as_of)).groupby(frame["customer_id"]).sum(),
        }
    )
    stage = np.select(
        [
            per_customer["in_window"] >= 2,
            (per_customer["in_window"] == 1) & (per_customer["first"] > start),
            per_customer["in_window"] == 1,
        ],
        ["loyal", "new", "active"],
        "inactive",
    )
    return pd.Series(stage).value_counts().to_dict()


def test_dashboard_matches_an_independent_count(client: TestClient, sample: dict) -> None:
    response = client.get(f"/v1/datasets/{sample['id']}/dashboard")
    assert response.status_code == 200, response.text
    figures = response.json()
    frame = cdnow_sample()
    purchase_days = frame.groupby("customer_id")["timestamp"].nunique()
    assert figures["customers"] == 2357
    assert figures["repeat_customers"] == int((purchase_days > 1).sum())
    assert figures["one_purchase_customers"] == int((purchase_days == 1).sum())
    as_of = frame["timestamp"].max().normalize()
    assert figures["as_of"] == as_of.date().isoformat()
    assert {k: n for k, n in figures["stage_counts"].items() if n} == stage_counts_by_hand(
        frame, as_of
    )
    # in mid-August 1997 the window starts inside the cohort's first quarter: all four stages
    earlier = client.get(
        f"/v1/datasets/{sample['id']}/dashboard", params={"as_of": "1997-08-15"}
    ).json()
    expected = stage_counts_by_hand(frame, pd.Timestamp("1997-08-15"))
    assert {k: n for k, n in earlier["stage_counts"].items() if n} == expected
    assert set(expected) == {"new", "active", "loyal", "inactive"}


def test_dashboard_at_an_earlier_date(client: TestClient, sample: dict) -> None:
    response = client.get(f"/v1/datasets/{sample['id']}/dashboard", params={"as_of": "1997-03-31"})
    assert response.status_code == 200, response.text
    frame = cdnow_sample()
    ordered = frame.loc[frame["timestamp"] <= pd.Timestamp("1997-03-31"), "customer_id"].nunique()
    assert response.json()["customers"] == ordered


def test_dashboard_before_the_first_order_is_422(client: TestClient, sample: dict) -> None:
    response = client.get(f"/v1/datasets/{sample['id']}/dashboard", params={"as_of": "1990-01-01"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "as_of"]


def test_unknown_dataset_is_404(client: TestClient) -> None:
    for path in ("", "/dashboard", "/rejects.csv"):
        response = client.get(f"/v1/datasets/nope{path}")
        assert response.status_code == 404, path
        assert response.json() == {
            "detail": "no dataset with id 'nope'",
            "where": "path.dataset_id",
            "hint": None,
        }


def test_missing_columns_is_422_naming_them(client: TestClient) -> None:
    response = client.post("/v1/datasets", files={"file": ("x.csv", b"who,when\na,b\n")})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "file"]
    assert "customer_id" in error["msg"]


def test_file_without_valid_rows_is_422(client: TestClient) -> None:
    response = client.post("/v1/datasets", files={"file": ("bad.csv", orders_csv(BAD_ROWS))})
    assert response.status_code == 422
    assert "no valid orders" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("customer_id;timestamp;amount\nc1;2024-01-05;12,50\nc2;2024-01-07;3,20\n", "decimal=,"),
        ("customer_id,timestamp,amount\nc1,31.01.2024,12\nc2,29.02.2024,3\n", "timestamp_format="),
    ],
)
def test_rows_all_rejected_for_one_upload_field_name_the_field_to_send(
    client: TestClient, text: str, fix: str
) -> None:
    response = client.post("/v1/datasets", files={"file": ("export.csv", text.encode())})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "file"] and "no valid orders" in error["msg"]
    assert f"send {fix}" in error["msg"]


def test_garbage_parquet_is_422_without_server_paths_or_sql(
    client: TestClient, settings: Settings
) -> None:
    response = client.post("/v1/datasets", files={"file": ("x.parquet", b"PAR1 not really")})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    message = response.json()["detail"][0]["msg"]
    assert "could not read the file" in message
    assert str(settings.data_dir.resolve()) not in response.text
    assert "SELECT" not in response.text and "\\n" not in response.text


def test_missing_file_field_is_422(client: TestClient) -> None:
    response = client.post("/v1/datasets", data={"name": "no file"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_oversized_upload_is_413(client: TestClient) -> None:
    limit = client.app.state.services.settings.max_upload_bytes
    response = client.post("/v1/datasets", files={"file": ("big.csv", b"x" * (limit + 1))})
    assert response.status_code == 413
    assert response.json()["where"] == "body"
    assert str(limit) in response.json()["detail"]


def test_more_rows_than_the_limit_is_413_and_nothing_is_kept(client: TestClient) -> None:
    limit = client.app.state.services.settings.max_upload_rows
    rows = [(f"c{i}", "2024-01-05", "20.00") for i in range(limit + 1)]
    before = client.get("/v1/datasets").json()["datasets"]
    response = client.post("/v1/datasets", files={"file": ("many.csv", orders_csv(rows))})
    assert response.status_code == 413, response.text
    assert response.json()["where"] == "body.file"
    assert f"{limit + 1} rows" in response.json()["detail"]
    assert client.get("/v1/datasets").json()["datasets"] == before


def test_oversized_streamed_upload_is_413(client: TestClient) -> None:
    limit = client.app.state.services.settings.max_upload_bytes
    chunks = (b"x" * 2**16 for _ in range(limit // 2**16 + 2))
    response = client.post(
        "/v1/datasets",
        content=chunks,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413
    assert "detail" in response.json()


def test_a_csv_is_parsed_once_into_parquet_that_loads_the_same_orders(
    client: TestClient, settings: Settings
) -> None:
    content = orders_csv(GOOD_ROWS + BAD_ROWS)
    dataset = _upload(client, "mixed.csv", content)
    folder = settings.data_dir / "datasets" / dataset["id"]
    stored = folder / "orders.parquet"
    assert stored.exists()
    limit = {"max_timestamp": "2030-01-01"}
    from_csv = load_orders(folder / "source.csv", **limit)
    from_parquet = load_orders(stored, **limit)
    assert from_parquet.report == from_csv.report
    query = "SELECT * FROM orders ORDER BY ALL"
    assert from_parquet.connection.execute(query).fetchall() == (
        from_csv.connection.execute(query).fetchall()
    )


# Exports as retailers send them: Excel's cp1252 with `;`, and runs of blanks as the delimiter.
# "Renée" and "René" are two customers only when the bytes are read as cp1252.
TEXT_EXPORTS = {
    "cp1252": (
        "customer_id;timestamp;amount\nRenée;2024-01-05;20\nRené;2024-01-07;12\n"
        "Renée;2024-02-10;35,5\nZoë;2024-03-01;99.9\nZoë;2024-03-20;10\n".encode("cp1252"),
        {"encoding": "cp1252"},
    ),
    "whitespace": (
        b"customer_id   timestamp     amount\nc1   2024-01-05   20.00\nc2  2024-01-07  12.00\n"
        b"c1   2024-02-10   35.50\nc3      2024-03-01 99.90\nc3   2024-03-20   10.00\n",
        {},
    ),
    # German Excel: its own column names, decimal commas with thousands points, day-first
    # dates with times.
    "german": (
        "Kunde;Datum;Betrag\nJürgen;05.01.2024 10:15;1.234,50\nJürgen;10.02.2024 09:00;20,00\n"
        "Anna;07.01.2024 18:30;12,5\nAnna;01.03.2024 08:05;99,90\n".encode("cp1252"),
        {
            "encoding": "cp1252",
            "column": ["customer_id=Kunde", "timestamp=Datum", "amount=Betrag"],
            "decimal": ",",
            "timestamp_format": "%d.%m.%Y %H:%M",
        },
    ),
}
EVERY_ROW_LOADS = {"whitespace", "german"}


@pytest.mark.parametrize("export", list(TEXT_EXPORTS))
def test_text_upload_is_read_as_the_command_line_reads_it(
    client: TestClient, tmp_path: Path, export: str
) -> None:
    """The dataset (customers, and the dashboard every later read computes from the Parquet
    kept at upload) is the one `clvbid customers summarize` finds in the same file."""
    content, form = TEXT_EXPORTS[export]
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    options = [
        f"--{name.replace('_', '-')}={value}"
        for name, values in form.items()
        for value in (values if isinstance(values, list) else [values])
    ]
    out = tmp_path / "out"
    done = CliRunner().invoke(
        cli, ["customers", "summarize", str(path), "--out", str(out), *options]
    )
    assert done.exit_code == 0, done.output
    expected = json.loads((out / "dashboard.json").read_text())
    response = client.post("/v1/datasets", files={"file": ("orders.csv", content)}, data=form)
    assert response.status_code == 201, response.text
    uploaded = response.json()
    assert uploaded["customers"] == expected["customers"]
    assert (uploaded["rows_rejected"] == 0) == (export in EVERY_ROW_LOADS)
    mapping = dict(pair.split("=") for pair in form.get("column", [])) or None
    assert uploaded["columns"] == mapping and uploaded["decimal"] == form.get("decimal", ".")
    assert uploaded["timestamp_format"] == form.get("timestamp_format")
    dashboard = client.get(f"/v1/datasets/{uploaded['id']}/dashboard").json()
    assert dashboard == expected


@pytest.mark.parametrize(
    ("form", "field", "said"),
    [
        ({"decimal": ";"}, "decimal", "Input should be '.' or ','"),
        ({"timestamp_format": "%d.%Q.%Y"}, "timestamp_format", "%Q"),
        ({"column": "amount"}, "column", "'amount' is not OURS=THEIRS"),
        ({"column": "amount=Preis"}, "column", "mapped to 'Preis', which is not in the file"),
        ({"column": "amout=amount"}, "column", "unknown order column(s) in mapping: ['amout']"),
    ],
)
def test_a_parsing_option_that_cannot_be_used_is_a_422_at_its_field(
    client: TestClient, form: dict[str, str], field: str, said: str
) -> None:
    stored = len(client.get("/v1/datasets").json()["datasets"])
    files = {"file": ("orders.csv", orders_csv(GOOD_ROWS))}
    response = client.post("/v1/datasets", files=files, data=form)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", field] and said in detail["msg"]
    assert len(client.get("/v1/datasets").json()["datasets"]) == stored  # nothing kept
