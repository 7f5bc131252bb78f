"""Load scenario YAML into a validated :class:`Scenario`, with overrides and clear errors.

Errors always come out as one :class:`ScenarioError` line: ``file:line: key.path: value: what is
expected``. The YAML is composed into nodes first (they keep the line marks that ``safe_load``
throws away), checked (size, aliases expanding beyond ``MAX_YAML_NODES`` values, recursive
aliases, keys given twice or not read as text) and only then turned into Python data with the
safe constructors.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import sys
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
    "blame_source",
    "dump_scenario",
    "format_path",
    "load_scenario",
    "parse_scenario",
    "read_yaml",
    "scenario_hash",
    "set_label",
]

PathKey = tuple[str | int, ...]


def format_path(path: Iterable[str | int]) -> str:
    """``("operators", 0, "build_crews")`` → ``operators[0].build_crews``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if not text or not text.isprintable():  # an empty key, or one with a line break
                text = repr(text)
            out += f".{text}" if out else text
    return out or "(top level)"


#: Largest scenario file read (bytes). Scenarios are a few kB; a list of every village id of
#: Peru for ``siting.villages`` is about 1.5 MB.
MAX_SCENARIO_BYTES = 10_000_000
#: Most YAML values (scalars, lists, mappings) in a scenario, counted again for every alias: keeps
#: "billion laughs" documents (nested aliases that expand exponentially) and huge lists out.
MAX_YAML_NODES = 200_000

_TAG_KINDS = {
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "binary data",
}


