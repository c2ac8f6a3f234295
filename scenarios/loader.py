"""Read a scenario YAML file into validated `Scenario`s (the base and each variant), keeping
line numbers, so every error names the file, the line and the field path.

PyYAML's composed node tree carries a start mark per node; pydantic's error locations are
walked along the data to the deepest node that exists, whose line is reported. Variants are
partial documents merged over the base and validated as whole scenarios.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.errors import ClvbidError
from scenarios.schema import FileSource, Scenario, Variant

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: the file (or the document's origin), the line when it
    was read from a file, the field path, and what is wrong."""

    file: str
    loc: Loc
    message: str
    line: int | None = None

    @property
    def path(self) -> str:
        """The field path, dotted (`channels.0.groups`), or `(document)` for the whole."""
        return ".".join(str(part) for part in self.loc) or "(document)"

    def __str__(self) -> str:
        """`file:line: path: message`, or `file: path: message` without a line."""
        origin = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{origin}: {self.path}: {self.message}"


class ScenarioError(ClvbidError, ValueError):
    """A scenario that cannot be read or validated: every `Problem` found, located; the first
    is also the error's own what and where."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(first.message, file=first.file, row=first.line, field=first.path)
        self.problems = problems


@dataclass(frozen=True)
class ScenarioFile:
    """A loaded scenario file: the base scenario and each variant as a complete scenario."""

    path: Path
    base: Scenario
    variants: dict[str, Scenario] = field(default_factory=dict)

    def all(self) -> dict[str, Scenario]:
        """`base` first, then the variants in file order."""
        return {"base": self.base, **self.variants}


@dataclass(frozen=True)
class _Source:
    """The raw document and the line of every node, by its path."""

    path: Path
    data: dict[str, Any]
    lines: dict[Loc, int]

    def line(self, loc: Loc) -> int:
        """The line of the deepest node along `loc` that exists (1-based)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1

    def problem(self, loc: Loc, message: str) -> Problem:
        """The problem at `loc`, with its line when the document was read from a file."""
        return Problem(str(self.path), loc, message, self.line(loc) if self.lines else None)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> ScenarioFile:
    """Read, validate and resolve a scenario file; `overrides` set dotted paths
    (`{"data.customers": 500}`) before validation. Raises ScenarioError on any problem."""
    source = _read(Path(path))
    data = copy.deepcopy(source.data)
    for dotted, value in (overrides or {}).items():
        _set_path(data, dotted.split("."), value)
    data.setdefault("name", source.path.stem)
    _resolve_data_paths(data, source.path.parent)
    return _resolve(source, data)


def scenario_from_document(
    document: Mapping[str, Any], origin: str = "scenario", folder: Path | None = None
) -> ScenarioFile:
    """Validate and resolve a scenario given as data (an API body, a Python dict); errors read
    `origin: field.path: message`. File paths are relative to `folder` (default: cwd)."""
    data = copy.deepcopy(dict(document))
    data.setdefault("name", origin)
    _resolve_data_paths(data, folder or Path.cwd())
    return _resolve(_Source(path=Path(origin), data=data, lines={}), data)


def _resolve(source: _Source, data: dict[str, Any]) -> ScenarioFile:
    """The base scenario and each variant validated, references checked."""
    base = _validate(source, data, ())
    problems = _reference_problems(base, ()) + _channel_problems(base)
    variants: dict[str, Scenario] = {}
    base_doc = {k: v for k, v in data.items() if k not in ("variants", "sweep")}
    for i, variant in enumerate(base.variants):
        where: Loc = ("variants", i)
        merged = apply_variant(base_doc, variant)
        try:
            resolved = Scenario.model_validate(merged)
        except ValidationError as error:
            problems += _variant_problems(merged, error, where, variant)
            continue
        problems += _reference_problems(resolved, where, variant, reported=_named(base))
        variants[variant.name] = resolved
    problems += _data_file_problems(base)
    if problems:
        raise ScenarioError([source.problem(loc, message) for loc, message in problems])
    return ScenarioFile(path=source.path, base=base, variants=variants)


