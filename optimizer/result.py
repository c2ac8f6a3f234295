"""The outcome of a solve as data (DESIGN.md result contract): status, plan, totals, explanation.

Infeasible, unbounded and timed-out solves are results too, never exceptions.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from optimizer.schema import Mode


class SolveStatus(StrEnum):
    """How the solve ended: `optimal` is proven within the requested gap; `feasible` has a plan
    whose gap is larger; `time_limit` ran out of time, with or without a plan."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Allocation(_Frozen):
    """One segment x channel (x period): the chosen point, or zeros when left out.

    `marginal_roas` is the value per unit of extra spend of the step up to the chosen point,
    `next_marginal_roas` that of the next point up: a plan stops where the next step no longer
    pays for itself or a constraint forbids it."""

    segment: str
    channel: str
    period: str | None = None
    bid_multiplier: float | None
    spend: float
    conversions: float
    value: float
    roas: float | None
    marginal_roas: float | None = None
    next_marginal_roas: float | None = None


class Totals(_Frozen):
    """Sums over every allocation."""

    spend: float
    value: float
    profit: float
    conversions: float
    roas: float | None


class SegmentReason(_Frozen):
    """Why a segment got what it got, in a marketer's words."""

    segment: str
    reason: str


class Explanation(_Frozen):
    """Binding constraints by name, marginal values (LP duals) and a reason per segment."""

    binding: list[str] = Field(default_factory=list)
    marginal_value_of_budget: float | None = None
    marginal_values: dict[str, float] = Field(default_factory=dict)
    segments: list[SegmentReason] = Field(default_factory=list)


class AllocationResult(_Frozen):
    """A solve's answer: status, objective, gap, time, the plan and why."""

    status: SolveStatus
    mode: Mode = "milp"
    objective: float | None = None
    gap: float | None = None
    solve_seconds: float
    totals: Totals | None = None
    allocations: list[Allocation] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    explanation: Explanation | None = None
    message: str = ""

    @property
    def has_plan(self) -> bool:
        """Whether the result carries an allocation to act on."""
        return self.totals is not None
