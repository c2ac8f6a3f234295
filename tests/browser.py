"""Headless Chromium for the browser tests (Debian's `chromium`, driven by Playwright): open a
page, screenshot it, and check what a reader sees: not blank, no text over other text, every
number cell formatted. Skips with how to enable it when Chromium is missing; under CI=true a
missing Chromium fails (.ci/run installs it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"]
# The text elements whose boxes must not overlap: one box per line of text, from a Range, so
# wrapped text and inline children are measured as drawn.
TEXT_BOXES = """
() => {
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const style = getComputedStyle(node.parentElement);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width > 1 && r.height > 1) {
        boxes.push({text: node.textContent.trim().slice(0, 40), x: r.left + scrollX,
                    y: r.top + scrollY, w: r.width, h: r.height});
      }
    }
  }
  return boxes;
}
"""


def chromium() -> str:
    """The Chromium binary; required under CI, else the test is skipped with how to enable it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium not installed: `apt-get install -y chromium` to run this test")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module (Playwright with Debian's binary); closed with the
    module because Playwright's sync API holds an event loop that later tests' asyncio.run
    would otherwise find running."""
    executable = chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def overlapping_text(page: object) -> list[tuple[str, str]]:
    """Pairs of text boxes on the page that overlap by more than a pixel each way."""
    boxes = page.evaluate(TEXT_BOXES)  # type: ignore[attr-defined]
    found = []
    boxes.sort(key=lambda b: b["y"])
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if b["y"] >= a["y"] + a["h"] - 1:
                break
            if a["x"] < b["x"] + b["w"] - 1 and b["x"] < a["x"] + a["w"] - 1:
                found.append((a["text"], b["text"]))
    return found


def not_blank(png: Path) -> float:
    """The share of the screenshot's rows that hold anything but the background."""
    pixels = np.asarray(Image.open(png).convert("L"), dtype=np.int16)
    return float(((pixels < 235).sum(axis=1) > 0).mean())


_NUMBER = r"-?[€$£]?-?\d{1,3}(,\d{3})*(\.\d{1,3})?( [A-Z]{3})?[x%]?"
# a formatted number, optionally with its unit or a count in brackets; a range; a date
NUMBER_CELL = re.compile(
    rf"^(–|{_NUMBER}( (s|months|days|\(\d{{1,3}}(,\d{{3}})*\)))?|{_NUMBER} – {_NUMBER}|"
    r"\d{4}-\d{2}-\d{2})$"
)


def unformatted_cells(page: object) -> list[str]:
    """Number cells (class `num`) that are not formatted numbers."""
    cells = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "td.num", "cells => cells.map(c => c.textContent.trim())"
    )
    return [c for c in cells if not NUMBER_CELL.match(c)]


def print_to_pdf(html: Path, pdf: Path, profile: Path) -> None:
    """Chromium's own --print-to-pdf of a page (the print style sheet applies: A4)."""
    command = [
        chromium(),
        "--headless",
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)


def pdf_pages(pdf: Path, folder: Path) -> list[Path]:
    """The PDF's pages as 60 dpi PNGs (poppler's pdftoppm)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but pdftoppm is not installed (.ci/run installs poppler-utils)")
        pytest.skip("pdftoppm not installed: `apt-get install -y poppler-utils` to run this test")
    subprocess.run([tool, "-r", "60", "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page*.png"))