def _read(path: Path) -> _Source:
    """Parse the YAML text into data and a line index; syntax errors name their line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        reason = f"cannot read the scenario file: {error.strerror}"
        raise ScenarioError([Problem(str(path), (), reason)]) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(error, "problem", None) or str(error)
        raise ScenarioError([Problem(str(path), (), f"not valid YAML: {reason}", line)]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        reason = "a scenario file is a mapping of fields (name, data, ...)"
        raise ScenarioError([Problem(str(path), (), reason, 1)])
    lines: dict[Loc, int] = {}
    _index_lines(node, (), lines)
    return _Source(path=path, data=data, lines=lines)


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    """Record the line of every node; a mapping value is reported at its key's line."""
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, key.value)
            lines[child] = key.start_mark.line + 1
            _index_lines(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*loc, i), lines)


def _set_path(data: dict[str, Any], keys: list[str], value: Any) -> None:
    """data[k1][k2]... = value, creating mappings on the way."""
    for key in keys[:-1]:
        data = data.setdefault(key, {})
    data[keys[-1]] = value


def _resolve_data_paths(data: dict[str, Any], folder: Path) -> None:
    """Make a file source's paths relative to the scenario file absolute."""
    source = data.get("data")
    if isinstance(source, dict) and source.get("source") == "file":
        for key in ("path", "contacts"):
            if isinstance(source.get(key), str):
                source[key] = str((folder / source[key]).resolve())
    for channel in data.get("channels") or []:
        landscapes = channel.get("landscapes") if isinstance(channel, dict) else None
        if isinstance(landscapes, dict) and isinstance(landscapes.get("file"), str):
            landscapes["file"] = str((folder / landscapes["file"]).resolve())


def _validate(source: _Source, data: dict[str, Any], where: Loc) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        problems = [(_data_loc(data, e["loc"]), _message(e)) for e in error.errors()]
        raise ScenarioError([source.problem(loc, message) for loc, message in problems]) from None


def _data_loc(data: Any, loc: Iterable[str | int]) -> Loc:
    """The error location along the data: union tags and model names pydantic inserts are
    dropped; the first missing part (an unknown or required field) is kept as the last."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part in _tags(node):
            continue
        else:
            path.append(part)
            break
        path.append(part)
    return tuple(path)


def _tags(node: dict[str, Any]) -> set[str]:
    """Discriminator values (`source: file`) pydantic puts into union error locations."""
    return {v for v in node.values() if isinstance(v, str)}


def _message(error: Mapping[str, Any]) -> str:
    """A pydantic error message in a planner's words."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def apply_variant(base: Mapping[str, Any], variant: Variant) -> dict[str, Any]:
    """The base document with the variant's `set` merged in and its shorthands applied."""
    doc = _merge(copy.deepcopy(dict(base)), variant.set)
    doc["name"] = f"{base.get('name', 'scenario')}/{variant.name}"
    problem = doc.setdefault("problem", {})
    for key in ("objective", "target_value", "target_roas"):
        if getattr(variant, key) is not None:
            problem[key] = getattr(variant, key)
    if variant.periods is not None:
        problem["periods"] = [p.model_dump() for p in variant.periods]
    constraints = problem.setdefault("constraints", {})
    if variant.exclude:
        constraints["exclude"] = list(
            dict.fromkeys([*constraints.get("exclude", []), *variant.exclude])
        )
    if variant.min_roas is not None:
        constraints["min_roas"] = variant.min_roas
    if variant.horizon_months is not None:
        doc.setdefault("model", {})["horizon_months"] = variant.horizon_months
    if variant.budget_change_pct is not None:
        _scale_budgets(problem, 1 + variant.budget_change_pct / 100)
    return doc


