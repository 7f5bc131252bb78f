"""Load scenario YAML into a validated :class:`Scenario`, with overrides and clear errors.

Errors always come out as one :class:`ScenarioError` line: ``file:line: key.path: value: what is
expected``. Line numbers come from composing the YAML a second time (``yaml.compose``), which
keeps the marks that ``safe_load`` throws away; this costs a few milliseconds and saves users a
hunt through their file.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from .schema import Scenario

__all__ = [
    "apply_override",
    "dump_scenario",
    "format_path",
    "load_scenario",
    "parse_scenario",
    "read_yaml",
    "scenario_hash",
]

PathKey = tuple[str | int, ...]


def format_path(path: Iterable[str | int]) -> str:
    """``("operators", 0, "build_crews")`` → ``operators[0].build_crews``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _line_map(text: str) -> dict[PathKey, int]:
    """Map every key path in a YAML document to its 1-based line number."""
    lines: dict[PathKey, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, path: PathKey) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                walk(value_node, (*path, key))
                lines[(*path, key)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[PathKey, int]]:
    """Read a YAML mapping from *path*; syntax errors name the line and column."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError("file not found", source=source) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, expected a YAML file", source=source) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read file ({exc.strerror})", source=source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (bad byte at offset {exc.start})", source=source
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = exc.problem or "invalid YAML"
        raise ScenarioError(f"YAML syntax error: {problem}", source=where) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}", source=source) from None
    if data is None:
        raise ScenarioError("the file is empty; expected a scenario mapping", source=source)
    if not isinstance(data, dict):
        raise ScenarioError(
            f"expected a mapping of keys at the top level, found {type(data).__name__}",
            source=source,
        )
    return data, _line_map(text)


def _parse_override_path(text: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in text.replace("[", ".").replace("]", "").split("."):
        if chunk == "":
            raise ValueError("empty key in path")
        parts.append(int(chunk) if chunk.isdigit() else chunk)
    return parts


def apply_override(data: dict[str, Any], assignment: str) -> PathKey:
    """Apply one ``key.path=value`` override to raw scenario data, in place.

    The value is parsed as YAML (``5``, ``true``, ``[a, b]``, ``2020-01-01``). List items are
    addressed by index (``operators.0.cash_usd``) or, for lists of named items, by name
    (``operators.ipt.cash_usd``). Returns the resolved key path.
    """
    source = f"--set {assignment}"
    key, sep, value_text = assignment.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("expected key.path=value", source="--set", value=assignment)
    try:
        parts = _parse_override_path(key.strip())
    except ValueError as exc:
        raise ScenarioError(str(exc), source=source) from None
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else ""
    except yaml.YAMLError:
        value = value_text
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
    hint = _did_you_mean(part, [n for n in names if isinstance(n, str)])
    raise ScenarioError(f"no item named {part!r}{hint}", source=source, where=format_path(at))


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if choices and len(choices) <= 12:
        return f"; expected one of: {', '.join(sorted(choices))}"
    return ""


@lru_cache(maxsize=1)
def _json_schema() -> dict[str, Any]:
    return Scenario.model_json_schema()


def _resolve_ref(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        node = schema["$defs"][name]
    return node


def _schema_at(loc: Sequence[str | int], data: Any) -> list[Mapping[str, Any]]:
    """The JSON-schema objects that may describe the value at *loc* (for 'did you mean')."""
    schema = _json_schema()
    nodes: list[Mapping[str, Any]] = [schema]
    for part in loc:
        nxt: list[Mapping[str, Any]] = []
        for node in nodes:
            node = _resolve_ref(schema, node)
            for alt in node.get("anyOf", []) + node.get("oneOf", []):
                nodes.append(alt)
            if isinstance(part, int) and "items" in node:
                nxt.append(node["items"])
            elif isinstance(part, str):
                if part in node.get("properties", {}):
                    nxt.append(node["properties"][part])
                elif isinstance(node.get("additionalProperties"), dict):
                    nxt.append(node["additionalProperties"])
                else:  # dict[ZoneName, ...] is described by patternProperties
                    nxt.extend(
                        v for v in node.get("patternProperties", {}).values() if isinstance(v, dict)
                    )
        nodes = [_resolve_ref(schema, n) for n in nxt]
        expanded: list[Mapping[str, Any]] = []
        for n in nodes:
            expanded.append(n)
            expanded.extend(
                _resolve_ref(schema, a) for a in n.get("anyOf", []) + n.get("oneOf", [])
            )
        nodes = expanded
    return nodes


def _data_path(loc: Sequence[str | int], data: Any) -> PathKey:
    """Drop the tags pydantic inserts into locations (union members) that are not data keys."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict):
            if part in node:
                out.append(part)
                node = node[part]
            elif isinstance(part, str) and part in {
                str(v) for v in node.values() if isinstance(v, str)
            }:
                continue  # a discriminator tag, e.g. 'lognormal'
            elif isinstance(part, str) and part.startswith(("function-", "tagged-union")):
                continue
            else:
                out.append(part)
                node = None
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        else:
            out.append(part)
            node = None
    return tuple(out)


