"""The report opens in headless Chromium with every chart visible (a real screenshot)."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenarios.report import CHARTS
from tests.scenarios.conftest import Example

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    """The Chromium binary; required under CI, else the test is skipped with how to enable it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium not installed: `apt-get install -y chromium` to run this test")
    return found


def _screenshot(html: Path, png: Path, profile: Path, size: tuple[int, int]) -> np.ndarray:
    """A headless Chromium screenshot of `html` as an RGB array."""
    command = [
        _chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={png}",
        html.resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)


def _coloured_per_row(pixels: np.ndarray) -> np.ndarray:
    """How many clearly coloured (not grey) pixels each row holds: only charts have them."""
    return ((pixels.max(axis=2) - pixels.min(axis=2)) > 60).sum(axis=1)


def _charts(report: Path) -> dict[str, np.ndarray]:
    """The chart images embedded in the report, decoded."""
    found = re.findall(
        r"id='chart-([a-z_]+)' alt='[^']*' src='data:image/png;base64,([^']+)'",
        report.read_text(encoding="utf-8"),
    )
    return {
        name: np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"), np.int16)
        for name, data in found
    }


def test_report_screenshot_shows_every_chart(demo: Example, tmp_path: Path) -> None:
    report = demo.written["report"]
    charts = _charts(report)
    assert set(charts) == set(CHARTS)
    shot = _screenshot(report, tmp_path / "report.png", tmp_path / "profile", (1400, 7000))
    page = _coloured_per_row(shot)
    assert (page > 0).mean() > 0.1, "the page is (nearly) blank"
    # Each chart is painted in full where it should be: its row profile of coloured pixels
    # (shift-invariant sideways) appears in the screenshot's profile.
    for name, image in charts.items():
        assert image.shape[1] <= 1150, (name, image.shape)
        profile = _coloured_per_row(image)
        height = len(profile)
        windows = np.lib.stride_tricks.sliding_window_view(page, height)
        mismatch = np.abs(windows - profile).sum(axis=1) / max(profile.sum(), 1)
        assert profile.sum() > 1000 and mismatch.min() < 0.05, (name, mismatch.min())