def _merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive merge: mappings merge key by key, anything else (lists too) replaces."""
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _scale_budgets(problem: dict[str, Any], factor: float) -> None:
    """Scale the total, per-channel and per-period budgets by `factor`."""
    budget = problem.get("budget") or {}
    if isinstance(budget.get("total"), int | float):
        budget["total"] = budget["total"] * factor
    channels = budget.get("channels") or {}
    for channel, cap in channels.items():
        if isinstance(cap, int | float):
            channels[channel] = cap * factor
    for period in problem.get("periods") or []:
        if isinstance(period, dict) and isinstance(period.get("budget"), int | float):
            period["budget"] = period["budget"] * factor


def _variant_problems(
    merged: dict[str, Any], error: ValidationError, where: Loc, variant: Variant
) -> list[tuple[Loc, str]]:
    """Errors in a merged variant: at the variant's `set` node when it set that field, else
    at the variant, naming the field's path in the merged scenario."""
    problems = []
    for e in error.errors():
        loc = _data_loc(merged, e["loc"])
        in_set = _data_loc(variant.set, e["loc"])
        if in_set and in_set[0] in variant.set:
            problems.append(
                ((*where, "set", *in_set), f"in variant {variant.name!r}: {_message(e)}")
            )
            continue
        path = ".".join(str(part) for part in loc)
        problems.append((where, f"in variant {variant.name!r}: {path}: {_message(e)}"))
    return problems


def _named(scenario: Scenario) -> frozenset[str]:
    """Every segment id the scenario's constraints name."""
    return frozenset(segment_id for _, segment_id in _references(scenario))


def _references(scenario: Scenario) -> list[tuple[Loc, str]]:
    """(path under `problem`, segment id) of every segment a constraint names."""
    rules = scenario.problem.constraints
    named: list[tuple[Loc, str]] = [
        (("constraints", "protect", i, "segment"), r.segment)
        for i, r in enumerate(rules.protect)
        if r.segment is not None
    ]
    named += [
        (("constraints", "segment_spend", i, "segment"), r.segment)
        for i, r in enumerate(rules.segment_spend)
    ]
    named += [(("constraints", "exclude", i), s) for i, s in enumerate(rules.exclude)]
    named += [
        (("constraints", "fixed", i, "segment"), r.segment) for i, r in enumerate(rules.fixed)
    ]
    return named


def _reference_problems(
    scenario: Scenario,
    where: Loc,
    variant: Variant | None = None,
    reported: frozenset[str] = frozenset(),
) -> list[tuple[Loc, str]]:
    """Segments named in constraints must be segments this scenario can form; a variant
    reports only the names it adds (`reported` were checked with the base)."""
    known = scenario.segment_ids()
    named = [(loc, s) for loc, s in _references(scenario) if s not in reported]
    hint = f"known segments: {', '.join(sorted(known))}"
    problems = []
    for loc, segment_id in named:
        if segment_id in known:
            continue
        target: Loc = (*where, "problem", *loc)
        if variant is not None:
            target = _variant_target(where, variant, loc, segment_id)
        problems.append((target, f"unknown segment {segment_id!r} ({hint})"))
    return problems


def _variant_target(where: Loc, variant: Variant, loc: Loc, segment_id: str) -> Loc:
    """Where a variant names a segment: its `exclude` shorthand, its `set`, or the variant."""
    if loc[1] == "exclude" and segment_id in variant.exclude:
        return (*where, "exclude", variant.exclude.index(segment_id))
    if "problem" in variant.set:
        return (*where, "set", "problem", *loc)
    return where


def _channel_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Channels named in budgets and ROAS floors must be channels of the scenario."""
    known = {c.channel for c in scenario.channels}
    problem = scenario.problem
    named: list[tuple[Loc, str]] = [
        (("problem", "budget", "channels", c), c) for c in problem.budget.channels
    ]
    if isinstance(problem.constraints.min_roas, dict):
        named += [
            (("problem", "constraints", "min_roas", c), c) for c in problem.constraints.min_roas
        ]
    return [
        (loc, f"unknown channel {channel!r} (channels: {', '.join(sorted(known))})")
        for loc, channel in named
        if channel not in known
    ]


def _data_file_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """A file source's files and the channels' landscape files must exist."""
    source = scenario.data
    problems: list[tuple[Loc, str]] = [
        (("channels", i, "landscapes", "file"), f"landscape file not found: {c.landscapes.file}")
        for i, c in enumerate(scenario.channels)
        if c.landscapes is not None and not c.landscapes.file.is_file()
    ]
    if not isinstance(source, FileSource):
        return problems
    return problems + [
        (("data", key), f"data file not found: {path}")
        for key, path in (("path", source.path), ("contacts", source.contacts))
        if path is not None and not path.is_file()
    ]
