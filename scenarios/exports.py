"""Platform exports that upload as they are, one folder per platform, and a manifest.

- `google_ads/customer_match/<audience>.csv`: Customer Match lists (scenarios.platforms.lists);
- `google_ads/editor_bid_adjustments[_<period>].csv`: a Google Ads Editor sheet (`Campaign,
  Ad group, Audience, Bid adjustment`), one row per campaign, ad group and audience in each
  file, one file per planning period; adjustments inside -90%..+900%; only audiences that
  have a list (Editor needs the user list to exist);
- `meta/customer_lists/<audience>.csv`: Meta customer lists, `value` on customer segments
  (value-based lookalike seeds);
- `<platform>/suppression/<audience>.csv` and `exclusions.csv`: who to exclude (detargeted
  customers, excluded segments) and from which campaigns;
- `budgets_<platform>.csv`: the budget per audience for platforms without per-audience bid
  modifiers (Meta, others);
- `manifest.json`: every file, what it is for, its rows, and the warnings (lists under the
  platforms' minimums, people without identifiers, audiences without lists).

Input is narrow (`people`: customer_id, segment, value and identifier columns), so the
exports do not depend on how the scenario pipeline is built.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer import AllocationResult
from scenarios.platforms.lists import google_list, identified, meta_list, persons, write_list
from scenarios.schema import Channel, Exports, Platform

MIN_BID_MODIFIER = 0.1  # Google Ads bid adjustments: -90% ..
MAX_BID_MODIFIER = 10.0  # .. +900%
# Meta advises seeds of at least 100 people (business/help/2082575038703844); Google serves a
# Customer Match list only once it holds at least 100 active members (answer/6379332).
MIN_LIST_SIZE: dict[str, int] = {"google_ads": 100, "meta": 100}
EDITOR_COLUMNS = ["Campaign", "Ad group", "Audience", "Bid adjustment"]
BUDGET_COLUMNS = ["Campaign", "Audience", "Period", "Budget", "Expected conversions"]
EXCLUSION_COLUMNS = ["platform", "campaign", "excluded_audience", "reason"]
GOOGLE_CHANNELS = frozenset({"search", "display", "youtube", "video", "shopping", "gmail", "pmax"})
META_CHANNELS = frozenset({"social", "facebook", "instagram", "meta"})
DETARGETED = "detargeted"


def platform_of(channel: Channel) -> Platform:
    """The channel's platform: as given, else by its name (search, display... -> Google Ads;
    social, facebook, instagram -> Meta; anything else -> other)."""
    if channel.platform is not None:
        return channel.platform
    name = channel.channel.lower()
    if name in GOOGLE_CHANNELS:
        return "google_ads"
    return "meta" if name in META_CHANNELS else "other"


def audience_name(template: str, scenario: str, segment: str) -> str:
    """The list (user list, custom audience) name of a segment from the export template."""
    return template.format(scenario=scenario, segment=segment)


def campaign_name(channel: Channel, exports: Exports, scenario: str) -> str:
    """The channel's campaign: its own `campaign`, else the export template."""
    template = channel.campaign or exports.campaign
    return template.format(scenario=scenario, channel=channel.channel)


def bid_adjustment(multiplier: float | None) -> str:
    """The Editor's `Bid adjustment`: the multiplier as a signed percentage, rounded to a
    whole percent and held inside -90%..+900%."""
    value = min(max(round(float(multiplier or 1.0), 2), MIN_BID_MODIFIER), MAX_BID_MODIFIER)
    return f"{(value - 1) * 100:+.0f}%"


@dataclass
class Manifest:
    """What a run exported: one entry per file, and the warnings a marketer must read."""

    files: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    landscapes: list[str] = field(default_factory=list)

    def add(self, path: Path, folder: Path, platform: str, purpose: str, rows: int) -> None:
        """Record a written file."""
        self.files.append(
            {
                "path": str(path.relative_to(folder)),
                "platform": platform,
                "purpose": purpose,
                "rows": rows,
            }
        )


@dataclass(frozen=True)
class _Target:
    """Where and how a run's exports are written: the folder, the export settings, the
    scenario's name, the platforms its channels use and the manifest being filled."""

    folder: Path
    exports: Exports
    scenario: str
    platforms: set[str]
    manifest: Manifest

    def audience(self, segment: str) -> str:
        """The audience (list) name of a segment."""
        return audience_name(self.exports.audience, self.scenario, segment)


