"""POST /v1/landscapes/clean: a Google Ads simulation upload comes back cleaned, bad files get
a 422 naming the file, row and field."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient


def _simulation() -> str:
    """A GoogleAdsService.Search response (REST JSON, documented field names) over 7 days:
    the 1.2 point is dominated by 1.0 (it costs more and converts less)."""
    points = [(0.8, 60.0, 6.0), (1.0, 100.0, 9.0), (1.2, 130.0, 8.5), (1.5, 180.0, 12.0)]
    return json.dumps(
        {
            "results": [
                {
                    "campaignCriterionSimulation": {
                        "campaignId": "1",
                        "criterionId": "77",
                        "startDate": "2024-01-01",
                        "endDate": "2024-01-07",
                        "bidModifierPointList": {
                            "points": [
                                {
                                    "bidModifier": m,
                                    "costMicros": str(int(c * 1e6)),
                                    "biddableConversions": n,
                                }
                                for m, c, n in points
                            ]
                        },
                    }
                }
            ]
        }
    )


def test_upload_cleans_and_scales(client: TestClient) -> None:
    response = client.post(
        "/v1/landscapes/clean",
        files={"file": ("simulations.json", _simulation(), "application/json")},
        data={"format": "google_ads", "period_days": "14"},
    )
    assert response.status_code == 200, response.text
    [landscape] = response.json()
    assert landscape["audience"] == "77" and landscape["scale"] == 2.0
    assert [p["bid_multiplier"] for p in landscape["points"]] == [0.8, 1.0, 1.5]
    assert [p["cost"] for p in landscape["points"]] == [120.0, 200.0, 360.0]
    assert [d["bid_multiplier"] for d in landscape["dropped"]] == [1.2]


def test_bad_upload_names_row_and_field(client: TestClient) -> None:
    text = "segment,bid_multiplier,cost,conversions\nloyal-top,1.0,-3,2\n"
    response = client.post(
        "/v1/landscapes/clean",
        files={"file": ("meta.csv", text, "text/csv")},
        data={"format": "generic"},
    )
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert "meta.csv, row 1, field cost" in message


def test_posted_scenarios_may_not_import_server_files(client: TestClient) -> None:
    """A scenario run over HTTP reads no server path, landscape files included."""
    document = {
        "data": {"source": "cdnow"},
        "channels": [
            {
                "channel": "search",
                "landscapes": {"file": "/etc/passwd", "format": "generic"},
                "groups": [{"reach": {"cost_per_reached_customer": 0.3}}],
            }
        ],
        "problem": {"budget": {"total": 100}},
    }
    response = client.post("/v1/scenarios/runs", json=document)
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "channels", 0, "landscapes"]
    assert "reads no server files" in detail["msg"]
