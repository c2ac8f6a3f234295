"""Column mappings written as OURS=THEIRS (`--column amount=Betrag`, the upload's `column`).

A pure module without the data stack, so the HTTP service can check a mapping at the request.
"""

from __future__ import annotations

from collections.abc import Mapping


def parse_column_pairs(pairs: list[str] | None) -> dict[str, str]:
    """['amount=Betrag', ...] -> {'amount': 'Betrag', ...}; ValueError naming a pair that is
    not OURS=THEIRS (both sides non-blank)."""
    mapping = {}
    for pair in pairs or []:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise ValueError(f"column mapping {pair!r} is not OURS=THEIRS (e.g. amount=Betrag)")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def column_pairs(mapping: Mapping[str, str]) -> list[str]:
    """{'amount': 'Betrag', ...} -> ['amount=Betrag', ...]: a mapping as it was written."""
    return [f"{ours}={theirs}" for ours, theirs in mapping.items()]
