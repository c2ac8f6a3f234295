"""Fixtures shared by the test packages: the headless Chromium of the browser tests."""

from tests.browser import browser

__all__ = ["browser"]
