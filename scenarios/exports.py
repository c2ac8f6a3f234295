"""Platform exports: bid adjustments per campaign and audience segment, and customer lists per
segment with normalised, SHA-256-hashed e-mails and a value column (value-based lookalikes).

Google Ads bid adjustments range from -90% to +900% (modifier 0.1 to 10.0); customer-match
uploads take e-mails trimmed, lower-cased and hashed with SHA-256 (hex digest).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from optimizer import AllocationResult

MIN_BID_MODIFIER = 0.1
MAX_BID_MODIFIER = 10.0
BID_COLUMNS = ["campaign", "audience_segment", "period", "bid_modifier", "bid_adjustment_pct"]
LIST_COLUMNS = ["customer_id", "email_sha256", "value"]


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased, as ad platforms require before hashing."""
    return email.strip().lower()


def hash_email(email: str) -> str:
    """SHA-256 hex digest of the normalised e-mail."""
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()


def campaign_name(template: str, scenario: str, channel: str) -> str:
    """The campaign name of a channel from the export template (`{scenario}`, `{channel}`)."""
    return template.format(scenario=scenario, channel=channel)


def bid_adjustments(result: AllocationResult, campaign: str, scenario: str) -> pd.DataFrame:
    """One row per segment x channel (x period) that gets spend: the chosen bid multiplier,
    rounded to a hundredth and held inside the platform range; unfunded pairs are left out
    (see `audience_exclusions`)."""
    rows = [
        {
            "campaign": campaign_name(campaign, scenario, a.channel),
            "audience_segment": a.segment,
            "period": a.period or "",
            "bid_modifier": _modifier(a.bid_multiplier),
            "bid_adjustment_pct": f"{(_modifier(a.bid_multiplier) - 1) * 100:+.0f}%",
        }
        for a in result.allocations
        if a.spend > 0 and a.bid_multiplier is not None
    ]
    return pd.DataFrame(rows, columns=BID_COLUMNS)


def _modifier(multiplier: float | None) -> float:
    value = round(float(multiplier or 1.0), 2)
    return min(max(value, MIN_BID_MODIFIER), MAX_BID_MODIFIER)


def audience_exclusions(result: AllocationResult, campaign: str, scenario: str) -> pd.DataFrame:
    """Segment x channel pairs that get no spend: exclude them from the campaign."""
    pairs = {
        (campaign_name(campaign, scenario, a.channel), a.segment)
        for a in result.allocations
        if a.spend <= 0
    }
    funded = {
        (campaign_name(campaign, scenario, a.channel), a.segment)
        for a in result.allocations
        if a.spend > 0
    }
    rows = sorted(pairs - funded)
    return pd.DataFrame(rows, columns=["campaign", "audience_segment"])


def customer_lists(
    members: pd.DataFrame, emails: pd.DataFrame, value_column: str
) -> dict[str, pd.DataFrame]:
    """Per segment, its members (`customer_id`, `segment` and the value column): one row per
    known e-mail, hashed (`email_sha256`, empty when the customer has none), and `value` for
    value-based lookalike seeds, highest value first."""
    frame = pd.DataFrame(
        {
            "customer_id": members["customer_id"].astype(str).to_numpy(),
            "segment": members["segment"].to_numpy(),
            "value": members[value_column].to_numpy().round(2),
        }
    )
    hashed = emails.assign(
        customer_id=emails["customer_id"].astype(str),
        email_sha256=emails["email"].astype(str).map(hash_email),
    )[["customer_id", "email_sha256"]].drop_duplicates()
    merged = frame.merge(hashed, on="customer_id", how="left").fillna({"email_sha256": ""})
    merged = merged.sort_values(["value", "customer_id"], ascending=[False, True], kind="stable")
    return {
        str(name): group[LIST_COLUMNS].reset_index(drop=True)
        for name, group in merged.groupby("segment", sort=True)
    }


def write_exports(
    folder: Path,
    result: AllocationResult,
    *,
    campaign: str,
    scenario: str,
    lists: dict[str, pd.DataFrame] | None,
) -> list[Path]:
    """Write bid_adjustments.csv, audience_exclusions.csv and customer_lists/<segment>.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "bid_adjustments.csv", folder / "audience_exclusions.csv"]
    bid_adjustments(result, campaign, scenario).to_csv(written[0], index=False)
    audience_exclusions(result, campaign, scenario).to_csv(written[1], index=False)
    for segment_id, frame in (lists or {}).items():
        path = folder / "customer_lists" / f"{segment_id}.csv"
        path.parent.mkdir(exist_ok=True)
        frame.to_csv(path, index=False)
        written.append(path)
    return written