@dataclass(frozen=True)
class ExportInput:
    """What the exports need from a run: who is in each segment (`people`: customer_id,
    segment, value), their identifiers (`identifiers`: customer_id and any of the columns
    scenarios.platforms.lists.IDENTIFIER_COLUMNS, one row per identifier), the allocation,
    the channels, the segments excluded, the customers detargeted (ids), the segments' kinds
    and the landscape-import notes."""

    people: pd.DataFrame
    identifiers: pd.DataFrame
    result: AllocationResult
    channels: list[Channel]
    excluded: list[str] = field(default_factory=list)
    detargeted: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def has_identifiers(self) -> bool:
        """Whether anyone has an e-mail or a phone (CDNOW has neither)."""
        columns = [c for c in ("email", "phone") if c in self.identifiers]
        return bool(columns) and bool(self.identifiers[columns].notna().any().any())

    def members(self, people: pd.DataFrame) -> pd.DataFrame:
        """`people` rows with their identifiers joined (one row per identifier)."""
        ids = self.identifiers.assign(customer_id=self.identifiers["customer_id"].astype(str))
        return people.assign(customer_id=people["customer_id"].astype(str)).merge(
            ids, on="customer_id", how="left"
        )


def write_exports(folder: Path, data: ExportInput, *, exports: Exports, scenario: str) -> Manifest:
    """Write every platform file into `folder` and `manifest.json`; return the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(landscapes=list(data.notes))
    platforms = {platform_of(c) for c in data.channels}
    target = _Target(folder, exports, scenario, platforms, manifest)
    listed: set[str] = set()
    suppressed: dict[str, str] = {}
    if data.has_identifiers():
        listed = _write_lists(target, data)
        suppressed = _write_suppression(target, data)
    elif target.exports.customer_lists:
        manifest.warnings.append(
            "the data has no e-mail or phone for anyone: no customer or suppression list "
            "written (load contacts with e-mails or phones to match customers on the platforms)"
        )
    _write_exclusions(target, data, suppressed)
    _write_editor_sheets(target, data, listed)
    _write_budgets(target, data)
    path = folder / "manifest.json"
    path.write_text(json.dumps(vars(manifest), indent=1), encoding="utf-8")
    return manifest


def _write_lists(target: _Target, data: ExportInput) -> set[str]:
    """A list per segment and platform; the segments that got a list."""
    if not target.exports.customer_lists:
        return set()
    listed = set()
    members = persons(data.members(data.people))
    for segment, group in members.groupby("segment", sort=True):
        name = target.audience(str(segment))
        written = _write_person_files(
            target,
            group,
            name,
            purpose=f"customer list of segment {segment}",
            with_value=data.kinds.get(str(segment), "customers") == "customers",
            subfolder={"google_ads": "customer_match", "meta": "customer_lists"},
        )
        if written:
            listed.add(str(segment))
    return listed


def _write_person_files(
    target: _Target,
    group: pd.DataFrame,
    name: str,
    *,
    purpose: str,
    with_value: bool,
    subfolder: dict[str, str],
) -> bool:
    """Write one audience for Google and Meta (those the channels use); warn when people have
    no identifier or the list is under a platform's minimum. Whether any file was written."""
    formats = {
        "google_ads": google_list(group),
        "meta": meta_list(group, with_value=with_value),
    }
    written = False
    for platform, frame in formats.items():
        if platform not in target.platforms:
            continue
        usable = frame[identified(frame)] if len(frame.columns) else frame
        missing = len(group) - len(usable)
        if len(usable) == 0:
            target.manifest.warnings.append(
                f"{name}: none of its {len(group):,} people has an e-mail or phone: "
                f"no {platform} list written"
            )
            continue
        if missing:
            target.manifest.warnings.append(
                f"{name} ({platform}): {missing:,} of {len(group):,} people have no usable "
                "identifier and are left out"
            )
        minimum = MIN_LIST_SIZE[platform]
        if len(usable) < minimum:
            target.manifest.warnings.append(
                f"{name} ({platform}): {len(usable):,} people, under the platform's minimum "
                f"of {minimum}: the list will not serve"
            )
        path = target.folder / platform / subfolder[platform] / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_list(usable, str(path))
        target.manifest.add(path, target.folder, platform, purpose, len(usable))
        written = True
    return written


def _suppressed_people(data: ExportInput) -> dict[str, tuple[str, pd.DataFrame]]:
    """Per suppression list: its reason and its people (customer_id, segment, value)."""
    lists: dict[str, tuple[str, pd.DataFrame]] = {}
    if data.detargeted:
        frame = pd.DataFrame({"customer_id": list(data.detargeted)})
        lists[DETARGETED] = ("next purchase not yet due (detargeting)", frame)
    for segment in data.excluded:
        frame = data.people.loc[data.people["segment"] == segment, ["customer_id"]]
        lists[segment] = (f"segment {segment} excluded from spend", frame)
    return lists


