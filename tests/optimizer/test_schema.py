"""The problem schema rejects bad input with the field path of each error, keeps the DESIGN.md
names, round-trips through JSON, and gives a valid OpenAPI document for the HTTP body."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from fastapi import FastAPI
from pydantic import TypeAdapter, ValidationError

from optimizer import AllocationProblem, AllocationResult
from optimizer.grid import build_grid
from optimizer.schema import (
    LandscapePoint,
    LandscapeView,
    ResponseCurve,
    Segment,
    SegmentChannel,
)

EXAMPLE = Path(__file__).parents[2] / "optimizer" / "examples" / "spring_sale.yaml"


def example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text())


def error_paths(document: dict[str, Any]) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as caught:
        AllocationProblem.model_validate(document)
    return [tuple(e["loc"]) for e in caught.value.errors()]


def test_example_problem_is_valid_and_round_trips() -> None:
    problem = AllocationProblem.model_validate(example())
    again = AllocationProblem.model_validate_json(problem.model_dump_json())
    assert again == problem


def test_unsorted_or_decreasing_landscape_points_name_the_point() -> None:
    document = example()
    landscape = document["segments"][0]["channels"][0]["landscape"]
    landscape[1]["bid_multiplier"], landscape[2]["bid_multiplier"] = 1.5, 1.0
    landscape[2]["conversions"] = 0.0
    paths = error_paths(document)
    assert ("segments", 0, "channels", 0, "landscape", 2, "bid_multiplier") in paths
    assert ("segments", 0, "channels", 0, "landscape", 2, "conversions") in paths


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d["segments"][0]["channels"][0]["landscape"][0].update(cost=-1), "cost"),
        (lambda d: d["segments"][0].update(colour="red"), "colour"),
        (lambda d: d["segments"][1].update(id=d["segments"][0]["id"]), "id"),
        (lambda d: d["constraints"].update(exclude=["nobody"]), "exclude"),
        (lambda d: d["constraints"].update(protect=[{"stage": "new", "min_spend": 1}]), "stage"),
        (lambda d: d["budget"]["channels"].update(tv=5), "tv"),
        (lambda d: d.update(bid_multiplier_range=[1.2, 10.0]), "landscape"),
        (lambda d: d.update(objective="target"), "target_value"),
    ],
)
def test_each_mistake_is_reported_at_its_field(edit, path: str) -> None:
    document = copy.deepcopy(example())
    edit(document)
    assert any(path in loc for loc in error_paths(document))


def test_lookalikes_need_a_seed() -> None:
    document = example()
    lookalike = next(s for s in document["segments"] if s["kind"] == "lookalike")
    del lookalike["seed"]
    assert any(loc[-1] == "seed" for loc in error_paths(document))


def test_schemas_are_frozen() -> None:
    problem = AllocationProblem.model_validate(example())
    with pytest.raises(ValidationError):
        problem.objective = "value"


def test_openapi_document_for_the_http_body() -> None:
    app = FastAPI()

    @app.post("/allocations")
    def allocate(problem: AllocationProblem) -> AllocationResult:  # pragma: no cover
        raise NotImplementedError

    schema = app.openapi()
    components = schema["components"]["schemas"]
    assert {"AllocationProblem", "AllocationResult", "LandscapePoint"} <= set(components)
    assert components["AllocationProblem"]["additionalProperties"] is False


def test_power_curve_passes_through_its_anchor_with_its_elasticities() -> None:
    curve = ResponseCurve(cost=500, conversions=10, cost_exponent=1.5, conversion_exponent=0.6)
    points = SegmentChannel(channel="search", curve=curve).points
    m = np.array([p.bid_multiplier for p in points])
    cost = np.array([p.cost for p in points])
    conversions = np.array([p.conversions for p in points])
    assert cost[m == 1.0] == pytest.approx(500) and conversions[m == 1.0] == pytest.approx(10)
    assert np.polyfit(np.log(m), np.log(cost), 1)[0] == pytest.approx(1.5)
    assert np.polyfit(np.log(m), np.log(conversions), 1)[0] == pytest.approx(0.6)


def test_hill_curve_saturates() -> None:
    curve = ResponseCurve(shape="hill", cost=100, conversions=5, multipliers=[0.5, 1.0, 9.0])
    points = SegmentChannel(channel="search", curve=curve).points
    # k = h = 1: y(m) = 5 * 2 * m / (1 + m): 3.33, 5, 9
    assert [p.conversions for p in points] == pytest.approx([10 / 3, 5.0, 9.0])


@pytest.mark.parametrize(
    ("path", "number", "named"),
    [
        (("segments", 0, "channels", 0, "landscape", 1, "cost"), 1e308, "landscape.1.cost"),
        (("segments", 0, "value_per_conversion"), 1e300, "segments.0.value_per_conversion"),
        (("segments", 0, "value_per_conversion"), 5e10, "segments.0.value_per_conversion"),
        (("budget", "total"), 1e300, "budget.total"),
    ],
)
def test_extreme_numbers_are_refused_by_field_path_before_the_solver(
    path: tuple, number: float, named: str
) -> None:
    """Finite but huge numbers made HiGHS fail (an uncaught SolverError); the schema bounds
    them, and a product of bounded numbers beyond what HiGHS takes is refused too."""
    document = yaml.safe_load(EXAMPLE.read_text())
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = number
    with pytest.raises(ValidationError) as caught:
        AllocationProblem.model_validate(document)
    paths = [".".join(map(str, e["loc"])) for e in caught.value.errors()]
    assert any(named in p for p in paths), paths


def _without_bulk(document: dict[str, Any]) -> AllocationProblem:
    """The same document validated object by object: segments given as Segment objects do not
    take the bulk path, so pydantic builds and checks every LandscapePoint itself."""
    segments = [Segment.model_validate(s) for s in document["segments"]]
    return AllocationProblem.model_validate({**document, "segments": segments})


BAD_POINTS = {
    "negative cost": {"cost": -1},
    "cost above the bound": {"cost": 2e11},
    "NaN conversions": {"conversions": float("nan")},
    "infinite multiplier": {"bid_multiplier": float("inf")},
    "zero multiplier": {"bid_multiplier": 0},
    "cost as text": {"cost": "cheap"},
    "null cost": {"cost": None},
    "negative clicks": {"clicks": -3},
    "NaN impressions": {"impressions": float("nan")},
    "unknown field": {"colour": "red"},
    "cost as an array": {"cost": [90]},
}


@pytest.mark.parametrize("change", BAD_POINTS.values(), ids=list(BAD_POINTS))
def test_bulk_checked_points_report_what_pydantic_reports(change: dict[str, Any]) -> None:
    """Landscape points are checked as arrays; a landscape with a bad point must still get
    pydantic's own errors (type, message, field path): those of the landscape validated
    alone as a list of LandscapePoint (the independent answer), under its path."""
    document = example()
    landscape = document["segments"][0]["channels"][1]["landscape"]
    landscape[1].update(change)
    with pytest.raises(ValidationError) as alone:
        TypeAdapter(list[LandscapePoint]).validate_python(landscape)
    with pytest.raises(ValidationError) as caught:
        AllocationProblem.model_validate(document)
    where = ("segments", 0, "channels", 1, "landscape")
    expected = [{**e, "loc": (*where, *e["loc"])} for e in alone.value.errors(include_url=False)]
    assert caught.value.errors(include_url=False) == expected


@pytest.mark.parametrize("change", [{}, {"cost": "90"}, {"conversions": True}, {"clicks": None}])
def test_missing_field_is_reported_like_pydantic(change: dict[str, Any]) -> None:
    """A point without its cost, alone or beside accepted oddities (numeric text, a bool, a
    null optional field), is reported at its path with pydantic's `missing` error."""
    document = example()
    point = document["segments"][0]["channels"][1]["landscape"][2]
    point.update(change)
    del point["cost"]
    with pytest.raises(ValidationError) as caught:
        AllocationProblem.model_validate(document)
    errors = caught.value.errors(include_url=False)
    assert [(e["type"], e["loc"]) for e in errors] == [
        ("missing", ("segments", 0, "channels", 1, "landscape", 2, "cost"))
    ]


