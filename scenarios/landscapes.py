"""A channel's imported bid landscapes (its `landscapes:` file), by segment id, with the
cleaning report: read once per file and settings, shared by every variant of a run."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from optimizer.landscape_import import (
    CleanLandscape,
    DroppedPoint,
    clean_landscapes,
    read_landscapes,
)
from scenarios.schema import Channel, LandscapeFile


@dataclass(frozen=True)
class ImportedLandscapes:
    """The cleaned landscapes of one channel by segment id, the points dropped while cleaning,
    and the audiences of the file that no segment maps to (left unused)."""

    file: str
    channel: str
    by_segment: dict[str, CleanLandscape]
    unmapped: list[str]

    @property
    def dropped(self) -> list[DroppedPoint]:
        """Every point dropped while cleaning, over all segments."""
        return [p for landscape in self.by_segment.values() for p in landscape.dropped]

    def notes(self) -> list[str]:
        """One line per fact a planner should know about this import."""
        lines = [
            f"{self.channel}: {len(self.by_segment)} segment(s) from {self.file}"
            f" ({len(self.dropped)} point(s) dropped while cleaning)"
        ]
        lines += [
            f"{self.channel}: {segment} has {len(item.points)} clean point(s): "
            f"fitted a power curve (cost exponent {item.curve.cost_exponent:.2f}, "
            f"conversion exponent {item.curve.conversion_exponent:.2f})"
            for segment, item in self.by_segment.items()
            if item.curve is not None
        ]
        if self.unmapped:
            lines.append(
                f"{self.channel}: audiences {', '.join(self.unmapped)} of {self.file} map to no "
                "segment (add them under `landscapes.segments`)"
            )
        return lines


def channel_landscapes(channel: Channel) -> ImportedLandscapes | None:
    """The channel's imported landscapes, None when it imports none."""
    if channel.landscapes is None:
        return None
    return _imported(channel.channel, channel.landscapes.model_dump_json())


@lru_cache(maxsize=32)
def _imported(channel: str, settings_json: str) -> ImportedLandscapes:
    """Read and clean a landscape file for one channel (cached by the settings' JSON)."""
    settings = LandscapeFile.model_validate_json(settings_json)
    points = read_landscapes(
        settings.file, settings.format, current_cpc_bid=settings.current_cpc_bid
    )
    points = points[points["channel"].isna() | (points["channel"] == channel)]
    mapping = dict(settings.segments)
    if settings.format == "generic":
        mapping = {a: mapping.get(a, a) for a in points["audience"].unique()}
    by_segment = {
        mapping[item.audience]: item
        for item in clean_landscapes(
            points.assign(channel=channel),
            period_days=settings.period_days,
            min_points=settings.min_points,
        )
        if item.audience in mapping
    }
    unmapped = sorted(set(points["audience"]) - set(mapping))
    return ImportedLandscapes(settings.file.name, channel, by_segment, unmapped)
