"""The segment vocabulary, defined once: lifecycle stages, value tiers and segment ids.

Every layer (customer stages, CLV tiers, segment tables, scenario selectors, the allocation
schema) imports these names from here, so a stage or tier is spelt in one place.
"""

from __future__ import annotations

from typing import Literal

Stage = Literal["prospect", "new", "active", "loyal", "inactive"]
CustomerStage = Literal["new", "active", "loyal", "inactive"]
Tier = Literal["top", "mid", "low"]

STAGES: tuple[Stage, ...] = ("prospect", "new", "active", "loyal", "inactive")
CUSTOMER_STAGES: tuple[CustomerStage, ...] = ("new", "active", "loyal", "inactive")
TIERS: tuple[Tier, ...] = ("top", "mid", "low")
PROSPECT_SEGMENT = "prospect-all"
PROSPECT_TIER = "all"
MOVER_SEGMENTS = {"reengage": "movers-reengage", "push": "movers-push"}
STOP_SEGMENT = "movers-stop"


def segment_id(stage: str, tier: str) -> str:
    """The id of a stage x tier segment, e.g. `loyal-top`."""
    return f"{stage}-{tier}"