def test_bulk_checked_problem_equals_the_one_built_object_by_object() -> None:
    """Points read into arrays stand for the same LandscapePoint objects: equal problems,
    dumps and grids. Ints, a null optional field and given impressions stay on the bulk path;
    a landscape with numeric text or a bool (which pydantic accepts) is left to pydantic."""
    document = example()
    first, second = (c["landscape"] for c in document["segments"][0]["channels"])
    first[0].update(cost=int(first[0]["cost"]), clicks=None)
    first[1].update(impressions=5000)
    second[0].update(cost=str(second[0]["cost"]), conversions=True)
    bulk, one_by_one = AllocationProblem.model_validate(document), _without_bulk(document)
    assert [type(c.landscape) for c in bulk.segments[0].channels] == [LandscapeView, list]
    assert bulk == one_by_one
    assert bulk.model_dump() == one_by_one.model_dump()
    assert bulk.model_dump_json() == one_by_one.model_dump_json()
    assert AllocationProblem.model_validate_json(bulk.model_dump_json()) == one_by_one
    assert build_grid(bulk).cost.tolist() == build_grid(one_by_one).cost.tolist()


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda d: d["budget"]["channels"].update(search=0.004), "budget.channels.search"),
        (lambda d: d.update(periods=[{"id": "q1", "budget": 1e-9}]), "periods.0.budget"),
        (lambda d: d["segments"][1]["channels"][0]["curve"].update(cost=0.012), "curve.cost"),
        (
            lambda d: d.update(periods=[{"id": "q1", "cost_index": 1e-5}]),
            "segments.0.channels.0.landscape.0.cost",
        ),
    ],
)
def test_money_below_a_cent_is_refused_by_name(edit, named: str) -> None:
    """Rows hold to half a cent, so a positive budget or cost below a cent (a curve's point at
    a low bid, a cost scaled down by a period's cost index) cannot be held: refused by name."""
    document = example()
    edit(document)
    with pytest.raises(ValidationError) as caught:
        AllocationProblem.model_validate(document)
    found = {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}
    assert any(named in path and "less than a cent" in msg for path, msg in found.items()), found
    edit_free = example()
    edit_free["budget"]["total"] = 0.0  # zero is no spend, not a sub-cent amount
    AllocationProblem.model_validate(edit_free)
