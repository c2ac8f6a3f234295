"""Every example scenario loads, runs and writes outputs a planner and an ad platform can use."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from optimizer import AllocationProblem, AllocationResult
from scenarios.report import CHARTS
from tests.scenarios.conftest import EXAMPLES, Example

TOL = 1e-6


def test_every_example_has_a_question_header() -> None:
    assert {p.stem for p in EXAMPLES} >= {"demo"}
    for path in EXAMPLES:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Question:"), path


CENT = 0.005  # half a cent: rows hold to the cent, platform sheets are rounded to it


def test_budgets_respected(example: Example) -> None:
    """Every budget holds in what the planner and the platforms are given, read back from the
    written files: each variant's allocation CSV (total, channel, period budgets, exclusions)
    and the platforms' budget sheets, whose every row is a funded allocation row of its
    period, to the cent. Variants without a plan name their conflicts (proven for a budget
    below the protected bids' floor)."""
    for name, variant in example.run.variants.items():
        result, problem = variant.result, variant.problem
        if result.totals is None:
            # every base question has a plan, so a solver that calls everything infeasible fails
            assert name != "base" and result.conflicts, (name, result.status)
            if set(result.conflicts) == {"budget_total", *protect_rows(result.conflicts)}:
                # proven here: the protected bids alone cost more than the budget
                assert problem.budget.total is not None
                assert protected_floor(problem) > problem.budget.total, (name, result.conflicts)
            continue
        rows = pd.read_csv(example.written[f"allocation:{name}"], keep_default_na=False)
        rows["spend"] = rows["spend"].astype(float)
        assert abs(rows["spend"].sum() - result.totals.spend) <= CENT * len(rows), name
        _check_budgets(problem, rows, name)
        funded = rows[rows["spend"] > 0]
        for sheet_path in (example.folder / "exports" / name).glob("budgets_*.csv"):
            sheet = pd.read_csv(sheet_path, keep_default_na=False)
            _check_budgets(problem, sheet.rename(columns={"Budget": "spend", "Period": "period"}))
            for period, given in sheet.groupby("Period"):
                written = funded.loc[funded["period"].astype(str) == str(period), "spend"]
                assert all(
                    any(abs(budget - spend) <= CENT for spend in written)
                    for budget in given["Budget"]
                ), (name, sheet_path.name, period)


def _check_budgets(problem: AllocationProblem, rows: pd.DataFrame, name: str = "") -> None:
    """The total, channel and period budgets and the exclusions hold over `rows` (spend and,
    where present, channel, period and segment columns), to the cent per row."""
    slack = CENT * max(1, len(rows))
    if problem.budget.total is not None:
        assert rows["spend"].sum() <= problem.budget.total + slack, name
    if "channel" in rows:
        for channel, cap in problem.budget.channels.items():
            assert rows.loc[rows["channel"] == channel, "spend"].sum() <= cap + slack, name
    for period in problem.periods:
        if period.budget is not None and "period" in rows:
            used = rows.loc[rows["period"].astype(str) == period.id, "spend"].sum()
            assert used <= period.budget + slack, (name, period.id)
    if "segment" in rows:
        excluded = rows["segment"].isin(problem.constraints.exclude)
        assert rows.loc[excluded, "spend"].sum() == 0, name


def protect_rows(conflicts: list[str]) -> set[str]:
    """The protect rules' rows among named conflicts."""
    return {name for name in conflicts if name.startswith("protect_bid[")}


def protected_floor(problem: AllocationProblem) -> float:
    """The least spend the protect rules force: on every channel of every matching segment,
    the cheapest landscape point at or above the rule's bid multiplier."""
    floor = 0.0
    for rule in problem.constraints.protect:
        if rule.min_bid_multiplier is None:
            continue
        for segment in problem.segments:
            selectors = zip(
                (rule.segment, rule.stage, rule.tier, rule.kind),
                (segment.id, segment.stage, segment.tier, segment.kind),
                strict=True,
            )
            if all(wanted in (None, value) for wanted, value in selectors):
                floor += sum(
                    min(p.cost for p in c.points if p.bid_multiplier >= rule.min_bid_multiplier)
                    for c in segment.channels
                )
    return floor


def test_frontier_non_decreasing_and_within_budget(example: Example) -> None:
    table = example.run.frontier
    if example.file.base.sweep is None:
        assert table is None
        return
    assert table is not None
    solved = table.dropna(subset=["spend"])
    assert len(solved) >= 2
    objective = example.run.base.problem.objective
    measure = solved["profit" if objective == "profit" else "value"].to_numpy()
    assert np.all(np.diff(measure) >= -1e-6 * np.abs(measure).max())
    assert np.all(solved["spend"] <= solved["budget"] * (1 + TOL))
    # divisible spend (LP) can only do at least as well as the 0/1 plan at the same budget
    base = example.run.base.result.totals
    budget = example.run.base.problem.budget.total
    at_budget = solved[np.isclose(solved["budget"], budget or -1)]
    if base is not None and len(at_budget):
        assert at_budget[measure_name(objective)].iloc[0] >= getattr(
            base, measure_name(objective)
        ) - 1e-6 * abs(getattr(base, measure_name(objective)))


def measure_name(objective: str) -> str:
    return "profit" if objective == "profit" else "value"


def test_editor_sheets_one_row_per_key_inside_the_platform_range(example: Example) -> None:
    for name in example.run.variants:
        folder = example.folder / "exports" / name
        for path in (folder / "google_ads").glob("editor_bid_adjustments*.csv"):
            sheet = pd.read_csv(path, keep_default_na=False)
            assert list(sheet.columns) == ["Campaign", "Ad group", "Audience", "Bid adjustment"]
            assert not sheet.duplicated(["Campaign", "Ad group", "Audience"]).any(), path
            percent = sheet["Bid adjustment"].str.rstrip("%").astype(float)
            assert percent.between(-90, 900).all()
            lists = {p.stem for p in (folder / "google_ads" / "customer_match").glob("*.csv")}
            assert set(sheet["Audience"]) <= lists  # Editor needs the user list to exist
        assert (folder / "manifest.json").is_file(), name


def hashed_email(email: object) -> str:
    """Meta's e-mail identifier: SHA-256 of the trimmed, lower-cased address."""
    return hashlib.sha256(str(email).strip().lower().encode()).hexdigest()


def test_customer_lists_one_row_per_person(example: Example) -> None:
    """Each list holds, one row per person, exactly the hashed e-mails of its segment's
    members (from the run's own customer table, hashed here)."""
    folder = example.folder / "exports" / "base"
    lists = sorted((folder / "meta" / "customer_lists").glob("*.csv"))
    if not example.file.base.exports.customer_lists:
        assert not lists
        return
    members = example.run.base.formed.members
    emails = example.run.base.customers.emails
    if emails.empty:  # CDNOW: no identifiers, so no list, and the manifest says so
        assert not lists
        manifest = json.loads((folder / "manifest.json").read_text())
        assert any("no e-mail or phone for anyone" in w for w in manifest["warnings"])
        return
    owner = dict(zip(emails["email"].map(hashed_email), emails["customer_id"], strict=True))
    assert lists
    for path in lists:
        frame = pd.read_csv(path, header=None, skiprows=1, dtype=str, keep_default_na=False)
        header = path.read_text().splitlines()[0].split(",")
        rows = frame[[i for i, h in enumerate(header) if h == "email"]].to_numpy()
        people = [{owner[h] for h in row if h} for row in rows]
        assert all(len(person) == 1 for person in people), path  # a row is one person
        listed = [person.pop() for person in people]
        assert len(set(listed)) == len(listed), path  # and a person is one row
        for row, person in zip(rows, listed, strict=True):
            mine = {h for h, customer in owner.items() if customer == person}
            assert {h for h in row if h} == mine, (path, person)
        segment = path.stem.removeprefix(f"{example.file.base.name}-")
        if segment != "prospect-all":  # prospects are contacts, in no member table
            expected = set(members.loc[members["segment"] == segment, "customer_id"])
            assert set(listed) == expected & set(owner.values()), path
        if "value" in header:
            assert frame[header.index("value")].astype(float).is_monotonic_decreasing


def test_report_holds_every_chart(example: Example) -> None:
    text = Path(example.written["report"]).read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "<script" not in text
    found = dict(
        re.findall(
            r'id="chart-([a-z_]+)" alt="[^"]+" src="data:image/svg\+xml;base64,([^"]+)"', text
        )
    )
    run = example.run
    expected = set(CHARTS) - ({"frontier"} if run.frontier is None else set())
    if len(run.base.problem.periods) < 2:
        expected -= {"periods"}
    assert set(found) == expected
    for chart, data in found.items():
        svg = ElementTree.fromstring(base64.b64decode(data))
        words = [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")]
        # every chart names what it shows: a title and labelled axes, as text
        assert len(words) > 5, chart
        assert float(svg.get("width", "0pt").removesuffix("pt")) > 200, chart


def test_report_names_the_models_values_rest_on(example: Example) -> None:
    """The models chosen on the holdout are stated under Why; a validated choice with no
    candidate dropped is no warning."""
    text = Path(example.written["report"]).read_text(encoding="utf-8")
    why = text.split('id="why-title"')[1].split("</section>")[0]
    warned = text.split('id="warnings-title"')[1].split("</section>")[0]
    choice = example.run.base.formed.valuation.fitted.choice
    assert f"valued with the {choice.chosen} purchase model" in why
    assert f"the {choice.spend.chosen} spend model" in why
    assert ("Purchase model:" in warned) == bool(choice.dropped or not choice.reports)


def test_report_cells_are_formatted(example: Example) -> None:
    """No table cell shows a Python None, a nan or an unformatted float."""
    text = Path(example.written["report"]).read_text(encoding="utf-8")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    assert cells
    for cell in cells:
        value = cell.strip()
        assert value not in ("None", "nan", "NaN", "inf", ""), cell
        assert not re.fullmatch(r"-?\d+\.\d{4,}", value), cell


def _by_pair(result: AllocationResult) -> pd.DataFrame:
    """Spend and value per segment x channel, summed over periods, from a result's rows."""
    rows = pd.DataFrame([a.model_dump() for a in result.allocations])
    if rows.empty:
        return pd.DataFrame(columns=["segment", "channel", "spend", "value"]).set_index(
            ["segment", "channel"]
        )
    return rows.groupby(["segment", "channel"])[["spend", "value"]].sum()


def test_comparison_against_base(example: Example) -> None:
    """Every variant's differences, overall and per segment x channel, are its own figures
    less the base's, both taken from the solver results rather than the table."""
    table = pd.read_csv(example.written["comparison"])
    assert set(table["variant"]) == set(example.run.variants)
    base = _by_pair(example.run.base.result)
    base_totals = example.run.base.result.totals
    assert base_totals is not None
    overall = table[(table["segment"] == "(all)") & (table["channel"] == "(all)")]
    pairs = table[(table["segment"] != "(all)") & (table["channel"] != "(all)")]
    for name, variant in example.run.variants.items():
        totals = variant.result.totals
        row = overall[overall["variant"] == name].iloc[0]
        assert np.isclose(row["spend"], 0.0 if totals is None else totals.spend, atol=1e-6)
        if totals is not None:
            for measure in ("spend", "value", "profit"):
                expected = getattr(totals, measure) - getattr(base_totals, measure)
                assert np.isclose(row[f"{measure}_diff"], expected, atol=1e-6), (name, measure)
        mine = _by_pair(variant.result)
        diff = mine.sub(base, fill_value=0.0)
        rows = pairs[pairs["variant"] == name].set_index(["segment", "channel"])
        for measure in ("spend", "value"):
            got = rows[f"{measure}_diff"].fillna(0.0).astype(float)
            want = diff[measure].reindex(got.index, fill_value=0.0).astype(float)
            np.testing.assert_allclose(got, want, atol=1e-6, err_msg=f"{name} {measure}")


def test_allocation_only_variants_do_not_refit(example: Example) -> None:
    scenarios = example.file.all().values()
    fits = {(s.data, s.model.as_of, s.model.clv_model) for s in scenarios}
    assert example.run.computed("data") == len({s.data for s in scenarios})
    assert example.run.computed("fit") == len(fits)
    values = {(s.data.model_dump_json(), s.model.model_dump_json()) for s in scenarios}
    assert example.run.computed("values") == len(values) < len(example.run.variants)
    formations = {
        (s.data.model_dump_json(), s.model.model_dump_json(), s.segments.model_dump_json())
        for s in scenarios
    }
    assert example.run.computed("segments") == len(formations)
    assert example.run.computed("solve") == len(example.run.variants)


def test_detargeted_customers_are_in_no_segment(demo: Example) -> None:
    variant = demo.run.variants["not-yet-due-out"]
    frame = variant.formed.detargeted
    assert frame is not None
    out = set(frame.index[frame["detargeted"]].astype(str))
    assert 0 < len(out) < len(frame)
    # left out exactly while the last order is more recent than the due share of the gap
    due_share = variant.scenario.segments.detargeting.due_share  # type: ignore[union-attr]
    recent = frame["days_since_last_order"] < due_share * frame["expected_gap_days"]
    assert set(frame.index[recent].astype(str)) == out
    members = set(variant.formed.members["customer_id"])
    assert not members & out
    rows = variant.formed.segments.set_index("id")
    paid = rows.query("kind == 'customers' and not excluded")["size"].sum()
    assert paid == len(frame) - len(out)
    assert rows.loc["detargeted", "size"] == len(out) and rows.loc["detargeted", "excluded"]
    assert "detargeted" in variant.problem.constraints.exclude
    assert any("detargeting left out" in note for note in variant.notes)