class _YamlLimit(Exception):
    """The document is too large (or recursive) to be a scenario."""

    def __init__(self, message: str, node: yaml.Node | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = None if node is None else node.start_mark.line + 1


class _BadScalar(Exception):
    """A scalar with an explicit or implicit type its text does not fit (``2019-02-30``)."""

    def __init__(self, node: yaml.Node, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts nodes while composing and names bad scalars."""

    nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise _YamlLimit(_too_many(""))
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, _BadScalar, RecursionError, MemoryError):
            raise
        except (ValueError, OverflowError) as exc:  # 2019-02-30, !!int abc
            raise _BadScalar(node, _reason(node, exc)) from None
        except Exception:  # a PyYAML constructor tripping over odd text: no useful detail
            raise _BadScalar(node, "") from None


def _reason(node: yaml.Node, exc: Exception) -> str:
    """Why a scalar could not be read, in the user's terms."""
    if "integer string conversion" in str(exc):  # Python's guard against huge integers
        digits = sum(c.isdigit() for c in str(node.value))
        return f"{digits:,} digits; expected at most {_MAX_DIGITS:,}"
    return str(exc)


#: Most digits of an integer Python converts from text (0 would mean no limit).
_MAX_DIGITS = sys.get_int_max_str_digits() or 4300


def _too_many(how: str) -> str:
    return (
        f"the YAML holds more than {MAX_YAML_NODES:,} values{how}; expected a scenario of "
        "at most that many"
    )


def _count_values_fast(text: str) -> None:
    """Refuse a document with too many values before the (pure-Python, ~50,000 values a second)
    composer sees it, counting parser events with libyaml when PyYAML has it. Syntax errors are
    left to the composer, whose messages are clearer."""
    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None:
        return
    values = 0
    try:
        for event in yaml.parse(text, Loader=loader_class):
            if isinstance(event, _VALUE_EVENTS):
                values += 1
                if values > MAX_YAML_NODES:
                    raise _YamlLimit(_too_many(""))
    except yaml.YAMLError:
        return


_VALUE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expanded_size(root: yaml.Node) -> None:
    """Raise :class:`_YamlLimit` if aliases expand the document beyond ``MAX_YAML_NODES`` values
    or make it recursive (an alias inside its own anchor). Linear in the distinct nodes."""
    size: dict[int, int] = {}
    active: set[int] = set()  # the nodes on the path from the root to the current one
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            active.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > MAX_YAML_NODES:
                raise _YamlLimit(_too_many(" once aliases (*name) are expanded"))
            continue
        if key in size:
            continue
        if key in active:
            raise _YamlLimit(
                "an alias (*name) is used inside its own anchor (&name); expected a scenario "
                "without recursive aliases",
                node,
            )
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


def _walk(root: yaml.Node, source: str) -> tuple[dict[PathKey, int], dict[int, PathKey]]:
    """Map every key path to its 1-based line and every node to its first key path; reject keys
    YAML reads as something other than text, and keys given twice in one mapping."""
    lines: dict[PathKey, int] = {}
    paths: dict[int, PathKey] = {}

    def walk(node: yaml.Node, path: PathKey) -> None:
        lines[path] = node.start_mark.line + 1
        paths.setdefault(id(node), path)
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if isinstance(key_node, yaml.ScalarNode):
                    key = str(key_node.value)
                    kind = _TAG_KINDS.get(key_node.tag)
                    if kind is not None:
                        raise ScenarioError(
                            f"key {key!r} is read as {kind}; expected a key name (put it in "
                            "quotes if it is one)",
                            source=f"{source}:{line}",
                            where=format_path(path) if path else None,
                        )
                    if key_node.tag == "tag:yaml.org,2002:str" and key in seen:
                        raise ScenarioError(
                            f"key {key!r} is given twice (first at line {seen[key]}); expected "
                            "each key once",
                            source=f"{source}:{line}",
                            where=format_path((*path, key)),
                        )
                    seen[key] = line
                else:
                    key = str(key_node)
                walk(value_node, (*path, key))
                lines[(*path, key)] = line
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    walk(root, ())
    return lines, paths


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[PathKey, int]]:
    """Compose, check and construct one YAML document: (data, line map)."""
    loader: _Loader | None = None
    try:
        _count_values_fast(text)
        loader = _Loader(text)  # checks the characters first
        root = loader.get_single_node()
        if root is None:
            return None, {}
        _check_expanded_size(root)
        lines, paths = _walk(root, source)
        try:
            data = loader.construct_document(root)
        except _BadScalar as exc:
            mark = exc.node.start_mark
            kind = _TAG_KINDS.get(exc.node.tag, exc.node.tag.rsplit(":", 1)[-1])
            key_path = paths.get(id(exc.node))
            raise ScenarioError(
                f"expected {kind}" + (f" ({exc.reason})" if exc.reason else ""),
                source=f"{source}:{mark.line + 1}:{mark.column + 1}",
                where=format_path(key_path) if key_path else None,
                value=exc.node.value,
            ) from None
        return data, lines
    except _YamlLimit as exc:
        where = f"{source}:{exc.line}" if exc.line else source
        raise ScenarioError(exc.message, source=where) from None
    except RecursionError:
        raise ScenarioError(
            "the YAML is nested too deeply; expected a scenario a few levels deep", source=source
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = exc.problem or "invalid YAML"
        raise ScenarioError(f"YAML syntax error: {problem}", source=where) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise ScenarioError(
            f"unacceptable character {char!r} at offset {exc.position}; expected printable text",
            source=f"{source}:{line}",
        ) from None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise ScenarioError(f"YAML error: {message}", source=source) from None
    finally:
        if loader is not None:
            loader.dispose()


def _read_limited(path: Path, source: str) -> bytes:
    """The bytes of *path*, refusing files over ``MAX_SCENARIO_BYTES`` before reading them."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_SCENARIO_BYTES + 1)
            size = max(os.fstat(f.fileno()).st_size, len(raw))
    except FileNotFoundError:
        raise ScenarioError("file not found", source=source) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, expected a YAML file", source=source) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read file ({exc.strerror})", source=source) from None
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise ScenarioError(f"cannot read file ({exc})", source=source) from None
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"scenario file is {size / 1e6:.1f} MB; expected a scenario under "
            f"{MAX_SCENARIO_BYTES / 1e6:.0f} MB",
            source=source,
        )
    return raw


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[PathKey, int]]:
    """Read a YAML mapping from *path*; syntax errors name the line and column.

    Files over ``MAX_SCENARIO_BYTES``, documents over ``MAX_YAML_NODES`` values (aliases
    counted as often as they are used), recursive aliases, keys YAML does not read as text and
    keys given twice are refused with one line.
    """
    source = str(path)
    raw = _read_limited(path, source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (bad byte at offset {exc.start})", source=source
        ) from None
    data, lines = _parse_yaml(text, source)
    if data is None:
        raise ScenarioError("the file is empty; expected a scenario mapping", source=source)
    if not isinstance(data, dict):
        raise ScenarioError(
            f"expected a mapping of keys at the top level, found {type(data).__name__}",
            source=source,
        )
    return data, lines


#: Longest ``--set`` assignment shown whole in an error line (the value is shown there too).
_SET_LABEL_CHARS = 100


def set_label(assignment: str) -> str:
    """How an error line names a ``--set``: ``--set key.path=value``, cut short if long."""
    if len(assignment) > _SET_LABEL_CHARS:
        assignment = assignment[: _SET_LABEL_CHARS - 3] + "..."
    return f"--set {assignment}"


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
    source = set_label(assignment)
    key, sep, value_text = assignment.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("expected key.path=value", source="--set", value=assignment)
    try:
        parts = _parse_override_path(key.strip())
    except ValueError as exc:
        raise ScenarioError(str(exc), source=source) from None
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


def _member(node: Mapping[str, Any], value: Any) -> tuple[str, str, str] | None:
    """(property, tag, $ref) of the discriminated-union member *value* selects, if any."""
    disc = node.get("discriminator")
    if not isinstance(disc, Mapping) or not isinstance(value, dict):
        return None
    prop = str(disc.get("propertyName", ""))
    tag = value.get(prop)
    target = disc.get("mapping", {}).get(tag) if isinstance(tag, str) else None
    return None if target is None else (prop, str(tag), str(target))


def _expand(node: Mapping[str, Any], value: Any, narrow: bool) -> list[Mapping[str, Any]]:
    """*node* with its references resolved and its union members listed; with *narrow*, a
    discriminated union whose tag *value* gives is only that member."""
    schema = _json_schema()
    node = _resolve_ref(schema, node)
    member = _member(node, value) if narrow else None
    if member is not None:
        return _expand({"$ref": member[2]}, value, narrow)
    out = [node]
    for alt in node.get("anyOf", []) + node.get("oneOf", []):
        out.extend(_expand(alt, value, narrow))
    return out


def _schema_at(
    loc: Sequence[str | int], data: Any, *, narrow: bool = True
) -> list[Mapping[str, Any]]:
    """The JSON-schema objects that may describe the value at *loc* in *data* (for 'did you
    mean'). With *narrow*, a union member chosen by its tag (``distribution: triangular``) is
    the only one: the keys of the other distributions are not allowed there."""
    value = data
    nodes = _expand(_json_schema(), value, narrow)
    for part in loc:
        nxt: list[Mapping[str, Any]] = []
        for node in nodes:
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
        found, value = _value_at((part,), value)
        value = value if found else None
        nodes = [e for n in nxt for e in _expand(n, value, narrow)]
    return nodes


def _tag_at(loc: Sequence[str | int], data: Any) -> tuple[str, str] | None:
    """(property, tag) if the value at *loc* is a member of a discriminated union."""
    found, value = _value_at(tuple(loc), data)
    if not found:
        return None
    for node in _schema_at(loc, data, narrow=False):
        member = _member(node, value)
        if member is not None:
            return member[0], member[1]
    return None


def _properties(nodes: Iterable[Mapping[str, Any]]) -> list[str]:
    """The keys the schema objects allow, in the order the schema declares them."""
    out: dict[str, None] = {}
    for node in nodes:
        out.update(dict.fromkeys(node.get("properties", {})))
    return list(out)


def _data_path(loc: Sequence[str | int], data: Any, kind: str = "") -> PathKey:
    """Drop the tags pydantic inserts into locations (union members) that are not data keys."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict):
            rest = loc[i + 1 :]
            if part in node:
                out.append(part)
                node = node[part]
            elif isinstance(part, str) and part in {
                str(v) for v in node.values() if isinstance(v, str)
            }:
                continue  # a discriminator tag, e.g. 'lognormal'
            elif isinstance(part, str) and part.startswith(("function-", "tagged-union")):
                continue
            elif isinstance(part, str) and (
                (rest and rest[0] in node) or (not rest and kind not in ("missing", ""))
            ):
                continue  # a tag the data leaves implicit, e.g. a calibration target's kind
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


def _unknown_key(path: PathKey, data: Any) -> str:
    key = str(path[-1]) if path else "?"
    allowed = _properties(_schema_at(path[:-1], data))
    tagged = _tag_at(path[:-1], data)
    if tagged is not None and key in _properties(_schema_at(path[:-1], data, narrow=False)):
        # A key of another member of the union (mean_days after distribution: triangular):
        # not a typo, so say which keys this member takes instead of guessing a near one.
        prop, tag = tagged
        keys = [k for k in allowed if k != prop]
        return f"unknown key {key!r}: with {prop} {tag!r} the keys are {', '.join(keys)}"
    # Never suggest the key itself (it is allowed elsewhere in a union, not here).
    return f"unknown key {key!r}{_did_you_mean(key, sorted(k for k in allowed if k != key))}"


def _type_message(kind: str, value: Any) -> str | None:
    """Clearer messages for strict whole numbers and booleans (None: pydantic's own)."""
    if kind == "int_type":
        if isinstance(value, bool):
            return "input should be a valid integer, not a boolean (true/false)"
        if isinstance(value, float):
            if value.is_integer():
                return "input should be a valid integer, written without a decimal point"
            return "input should be a valid integer, got a number with a fractional part"
        if isinstance(value, str):
            text = value.strip()
            if text.lstrip("+-").isdigit() and len(text) > _MAX_DIGITS:
                return f"input should be a valid integer of at most {_MAX_DIGITS:,} digits"
            try:
                int(text)
            except ValueError:
                return "input should be a valid integer, unable to parse string as an integer"
            return "input should be a valid integer, not text (write it without quotes)"
    if kind == "bool_type":
        if isinstance(value, str):
            return "input should be a valid boolean: true or false, without quotes"
        return "input should be a valid boolean: true or false"
    return None


def _message(err: Mapping[str, Any], path: PathKey, data: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return _unknown_key(path, data)
    if kind == "missing":
        return "required key is missing"
    if kind == "date_from_datetime_inexact":  # a bare number, read as seconds since 1970
        return "expected a date as YYYY-MM-DD"
    typed = _type_message(kind, err.get("input"))
    if typed is not None:
        return typed
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
        scenario = Scenario.model_validate(dict(data))
    except OverflowError:  # the horizon's end date computed past 9999-12-31
        key = "horizon_years" if "horizon_years" in data else "start_date"
        raise ScenarioError(
            "the horizon ends after 9999-12-31, the last date the tool can handle",
            source=_blame(source, (key,), lines, overridden, data, key),
            where=key,
            value=data.get(key, 5) if key == "horizon_years" else str(data.get(key)),
        ) from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A misspelt key also makes the right one "missing": name the misspelling first.
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        problems = [_problem(err, data, source, lines, overridden) for err in errors[:MAX_PROBLEMS]]
        first = problems[0]
        first.others = problems[1:]
        first.unlisted = len(errors) - len(problems)
        raise first from None
    return scenario


#: Problems of one scenario listed by ``validate`` (and counted in the line of the first).
MAX_PROBLEMS = 50


def _problem(
    err: Any,
    data: Mapping[str, Any],
    source: str,
    lines: Mapping[PathKey, int] | None,
    overridden: Mapping[PathKey, str] | None,
) -> ScenarioError:
    """One validation problem as a complete error: source (file:line or --set), key path,
    value and what was expected."""
    path = _data_path(err["loc"], data, err["type"])
    if err["type"] == "union_tag_invalid":  # point at the bad tag itself, and show it
        path = (*path, str((err.get("ctx") or {}).get("discriminator", "")).strip("'"))
    message = _message(err, path, data)
    if not path:  # a check across keys (end_date vs start_date): the message names them
        return ScenarioError(message, source=_blame_keys(source, message, overridden))
    where_source = _blame(source, path, lines, overridden, data, message)
    found, value = _value_at(path, data)
    show_value = found and err["type"] != "extra_forbidden" and not isinstance(value, dict | list)
    if show_value:
        return ScenarioError(message, source=where_source, where=format_path(path), value=value)
    return ScenarioError(message, source=where_source, where=format_path(path))


def _override_at(
    path: PathKey, message: str, overridden: Mapping[PathKey, str] | None, data: Any = None
) -> str | None:
    """The ``--set`` assignment to blame for a problem at *path*, if one is to blame.

    In order: an override that wrote *path* or a mapping around it (the first one: it made
    the value); else the last override inside *path* of a key the *message* names (a check
    of the mapping it changed, e.g. "need low_days <= mode_days"); else an override of the
    tag of a union member at *path*'s level (``distribution=triangular`` makes the file's
    ``mean_days`` unknown).
    """
    items = list((overridden or {}).items())
    for opath, text in items:
        if path[: len(opath)] == opath:
            return text
    for opath, text in reversed(items):
        inner = opath[len(path) :]
        if opath[: len(path)] == path and any(isinstance(p, str) and p in message for p in inner):
            return text
    for opath, text in reversed(items):
        parent = opath[:-1]
        if path[: len(parent)] == parent and data is not None:
            tagged = _tag_at(parent, data)
            if tagged is not None and tagged[0] == opath[-1]:
                return text
    return None


def _blame(
    source: str,
    path: PathKey,
    lines: Mapping[PathKey, int] | None,
    overridden: Mapping[PathKey, str] | None,
    data: Any = None,
    message: str = "",
) -> str:
    """The ``--set`` to blame for *path* (see :func:`_override_at`), or ``file:line`` of its
    nearest enclosing key."""
    text = _override_at(path, message, overridden, data)
    if text is not None:
        return set_label(text)
    if lines:
        for cut in range(len(path), -1, -1):
            if path[:cut] in lines:
                return f"{source}:{lines[path[:cut]]}"
    return source


def blame_source(scenario: Scenario, path: PathKey, mentions: str = "") -> str | None:
    """``--set ...`` if an override of *scenario* is to blame for a problem at *path* found
    after loading; None: the scenario file is. As :func:`_override_at` with *mentions* for the
    message: only the keys it names make an override inside *path* to blame (a message that
    lists every zone would otherwise blame a ``--set`` of any one of them)."""
    text = _override_at(path, mentions, scenario._overrides)
    return None if text is None else set_label(text)


def _blame_keys(source: str, message: str, overridden: Mapping[PathKey, str] | None) -> str:
    """For a check across keys (whose message names them): the last ``--set`` of a key the
    message names, else the file."""
    for opath, text in reversed(list((overridden or {}).items())):
        if any(isinstance(p, str) and p in message for p in opath):
            return set_label(text)
    return source


def load_scenario(
    source: str | Path | Mapping[str, Any], overrides: Sequence[str] = ()
) -> Scenario:
    """Load and validate a scenario from a YAML file (or a mapping), applying overrides.

    Relative village-file paths are resolved against the scenario file's folder.
    """
    if isinstance(source, Mapping):
        try:  # plain JSON-like data (dates as text), and a copy the overrides may change
            data: dict[str, Any] = json.loads(json.dumps(source, default=str))
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
            found, old = _value_at(resolved[:cut], before)
            if not found or old is None:
                overridden.setdefault(resolved[:cut], assignment)
                break
    scenario = parse_scenario(data, source=name, lines=lines, overridden=overridden)
    scenario._overrides = dict(overridden)
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
