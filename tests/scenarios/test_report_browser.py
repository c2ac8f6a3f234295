"""The report of every bundled scenario in headless Chromium: the page is drawn (not blank),
no text lies over other text, every number cell is formatted, every chart loads; the
planner's 50,000 case says what binds; printed to A4 PDF, no chart or table is cut."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import not_blank, overlapping_text, pdf_pages, print_to_pdf, unformatted_cells
from tests.scenarios.conftest import EXAMPLES, Example, run_example

SCREENSHOTS = os.environ.get("CLVBID_SCREENSHOTS")  # a folder: keep the screenshots (docs/img)
A4 = 297 / 210
MARGIN_MM = 12


def _open(browser: object, report: Path, tmp_path: Path, name: str) -> object:
    """The report in a 1280-wide page, screenshot saved (and kept when asked)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(report.resolve().as_uri())
    page.wait_for_load_state("load")
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert not_blank(shot) > 0.3, f"{name}: the page is (nearly) blank"
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"report-{name}.png"))
    return page


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_report_in_chromium(browser: object, path: Path, tmp_path: Path) -> None:
    example = run_example(path)
    page = _open(browser, example.written["report"], tmp_path, path.stem)
    assert overlapping_text(page) == []
    assert unformatted_cells(page) == []
    sizes = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "figure img", "imgs => imgs.map(i => [i.id, i.complete, i.naturalWidth, i.clientWidth])"
    )
    assert sizes and all(
        done and natural > 300 and shown > 300 for _, done, natural, shown in sizes
    )
    page.close()  # type: ignore[attr-defined]


def test_planner_summary_states_what_binds(
    browser: object, planner: Example, tmp_path: Path
) -> None:
    page = _open(browser, planner.written["report"], tmp_path, "planner-50k")
    summary = page.inner_text("#summary")  # type: ignore[attr-defined]
    totals = planner.run.base.result.totals
    assert totals is not None and totals.spend < 0.2 * 50_000
    assert f"€{totals.spend:,.0f} of the €50,000 budget" in summary
    assert "the minimum ROAS of 3.00 binds" in summary
    assert "stays unspent" in summary
    why = page.inner_text("#why")  # type: ignore[attr-defined]
    assert "protection of loyal-top" in why
    for name in ("budget+20", "meta-cap"):
        assert name in summary
    assert overlapping_text(page) == []
    assert unformatted_cells(page) == []
    page.close()  # type: ignore[attr-defined]


def _coloured_rows(pixels: np.ndarray) -> np.ndarray:
    """Rows holding clearly coloured (not grey) pixels: only charts have them in print."""
    return ((pixels.max(axis=2) - pixels.min(axis=2)) > 60).sum(axis=1) > 2


@pytest.mark.parametrize("name", ["demo", "black_friday"])
def test_report_prints_to_a4_uncut(name: str, tmp_path: Path) -> None:
    example: Example = run_example(next(p for p in EXAMPLES if p.stem == name))
    pdf = tmp_path / f"{name}.pdf"
    print_to_pdf(example.written["report"], pdf, tmp_path / "profile")
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 3
    for png in pages:
        pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
        height, width = pixels.shape[:2]
        assert abs(height / width - A4) < 0.01, (png.name, width, height)
        band = round(width * (MARGIN_MM - 2) / 210)
        grey = pixels.min(axis=2)
        # nothing runs into the side margins: no table or chart is cut at the page edge
        assert grey[:, :band].min() > 200 and grey[:, -band:].min() > 200, png.name
        # a chart is never split over two pages: no coloured row touches the top or the
        # bottom of the printable area (a chart starts and ends with its white padding)
        coloured = _coloured_rows(pixels)
        top = round(height * 14 / 297)
        assert not coloured[top : top + 3].any() and not coloured[-top - 3 : -top].any(), png.name
