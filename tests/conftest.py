"""Fixtures shared by the test packages: the headless Chromium of the browser tests and the
one Spark session of the Spark engine tests."""

from tests.browser import browser
from tests.spark import spark

__all__ = ["browser", "spark"]
