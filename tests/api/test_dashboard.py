"""The dashboard in the browser: `GET /` leads to it, sign-in sets an HttpOnly SameSite cookie
only for a configured key, pages need it, and the whole flow (sign in, upload, the ten
questions and lifecycle charts, run a scenario, open its report without the X-API-Key
header) works end to end in headless Chromium."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx

from tests.api.orders import cdnow_sample
from tests.api.test_generated_client import KEY, server
from tests.browser import not_blank, overlapping_text, unformatted_cells

SCREENSHOTS = os.environ.get("CLVBID_SCREENSHOTS")  # a folder: keep the screenshots (docs/img)
__all__ = ["server"]  # `clvbid serve` on a free port with key KEY, shared with the client test
SCENARIO = """\
name: dashboard-e2e
description: A small generated retailer, one channel, a ROAS floor.
data: {source: generator, customers: 400, prospects: 100, seed: 3}
channels:
  - channel: search
    groups:
      - reach: {cost_per_reached_customer: 0.40, conversion_rate: 0.05}
problem:
  budget: {total: 2000}
  constraints: {min_roas: 2}
"""


def test_root_leads_to_sign_in_and_cookie_is_http_only(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        assert client.get("/").headers["location"] == "/dashboard"
        page = client.get("/dashboard")
        assert page.status_code == 303 and page.headers["location"].startswith("/dashboard/signin")
        refused = client.post("/dashboard/signin", data={"api_key": "wrong"})
        assert refused.status_code == 401 and "unknown API key" in refused.text
        assert "set-cookie" not in refused.headers
        signed = client.post("/dashboard/signin", data={"api_key": KEY})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and KEY.lower() not in cookie
        assert client.get("/dashboard").status_code == 200
        forged = signed.cookies["clvbid_session"][:-4] + "0000"
        client.cookies.set("clvbid_session", forged)
        assert client.get("/dashboard").status_code == 303
        css = client.get("/dashboard/static/dashboard.css")
        assert css.status_code == 200 and "http" not in css.text


def _look(page: object, name: str, tmp_path: Path) -> None:
    """Screenshot the page: drawn, no overlapping text, number cells formatted."""
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
    assert not_blank(shot) > 0.2, f"{name} is (nearly) blank"
    assert overlapping_text(page) == [], name
    assert unformatted_cells(page) == [], name
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"dashboard-{name}.png"))  # type: ignore[attr-defined]


def test_dashboard_flow_in_chromium(browser: object, server: str, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    cdnow_sample().to_csv(orders, index=False)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server + "/")
    assert "/dashboard/signin" in page.url
    _look(page, "signin", tmp_path)
    page.fill("#api_key", KEY)
    page.click("button[type=submit]")
    assert page.url.rstrip("/").endswith("/dashboard")
    page.set_input_files("#orders", str(orders))
    page.click("form[action='/dashboard/datasets'] button")
    page.wait_for_url(re.compile(r"/dashboard/datasets/[^/]+$"), timeout=120_000)
    questions = page.locator("#questions tbody tr")
    assert questions.count() >= 10
    assert "active customers" in page.inner_text("#questions")
    for chart in ("stages", "monthly", "moves"):
        assert page.eval_on_selector(f"#chart-{chart}", "i => i.complete && i.naturalWidth") > 300
    _look(page, "dataset", tmp_path)
    page.goto(server + "/dashboard")
    page.set_input_files("#scenario_file", str(scenario))
    page.fill("#budget", "20")
    page.click("form[action='/dashboard/runs'] button")
    page.wait_for_url(re.compile(r"/dashboard/runs/[^/]+$"))
    page.wait_for_selector("#report-link", timeout=300_000)
    _look(page, "run", tmp_path)
    page.click("#report-link")
    page.wait_for_load_state("load")
    assert "Scenario dashboard-e2e" in page.inner_text("h1")
    assert "budget+20pct" in page.inner_text("#summary")
    _look(page, "report", tmp_path)
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["clvbid_session"]["httpOnly"] and cookies["clvbid_session"]["sameSite"] == "Lax"
    context.close()
