"""Write a scenario run to `out/<scenario>/`: allocation CSV per variant, the comparison of
variants with the base, the frontier, a JSON of everything, report.html and the exports."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from scenarios.audience_report import audience_figures
from scenarios.exports import ExportInput, write_exports
from scenarios.landscapes import channel_landscapes
from scenarios.report import allocation_frame, render_report
from scenarios.runner import ScenarioRun, VariantRun
from scenarios.schema import PROSPECT_SEGMENT

ALL = "(all)"
MEASURES = ["spend", "value", "profit", "roas"]


def _with_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows per segment x channel, per segment and per channel over the rest, and overall."""
    parts = [frame]
    for keep, blank in (("segment", "channel"), ("channel", "segment")):
        grouped = frame.groupby(keep, as_index=False, sort=False)[["spend", "value"]].sum()
        parts.append(grouped.assign(**{blank: ALL}))
    parts.append(
        pd.DataFrame([{"segment": ALL, "channel": ALL, **frame[["spend", "value"]].sum()}])
    )
    table = pd.concat(parts, ignore_index=True)[["segment", "channel", "spend", "value"]]
    table = table.astype({"spend": float, "value": float})
    table["profit"] = table["value"] - table["spend"]
    table["roas"] = table["value"] / table["spend"].where(table["spend"] > 0)
    return table


def comparison_table(run: ScenarioRun) -> pd.DataFrame:
    """Spend, value, profit and ROAS of every variant by segment and channel (with subtotals),
    and each one's difference to the base (`<measure>_diff`)."""
    base = _with_totals(allocation_frame(run.base))
    frames = []
    for name, variant in run.variants.items():
        table = _with_totals(allocation_frame(variant))
        merged = table.merge(
            base, on=["segment", "channel"], how="outer", suffixes=("", "_base"), sort=False
        )
        for measure in MEASURES:
            merged[measure] = merged[measure].fillna(0.0) if measure != "roas" else merged[measure]
            merged[f"{measure}_diff"] = merged[measure] - merged[f"{measure}_base"].fillna(
                0.0 if measure != "roas" else float("nan")
            )
        merged.insert(0, "variant", name)
        frames.append(merged[["variant", "segment", "channel", *MEASURES, *_diffs()]])
    return pd.concat(frames, ignore_index=True)


def _diffs() -> list[str]:
    return [f"{m}_diff" for m in MEASURES]


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _variant_json(variant: VariantRun) -> dict[str, Any]:
    valuation = variant.formed.valuation
    return {
        "scenario": variant.scenario.model_dump(mode="json"),
        "as_of": valuation.as_of.date().isoformat(),
        "models": {
            "chosen": valuation.fitted.choice.chosen,
            "why": valuation.fitted.choice.reason,
            "dropped": valuation.fitted.choice.dropped,
            "purchases": valuation.purchases.params_.to_dict(),
            "spend": valuation.spend.params_.to_dict(),
        },
        "top_tier_clv_share": valuation.top_tier_clv_share,
        "segments": variant.formed.segments.to_dict(orient="records"),
        "problem": variant.problem.model_dump(mode="json"),
        "result": variant.result.model_dump(mode="json"),
        "audiences": audience_figures(variant),
        "notes": variant.notes,
    }


def export_input(variant: VariantRun) -> ExportInput:
    """The narrow input of the platform exports from a variant's run: members with the
    scenario's list value (and the prospects of `prospect-all`), identifiers (e-mails
    and contact details), exclusions, detargeted customers and landscape-import notes."""
    formed = variant.formed
    value = variant.scenario.exports.list_value
    kinds = {s.id: s.kind for s in variant.problem.segments}
    excluded = formed.segments.loc[formed.segments["excluded"], "id"]
    out = formed.assignment[formed.assignment.isin(excluded)]
    people = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": formed.members["customer_id"].astype(str),
                    "segment": formed.members["segment"].astype(str),
                    "value": formed.members[value].to_numpy(),
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": out.index.astype(str),
                    "segment": out.to_numpy(),
                    "value": formed.valuation.values.loc[out.index, value].to_numpy(),
                }
            ),
        ],
        ignore_index=True,
    )
    customers = variant.customers
    if PROSPECT_SEGMENT in kinds:
        people = pd.concat([people, _prospects(variant)], ignore_index=True)
    identifiers = pd.concat([customers.emails, customers.contacts], ignore_index=True)
    detargeted = formed.detargeted
    notes = []
    for channel in variant.scenario.channels:
        imported = channel_landscapes(channel)
        notes += [] if imported is None else imported.notes()
    return ExportInput(
        people=people,
        identifiers=identifiers,
        result=variant.result,
        channels=list(variant.scenario.channels),
        excluded=list(variant.problem.constraints.exclude),
        detargeted=[]
        if detargeted is None
        else list(detargeted.index[detargeted["detargeted"]].astype(str)),
        kinds=kinds,
        notes=notes,
    )


def _prospects(variant: VariantRun) -> pd.DataFrame:
    """The prospects (contacts who never ordered) as members of `prospect-all`, each valued
    at the segment's value (a newly acquired customer's expected CLV)."""
    table = variant.formed.valuation.fitted.customers
    ids = table.index[table["stage"].astype(str) == "prospect"].astype(str)
    row = variant.formed.segments.set_index("id").loc[PROSPECT_SEGMENT]
    column = "clv_mean" if variant.scenario.exports.list_value == "clv" else "value_per_conversion"
    return pd.DataFrame({"customer_id": ids, "segment": PROSPECT_SEGMENT, "value": row[column]})


def write_outputs(run: ScenarioRun, folder: Path) -> dict[str, Path]:
    """Write every output into `folder` and return them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    export_warnings: list[str] = []
    for name, variant in run.variants.items():
        path = folder / f"allocation_{name}.csv"
        frame = pd.DataFrame([a.model_dump() for a in variant.result.allocations])
        frame.to_csv(path, index=False)
        written[f"allocation:{name}"] = path
        exports = run.file.base.exports
        target = folder / "exports" / name
        manifest = write_exports(
            target, export_input(variant), exports=exports, scenario=run.file.base.name
        )
        if name == "base":
            export_warnings = manifest.warnings
        for entry in [*manifest.files, {"path": "manifest.json"}]:
            path = target / entry["path"]
            written[f"export:{name}:{path.relative_to(folder)}"] = path
    comparison = comparison_table(run)
    written["comparison"] = folder / "comparison.csv"
    comparison.to_csv(written["comparison"], index=False)
    if run.frontier is not None:
        written["frontier"] = folder / "frontier.csv"
        run.frontier.to_csv(written["frontier"], index=False)
    written["report"] = folder / "report.html"
    written["report"].write_text(render_report(run, export_warnings), encoding="utf-8")
    everything = {
        "scenario": run.file.base.name,
        "file": str(run.file.path),
        "seconds": run.seconds,
        "steps": [vars(record) for record in run.steps],
        "variants": {name: _variant_json(v) for name, v in run.variants.items()},
        "comparison": comparison.to_dict(orient="records"),
        "frontier": None if run.frontier is None else run.frontier.to_dict(orient="records"),
        "outputs": {key: str(path.relative_to(folder)) for key, path in written.items()},
    }
    written["json"] = folder / "scenario.json"
    written["json"].write_text(json.dumps(_clean(everything), indent=1, default=str))
    return written
