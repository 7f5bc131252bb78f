"""Load scenario YAML into a validated :class:`Scenario`, with overrides and clear errors.

Errors always come out as one :class:`ScenarioError` line: ``file:line: key.path: value: what is
expected``. Reading the file (limits, line tracking) is :mod:`.read`; turning pydantic's errors
into those lines, and blaming the file or a ``--set``, is :mod:`.validate`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError
from ..fileio import JsonObject
from .paths import PathKey, format_path, value_at
from .read import MAX_SCENARIO_BYTES, MAX_YAML_NODES, number_trap, read_yaml
from .schema import Scenario
from .validate import (
    MAX_PROBLEMS,
    blame_source,
    did_you_mean,
    parse_scenario,
    set_label,
)

__all__ = [
    "MAX_PROBLEMS",
    "MAX_SCENARIO_BYTES",
    "MAX_YAML_NODES",
    "apply_override",
    "blame_source",
    "dump_scenario",
    "format_path",
    "load_scenario",
    "parse_scenario",
    "read_yaml",
    "scenario_hash",
    "set_label",
]


def _parse_override_path(text: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in text.replace("[", ".").replace("]", "").split("."):
        if chunk == "":
            raise ValueError("empty key in path")
        parts.append(int(chunk) if chunk.isdigit() else chunk)
    return parts


def apply_override(data: JsonObject, assignment: str) -> PathKey:
    """Apply one ``key.path=value`` override to raw scenario data, in place.

    The value is parsed as YAML (``5``, ``true``, ``[a, b]``, ``2020-01-01``). List items are
    addressed by index (``operators.0.cash_usd``) or, for lists of named items, by name
    (``operators.ipt.cash_usd``). Returns the resolved key path.
    """
    source = set_label(assignment)
    key, sep, value_text = assignment.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("expected key.path=value", source="--set", value=assignment)
    try:
        parts = _parse_override_path(key.strip())
    except ValueError as exc:
        raise ScenarioError(str(exc), source=source) from None
    trap = number_trap(value_text.strip())
    if trap is not None:
        raise ScenarioError(trap, source=source, value=value_text)
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else ""
    except (yaml.YAMLError, ValueError, OverflowError, TypeError, RecursionError):
        value = value_text  # e.g. 2019-02-30: validation says what is wrong with it
    node: Any = data
    resolved: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            index = _list_index(node, part, resolved, source)
            resolved.append(index)
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            name = str(part)
            resolved.append(name)
            if last:
                node[name] = value
            else:
                if name not in node or node[name] is None:
                    node[name] = {}
                node = node[name]
        else:
            raise ScenarioError(
                f"cannot set a key inside a {type(node).__name__}",
                source=source,
                where=format_path(resolved),
            )
    return tuple(resolved)


def _list_index(node: list[Any], part: str | int, at: list[str | int], source: str) -> int:
    if isinstance(part, int):
        if part >= len(node):
            raise ScenarioError(
                f"index {part} out of range (the list has {len(node)} items)",
                source=source,
                where=format_path(at),
            )
        return part
    names = [item.get("name") for item in node if isinstance(item, dict)]
    for index, item in enumerate(node):
        if isinstance(item, dict) and item.get("name") == part:
            return index
    hint = did_you_mean(part, [n for n in names if isinstance(n, str)])
    raise ScenarioError(f"no item named {part!r}{hint}", source=source, where=format_path(at))


def load_scenario(
    source: str | Path | Mapping[str, Any], overrides: Sequence[str] = ()
) -> Scenario:
    """Load and validate a scenario from a YAML file (or a mapping), applying overrides.

    Relative village-file paths are resolved against the scenario file's folder.
    """
    if isinstance(source, Mapping):
        try:  # plain JSON-like data (dates as text), and a copy the overrides may change
            data: JsonObject = json.loads(json.dumps(source, default=str))
        except (TypeError, ValueError, RecursionError) as exc:
            raise ScenarioError(
                f"cannot read the scenario mapping ({exc}); expected plain data: mappings with "
                "text keys, lists, text, numbers, booleans, dates",
                source="<scenario>",
            ) from None
        lines: dict[PathKey, int] = {}
        name = "<scenario>"
        base = Path.cwd()
    else:
        path = Path(source)
        data, lines = read_yaml(path)
        name = str(path)
        base = path.resolve().parent
    overridden: dict[PathKey, str] = {}
    for assignment in overrides:
        before = copy.deepcopy(data)
        resolved = apply_override(data, assignment)
        overridden[resolved] = assignment
        for cut in range(1, len(resolved)):  # a mapping the override created is its own too
            found, old = value_at(resolved[:cut], before)
            if not found or old is None:
                overridden.setdefault(resolved[:cut], assignment)
                break
    scenario = parse_scenario(data, source=name, lines=lines, overridden=overridden)
    scenario.record_overrides(overridden)
    if scenario.geography.file is not None:
        scenario.geography.file.path = _resolve(scenario.geography.file.path, base)
    if scenario.calibration is not None:
        for target in scenario.calibration.targets:
            if target.kind == "series":
                target.file = _resolve(target.file, base)
    return scenario


def _resolve(path: str, base: Path) -> str:
    """A path from a scenario file, made absolute against the file's folder."""
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else base / p)


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario (every default filled in) as YAML."""
    data = scenario.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the canonical resolved scenario (first 16 hex digits)."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