def _write_suppression(target: _Target, data: ExportInput) -> dict[str, str]:
    """Suppression lists; the names written, with their reason."""
    written = {}
    for key, (reason, frame) in _suppressed_people(data).items():
        if frame.empty:
            continue
        name = target.audience(f"suppress-{key}")
        members = persons(data.members(frame.assign(segment=key, value=0.0)))
        if _write_person_files(
            target,
            members,
            name,
            purpose=f"suppression list: {reason}",
            with_value=False,
            subfolder={"google_ads": "suppression", "meta": "suppression"},
        ):
            written[name] = reason
    return written


def _write_exclusions(target: _Target, data: ExportInput, suppressed: dict[str, str]) -> None:
    """Which suppression list to exclude from which campaign, and why: every campaign."""
    rows = [
        (platform_of(c), campaign_name(c, target.exports, target.scenario), name, reason)
        for c in data.channels
        for name, reason in suppressed.items()
    ]
    if not rows:
        return
    path = target.folder / "exclusions.csv"
    pd.DataFrame(rows, columns=EXCLUSION_COLUMNS).to_csv(path, index=False)
    target.manifest.add(path, target.folder, "all", "audience exclusions per campaign", len(rows))


def _funded(result: AllocationResult, channels: Iterable[Channel]) -> pd.DataFrame:
    """Funded segment x channel (x period) rows with the channel's platform."""
    frame = pd.DataFrame([a.model_dump() for a in result.allocations if a.spend > 0])
    if frame.empty:
        return frame
    platforms = {c.channel: platform_of(c) for c in channels}
    frame["platform"] = frame["channel"].map(platforms)
    frame["period"] = frame["period"].fillna("")
    return frame


def _write_editor_sheets(target: _Target, data: ExportInput, listed: set[str]) -> None:
    """Google Ads Editor bid-adjustment sheets, one per period, audiences with a list only."""
    funded = _funded(data.result, data.channels)
    if funded.empty or not (funded["platform"] == "google_ads").any():
        return
    google = funded[funded["platform"] == "google_ads"]
    channels = {c.channel: c for c in data.channels}
    unlisted = sorted(set(google["segment"]) - listed)
    if unlisted:
        target.manifest.warnings.append(
            f"audiences without a list get no Editor row (no user list to adjust): "
            f"{', '.join(unlisted)}"
        )
    google = google[google["segment"].isin(listed)]
    for period, rows in google.groupby("period", sort=True):
        sheet = pd.DataFrame(
            {
                "Campaign": [
                    campaign_name(channels[c], target.exports, target.scenario)
                    for c in rows["channel"]
                ],
                "Ad group": [
                    target.exports.ad_group.format(scenario=target.scenario, channel=c, segment=s)
                    for c, s in zip(rows["channel"], rows["segment"], strict=True)
                ],
                "Audience": [target.audience(s) for s in rows["segment"]],
                "Bid adjustment": rows["bid_multiplier"].map(bid_adjustment).to_numpy(),
            },
            columns=EDITOR_COLUMNS,
        )
        suffix = f"_{period}" if period else ""
        path = target.folder / "google_ads" / f"editor_bid_adjustments{suffix}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.to_csv(path, index=False)
        what = f" for period {period}" if period else ""
        target.manifest.add(
            path,
            target.folder,
            "google_ads",
            f"Google Ads Editor bid adjustments{what}",
            len(sheet),
        )


def _write_budgets(target: _Target, data: ExportInput) -> None:
    """Budget per audience for platforms without per-audience bid modifiers."""
    funded = _funded(data.result, data.channels)
    if funded.empty:
        return
    channels = {c.channel: c for c in data.channels}
    for platform, rows in funded[funded["platform"] != "google_ads"].groupby("platform"):
        sheet = pd.DataFrame(
            {
                "Campaign": [
                    campaign_name(channels[c], target.exports, target.scenario)
                    for c in rows["channel"]
                ],
                "Audience": [target.audience(s) for s in rows["segment"]],
                "Period": rows["period"].to_numpy(),
                "Budget": rows["spend"].round(2).to_numpy(),
                "Expected conversions": rows["conversions"].round(2).to_numpy(),
            },
            columns=BUDGET_COLUMNS,
        )
        path = target.folder / f"budgets_{platform}.csv"
        sheet.to_csv(path, index=False)
        target.manifest.add(
            path, target.folder, str(platform), "budget per audience (no bid modifiers)", len(sheet)
        )
