"""Platform exports: e-mails normalised before hashing, bid modifiers inside 0.1-10.0."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer import AllocationResult
from optimizer.result import Allocation, SolveStatus, Totals
from scenarios.exports import audience_exclusions, bid_adjustments, customer_lists, hash_email

# SHA-256 of "test@example.com", computed outside Python: `printf test@example.com | sha256sum`.
TEST_EMAIL_SHA256 = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"


@pytest.mark.parametrize("raw", ["test@example.com", "  Test@Example.COM ", "\tTEST@EXAMPLE.COM\n"])
def test_email_hash_normalises_first(raw: str) -> None:
    assert hash_email(raw) == TEST_EMAIL_SHA256


def _result(rows: list[tuple[str, str, float | None, float]]) -> AllocationResult:
    allocations = [
        Allocation(
            segment=s,
            channel=c,
            bid_multiplier=m,
            spend=spend,
            conversions=1.0,
            value=2 * spend,
            roas=2.0 if spend else None,
        )
        for s, c, m, spend in rows
    ]
    spend = sum(r[3] for r in rows)
    totals = Totals(spend=spend, value=2 * spend, profit=spend, conversions=len(rows), roas=2.0)
    return AllocationResult(
        status=SolveStatus.OPTIMAL, solve_seconds=0.0, totals=totals, allocations=allocations
    )


def test_bid_modifiers_rounded_and_clipped_to_the_platform_range() -> None:
    result = _result(
        [
            ("a", "search", 0.05, 10.0),
            ("b", "search", 12.0, 10.0),
            ("c", "social", 1.234, 5.0),
            ("d", "social", None, 0.0),
        ]
    )
    bids = bid_adjustments(result, "{scenario}-{channel}", "spring")
    assert bids["bid_modifier"].tolist() == [0.1, 10.0, 1.23]
    assert bids["campaign"].tolist() == ["spring-search", "spring-search", "spring-social"]
    assert bids["bid_adjustment_pct"].tolist() == ["-90%", "+900%", "+23%"]
    excluded = audience_exclusions(result, "{channel}", "spring")
    assert excluded.to_dict(orient="records") == [{"campaign": "social", "audience_segment": "d"}]


def test_customer_lists_one_row_per_email_sorted_by_value() -> None:
    members = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "p1"],
            "segment": ["loyal-top", "loyal-top", "inactive-low", "lookalike-top-5pct"],
            "clv": [10.0, 30.0, 1.0, 7.0],
        }
    )
    emails = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "p1"],
            "email": ["a@x.org", " A@X.org", "b@x.org", "p@y"],
        }
    )
    lists = customer_lists(members, emails, "clv")
    assert set(lists) == {"loyal-top", "inactive-low", "lookalike-top-5pct"}
    loyal = lists["loyal-top"]
    assert loyal["customer_id"].tolist() == ["c2", "c1"]
    assert loyal["email_sha256"].tolist() == [hash_email("b@x.org"), hash_email("a@x.org")]
    assert lists["inactive-low"]["email_sha256"].tolist() == [""]
    assert lists["lookalike-top-5pct"]["value"].tolist() == [7.0]
