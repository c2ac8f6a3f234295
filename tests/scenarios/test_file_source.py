"""A scenario's `file` source reads exports as `clvbid customers` does: encoding, delimiter,
date format and decimal separator."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.loader import ScenarioError, load_scenario
from scenarios.pipeline import load_data

SCENARIO = """\
data:
  source: file
  path: export.csv
  encoding: cp1252
  delimiter: ";"
  timestamp_format: "%d.%m.%Y"
  decimal: "{decimal}"
  columns: {{customer_id: Kunde, timestamp: Datum, amount: Betrag}}
channels:
  - channel: search
    groups:
      - reach: {{cost_per_reached_customer: 0.3}}
problem:
  budget: {{total: 1000}}
"""


def _scenario(tmp_path: Path, decimal: str) -> Path:
    export = "Kunde;Datum;Betrag\nRenée;05.01.2024;1.234,50\nJörg;06.01.2024;12,5\n"
    (tmp_path / "export.csv").write_bytes(export.encode("cp1252"))
    path = tmp_path / "shop.yaml"
    path.write_text(SCENARIO.format(decimal=decimal), encoding="utf-8")
    return path


def test_file_source_reads_a_european_export(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path, ","))
    loaded = load_data(scenario.base.data)
    orders = loaded.query("SELECT customer_id, amount FROM orders ORDER BY amount")
    assert orders.values.tolist() == [["Jörg", 12.5], ["Renée", 1234.5]]


def test_decimal_separator_is_checked_with_the_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="data.decimal"):
        load_scenario(_scenario(tmp_path, ";"))
