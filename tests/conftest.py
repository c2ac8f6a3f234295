"""Fixtures shared by the test packages: the headless Chromium of the browser tests and the
one Spark session of the Spark engine tests."""

from tests.browser import browser
from tests.spark import spark, spark_cluster

__all__ = ["browser", "spark", "spark_cluster"]