def _value_at(path: PathKey, data: Any) -> tuple[bool, Any]:
    node = data
    for part in path:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            return False, None
    return True, node


def _message(err: Mapping[str, Any], path: PathKey, data: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        allowed: set[str] = set()
        for node in _schema_at(path[:-1], data):
            allowed.update(node.get("properties", {}))
        return f"unknown key {key!r}{_did_you_mean(key, sorted(allowed))}"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        ctx = err.get("ctx") or {}
        tag = str(ctx.get("discriminator", "distribution")).strip("'")
        if kind == "union_tag_invalid":
            return f"{tag!r} must be one of {ctx.get('expected_tags', '')}"
        tags = [
            repr(t)
            for node in _schema_at(path, data)
            for t in (node.get("discriminator") or {}).get("mapping", {})
        ]
        return f"missing key {tag!r}" + (f"; expected one of {', '.join(tags)}" if tags else "")
    return msg[0].lower() + msg[1:] if msg else msg


def parse_scenario(
    data: Mapping[str, Any],
    *,
    source: str = "<scenario>",
    lines: Mapping[PathKey, int] | None = None,
    overridden: Mapping[PathKey, str] | None = None,
) -> Scenario:
    """Validate raw scenario data; raise :class:`ScenarioError` with one clear line."""
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A misspelt key also makes the right one "missing": name the misspelling first.
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        path = _data_path(err["loc"], data)
        if err["type"] == "union_tag_invalid":  # point at the bad tag itself, and show it
            path = (*path, str((err.get("ctx") or {}).get("discriminator", "")).strip("'"))
        where_source = source
        for opath, text in (overridden or {}).items():
            if path[: len(opath)] == opath:
                where_source = f"--set {text}"
                break
        else:
            if lines:
                for cut in range(len(path), -1, -1):
                    if path[:cut] in lines:
                        where_source = f"{source}:{lines[path[:cut]]}"
                        break
        message = _message(err, path, data)
        more = len(errors) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        found, value = _value_at(path, data)
        show_value = (
            found and err["type"] != "extra_forbidden" and not isinstance(value, dict | list)
        )
        if show_value:
            raise ScenarioError(
                message, source=where_source, where=format_path(path), value=value
            ) from None
        raise ScenarioError(message, source=where_source, where=format_path(path)) from None


def load_scenario(
    source: str | Path | Mapping[str, Any], overrides: Sequence[str] = ()
) -> Scenario:
    """Load and validate a scenario from a YAML file (or a mapping), applying overrides.

    Relative village-file paths are resolved against the scenario file's folder.
    """
    if isinstance(source, Mapping):
        data: dict[str, Any] = json.loads(json.dumps(source, default=str))
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
            found, old = _value_at(resolved[:cut], before)
            if not found or old is None:
                overridden.setdefault(resolved[:cut], assignment)
                break
    scenario = parse_scenario(data, source=name, lines=lines, overridden=overridden)
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
