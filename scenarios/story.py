"""What a scenario run means, in sentences generated from its numbers: the summary a planner
reads first, why the plan is what it is (binding rules and their shadow prices in words, each
segment's reason), infeasible variants' conflicts in plain language, and the warnings.

Rule names are the optimizer's (`budget_total`, `channel_cap[search]`, `roas_floor`,
`protect_bid[loyal-top,search]`, ...; docs/optimizer.md); this module is the one place that
reads them aloud.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer import AllocationProblem, AllocationResult
from optimizer.conflicts import family
from optimizer.result import Allocation
from scenarios.formatting import count, money, percent, ratio, signed_percent
from scenarios.runner import ScenarioRun, VariantRun

SMALL_SEGMENT = 100  # customers: below this a segment's CLV rests on too few people to trust
UNSPENT_SHARE = 0.95  # a plan spending less than this share of its budget gets a warning


def _members(name: str) -> list[str]:
    """`protect_bid[loyal-top,search]` -> ['loyal-top', 'search']."""
    return name[name.index("[") + 1 : -1].split(",") if "[" in name else []


def _roas_floor(problem: AllocationProblem, channel: str | None) -> float | None:
    """The minimum ROAS of the whole plan, or of one channel."""
    floor = problem.constraints.min_roas
    if isinstance(floor, dict):
        return floor.get(channel or "")
    return floor


def _protect_floor(problem: AllocationProblem, segment_id: str) -> float | None:
    """The bid floor protection puts on a segment (the highest matching rule's)."""
    segment = next((s for s in problem.segments if s.id == segment_id), None)
    floors = [
        r.min_bid_multiplier
        for r in problem.constraints.protect
        if segment is not None and r.matches(segment) and r.min_bid_multiplier is not None
    ]
    return max(floors, default=None)


def _segment_limit(problem: AllocationProblem, segment_id: str, bound: str) -> float | None:
    """A segment's spend `min` or `max` from `segment_spend`."""
    rule = next((r for r in problem.constraints.segment_spend if r.segment == segment_id), None)
    return None if rule is None else getattr(rule, bound)


def rule_in_words(name: str, problem: AllocationProblem, currency: str) -> str:
    """One optimizer rule, as a planner would say it."""
    members = _members(name)
    first = members[0] if members else ""
    budget = problem.budget
    kind = family(name)
    if kind == "budget_total":
        return f"the total budget of {money(budget.total, currency)}"
    if kind == "channel_cap":
        return f"the {first} budget of {money(budget.channels.get(first), currency)}"
    if kind == "budget_period":
        period = next((p for p in problem.periods if p.id == first), None)
        return f"the budget of period {first} ({money(period and period.budget, currency)})"
    if kind == "roas_floor":
        where = f" on {first}" if first else ""
        return f"the minimum ROAS of {ratio(_roas_floor(problem, first or None))}{where}"
    if kind == "protect_bid":
        floor = _protect_floor(problem, first)
        channel = f" on {members[1]}" if len(members) > 1 else ""
        return f"the protection of {first}{channel} (bid at least {ratio(floor)}x)"
    if kind == "protect_spend":
        return f"the protection of {first} (a minimum spend)"
    if kind == "segment_min":
        floor = money(_segment_limit(problem, first, "min"), currency)
        return f"the minimum spend on {first} ({floor})"
    if kind == "segment_max":
        return (
            f"the spend cap on {first} ({money(_segment_limit(problem, first, 'max'), currency)})"
        )
    if kind == "segment_min_active":
        return f"the minimum spend on {first} once it is active"
    if kind == "max_active_lookalikes":
        limit = problem.constraints.max_active_lookalikes
        return f"the limit of {count(limit)} active lookalike audiences"
    if kind == "one_per_seed":
        return f"one lookalike audience per seed ({first})"
    if kind == "exclude":
        return "the excluded segments"
    if kind == "fixed":
        return f"the fixed bid of {first} on {members[1]}" if len(members) > 1 else "a fixed bid"
    if kind in ("acquisition_share_min", "acquisition_share_max"):
        side = "minimum" if kind.endswith("min") else "maximum"
        return f"the {side} share of spend on acquisition"
    if kind == "target_value":
        return f"the value target of {money(problem.target_value, currency)}"
    if kind == "target_roas":
        return f"the target ROAS of {ratio(problem.target_roas)}"
    return name


def binding_sentences(run: VariantRun, currency: str) -> list[str]:
    """Each binding rule with what it costs: a budget's shadow price (objective per extra unit)
    or what the rule holds back."""
    result, problem = run.result, run.problem
    explanation = result.explanation
    if explanation is None:
        return []
    objective = "profit" if problem.objective == "profit" else "value"
    sentences = []
    grouped: dict[str, list[str]] = {}
    for name in explanation.binding:
        grouped.setdefault(family(name), []).append(name)
    for kind, names in grouped.items():
        if kind == "protect_bid":
            pairs = [", ".join(_members(n)[:2]) for n in names]
            losses = [p for p in _protected_at_a_loss(run) if p in {_members(n)[0] for n in names}]
            text = "Protection holds bids up: " + "; ".join(
                rule_in_words(n, problem, currency) for n in names[:4]
            )
            if len(pairs) > 4:
                text += f" and {len(pairs) - 4} more"
            if losses:
                text += f". {', '.join(losses)} runs at a loss because of it"
            sentences.append(text + ".")
            continue
        for name in names:
            words = rule_in_words(name, problem, currency)
            shadow = explanation.marginal_values.get(name)
            if shadow is not None and shadow > 1e-9:
                sentences.append(
                    f"{words[0].upper()}{words[1:]} binds: one more {money(1, currency)} of it "
                    f"would add {money(shadow, currency, 2)} of {objective}."
                )
            elif kind == "roas_floor":
                sentences.append(
                    f"{words[0].upper()}{words[1:]} binds: the next steps up the response "
                    "curves return less than that, so the plan stops there."
                )
            else:
                sentences.append(f"{words[0].upper()}{words[1:]} binds.")
    return sentences


def _protected_at_a_loss(run: VariantRun) -> list[str]:
    """Protected segments whose spend exceeds the value it buys."""
    spend: dict[str, float] = {}
    value: dict[str, float] = {}
    for a in run.result.allocations:
        spend[a.segment] = spend.get(a.segment, 0.0) + a.spend
        value[a.segment] = value.get(a.segment, 0.0) + a.value
    protected = [
        s.id
        for s in run.problem.segments
        if any(r.matches(s) for r in run.problem.constraints.protect)
    ]
    return [s for s in protected if spend.get(s, 0.0) > value.get(s, 0.0) + 1e-6]


@dataclass(frozen=True)
class SegmentStory:
    """One segment in the why-table: its tag (protected, capped, floor, saturated, excluded,
    not worth it, funded) and the optimizer's sentence."""

    segment: str
    tag: str
    reason: str


def segment_stories(run: VariantRun) -> list[SegmentStory]:
    """Why each segment got what it got, tagged for a planner scanning the table."""
    result, problem = run.result, run.problem
    explanation = result.explanation
    reasons = {} if explanation is None else {r.segment: r.reason for r in explanation.segments}
    binding = [] if explanation is None else explanation.binding
    by_segment: dict[str, list[Allocation]] = {}
    for a in result.allocations:
        by_segment.setdefault(a.segment, []).append(a)
    stories = []
    for segment in problem.segments:
        rows = by_segment.get(segment.id, [])
        named = {family(n) for n in binding if segment.id in _members(n)}
        active = [a for a in rows if a.spend > 0]
        channels = {a.channel for a in active}
        capped_channels = {_members(n)[0] for n in binding if family(n) == "channel_cap"}
        if segment.id in problem.constraints.exclude:
            tag = "excluded"
        elif named & {"protect_bid", "protect_spend"} or (
            active and any(r.matches(segment) for r in problem.constraints.protect)
        ):
            tag = "protected"
        elif named & {"segment_max"} or channels & capped_channels:
            tag = "capped"
        elif named & {"segment_min", "segment_min_active"}:
            tag = "floor"
        elif active and all(a.next_marginal_roas is None for a in active):
            tag = "saturated"
        elif active and any(family(n) == "roas_floor" for n in binding):
            tag = "ROAS floor"
        elif active:
            tag = "funded"
        else:
            tag = "not worth it"
        stories.append(SegmentStory(segment.id, tag, reasons.get(segment.id, "")))
    return stories


def conflict_sentence(result: AllocationResult, problem: AllocationProblem, currency: str) -> str:
    """An infeasible variant's conflict: the rules that cannot all hold, and which would have
    to give."""
    if not result.conflicts:
        return f"No plan was found ({result.status.value}). {result.message}".strip()
    rules = [rule_in_words(n, problem, currency) for n in result.conflicts]
    unique = list(dict.fromkeys(rules))
    if len(unique) == 1:
        return f"No plan can satisfy {unique[0]} on its own: that rule has to give."
    listed = ", ".join(unique[:-1]) + f" and {unique[-1]}"
    soft = [
        rule_in_words(n, problem, currency)
        for n in result.conflicts
        if family(n) in ("roas_floor", "target_roas", "target_value", "segment_min")
    ]
    give = soft[0] if soft else unique[-1]
    return f"No plan can satisfy {listed} together: one of them has to give, most simply {give}."


def _spend_sentence(run: VariantRun, currency: str) -> str:
    """Spend, value, profit and ROAS of a plan, in one sentence."""
    totals = run.result.totals
    assert totals is not None
    budget = run.problem.budget.total
    of_budget = ""
    if budget:
        of_budget = (
            f" of the {money(budget, currency)} budget ({percent(totals.spend / budget, 0)})"
        )
    return (
        f"spends {money(totals.spend, currency)}{of_budget} and buys "
        f"{count(totals.conversions)} conversions worth {money(totals.value, currency)}: "
        f"profit {money(totals.profit, currency)}, ROAS {ratio(totals.roas)}"
    )


def base_summary(run: ScenarioRun, currency: str) -> list[str]:
    """The opening sentences: what the base plan spends and buys, and what stops it."""
    base = run.base
    if base.result.totals is None:
        return [
            "The base plan has no solution. "
            + conflict_sentence(base.result, base.problem, currency)
        ]
    sentences = [f"The base plan {_spend_sentence(base, currency)}."]
    unspent = unspent_warning(base, currency)
    if unspent:
        sentences.append(unspent)
    return sentences


def unspent_warning(run: VariantRun, currency: str) -> str | None:
    """Budget left unspent and what holds the plan back, or None when (nearly) all is spent."""
    totals, budget = run.result.totals, run.problem.budget.total
    if totals is None or not budget or totals.spend >= UNSPENT_SHARE * budget:
        return None
    left = money(budget - totals.spend, currency)
    explanation = run.result.explanation
    binding = [] if explanation is None else explanation.binding
    limits = [
        rule_in_words(n, run.problem, currency)
        for n in binding
        if family(n)
        in ("roas_floor", "channel_cap", "segment_max", "budget_period", "target_value")
    ]
    limits = list(dict.fromkeys(limits))
    if limits:
        why = " and ".join(limits) + (" bind" if len(limits) > 1 else " binds")
    else:
        why = "no further step up any response curve pays for itself"
    saturated = sum(
        1 for a in run.result.allocations if a.spend > 0 and a.next_marginal_roas is None
    )
    if saturated:
        why += f", and {count(saturated)} segment x channel pairs are at the top of their curves"
    return f"{left} of the budget stays unspent: {why}."


def variant_sentence(run: ScenarioRun, name: str, currency: str) -> str:
    """What a variant changes against the base, from the numbers."""
    variant, base = run.variants[name], run.base
    totals, reference = variant.result.totals, base.result.totals
    if totals is None:
        return conflict_sentence(variant.result, variant.problem, currency)
    if reference is None:
        return f"It {_spend_sentence(variant, currency)}."
    spend = totals.spend - reference.spend
    value = totals.value - reference.value
    profit = totals.profit - reference.profit
    scale = max(abs(reference.spend), abs(reference.value), 1.0)
    if max(abs(spend), abs(value), abs(profit)) < 1e-6 * scale + 0.5:
        binding = [] if variant.result.explanation is None else variant.result.explanation.binding
        held = [rule_in_words(n, variant.problem, currency) for n in binding]
        held = [h for h in dict.fromkeys(held) if "protection" not in h][:2]
        why = f": {' and '.join(held)} still decide the plan" if held else ""
        return f"Same plan as the base{why}."
    parts = [
        f"spend {_change(spend, reference.spend, currency)}",
        f"value {_change(value, reference.value, currency)}",
        f"profit {_change(profit, reference.profit, currency)}",
    ]
    roas = f"ROAS {ratio(totals.roas)} (base {ratio(reference.roas)})"
    return f"Against the base: {', '.join(parts)}; {roas}."


def _change(difference: float, reference: float, currency: str) -> str:
    """`+€1,200 (+12%)`, or `unchanged` below half a currency unit."""
    if abs(difference) < 0.5:
        return "unchanged"
    sign = "+" if difference >= 0 else "-"
    relative = f" ({signed_percent(difference / reference)})" if abs(reference) > 1e-9 else ""
    return f"{sign}{money(abs(difference), currency)}{relative}"


def warnings(run: ScenarioRun, currency: str, exports: list[str] | None = None) -> list[str]:
    """What a planner must know before acting: unspent budget, segments too small to trust
    (and what they are bid at), the base's export warnings (lists under the platforms'
    minimums, missing identifiers, audiences without lists), and a purchase model kept without
    holdout validation or after another candidate was dropped."""
    base = run.base
    found = []
    unspent = unspent_warning(base, currency)
    if unspent:
        found.append(unspent)
    segments = base.formed.segments
    sizes = dict(zip(segments["id"], segments["size"].fillna(0), strict=True))
    bids: dict[str, float] = {}
    for a in base.result.allocations:
        if a.spend > 0 and a.bid_multiplier is not None:
            bids[a.segment] = max(bids.get(a.segment, 0.0), a.bid_multiplier)
    for segment in base.problem.segments:
        size = sizes.get(segment.id, segment.size)
        if segment.kind == "customers" and size is not None and size < SMALL_SEGMENT:
            bid = bids.get(segment.id)
            spent = f"; the plan bids on it at {ratio(bid)}x" if bid else ""
            found.append(
                f"Segment {segment.id} has only {count(size)} customer{'s' if size != 1 else ''}: "
                "its CLV rests on too "
                f"few people to trust (under {SMALL_SEGMENT}){spent}."
            )
    found += [f"Exports: {warning}" for warning in exports or []]
    choice = base.formed.valuation.fitted.choice
    if choice.dropped or not choice.reports:
        text = f"Purchase model: {choice.chosen}. {choice.reason}"
        for dropped, why in choice.dropped.items():
            text += f" {dropped} was dropped: {why}."
        found.append(text.strip())
    return found


def valuation_sentence(run: ScenarioRun) -> str:
    """Which purchase and spend models value the customers and why: chosen on the retailer's
    own holdout, so a planner sees what every value in the plan rests on."""
    choice = run.base.formed.valuation.fitted.choice
    return (
        f"Customers are valued with the {choice.chosen} purchase model and the "
        f"{choice.spend.chosen} spend model. {choice.reason} {choice.spend.reason}"
    )


def grouped_notes(run: ScenarioRun) -> list[str]:
    """Each variant note once, naming the variants it applies to ('every variant' when all)."""
    holders: dict[str, list[str]] = {}
    for name, variant in run.variants.items():
        for note in variant.notes:
            holders.setdefault(note, []).append(name)
    everyone = len(run.variants)
    return [
        f"{'Every variant' if len(names) == everyone else ', '.join(names)}: {note}"
        for note, names in holders.items()
    ]
