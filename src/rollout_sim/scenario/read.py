"""Read a scenario's YAML file: size limits, line tracking and one clear line per error.

The YAML is composed into nodes first (they keep the line marks that ``safe_load`` throws
away), checked (size, aliases expanding beyond ``MAX_YAML_NODES`` values, recursive aliases,
keys given twice or not read as text) and only then turned into Python data with the safe
constructors. :func:`read_yaml` returns the data and the line of every key path, which the
loader's errors cite.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError
from ..fileio import JsonObject, decode_text, read_user_file
from .paths import PathKey, format_path

__all__ = ["MAX_DIGITS", "MAX_SCENARIO_BYTES", "MAX_YAML_NODES", "number_trap", "read_yaml"]

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


#: Plain scalars YAML 1.1 (PyYAML's) reads as something else than a reader sees: a leading
#: zero makes an octal number (``010`` is 8, ``04_000_000`` is 1,048,576) or, with an 8 or a
#: 9 in it, text (``09``); colons make a base-60 number (``1:30`` is 90).
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]*[0-9][0-9_]*")
_BASE_60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def number_trap(text: str) -> str | None:
    """Why the plain YAML scalar *text* would not be read as the number it looks like, or
    None: the one line that refuses it (a scenario file's value or a ``--set``'s)."""
    if _LEADING_ZERO.fullmatch(text):
        return (
            "a number with a leading zero, which YAML reads as octal (010 is 8) or as text; "
            "expected the number without it (or the text in quotes)"
        )
    if _BASE_60.fullmatch(text):
        return (
            "a number with colons, which YAML reads in base 60 (1:30 is 90); expected the "
            "number itself (or the text in quotes)"
        )
    return None


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
        return f"{digits:,} digits; expected at most {MAX_DIGITS:,}"
    return str(exc)


#: Most digits of an integer Python converts from text (0 would mean no limit).
MAX_DIGITS = sys.get_int_max_str_digits() or 4300


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
        elif isinstance(node, yaml.ScalarNode) and node.style is None:  # plain, unquoted
            trap = number_trap(str(node.value))
            if trap is not None:
                mark = node.start_mark
                raise ScenarioError(
                    trap,
                    source=f"{source}:{mark.line + 1}:{mark.column + 1}",
                    where=format_path(path) if path else None,
                    value=node.value,
                )

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


def read_yaml(path: Path) -> tuple[JsonObject, dict[PathKey, int]]:
    """Read a YAML mapping from *path*; syntax errors name the line and column.

    Missing files, folders, devices, pipes (never opened: a FIFO would wait for a writer),
    files over ``MAX_SCENARIO_BYTES``, documents over ``MAX_YAML_NODES`` values (aliases
    counted as often as they are used), recursive aliases, keys YAML does not read as text,
    keys given twice and numbers YAML would misread (:func:`number_trap`) are refused with one
    line.
    """
    source = str(path)
    raw = read_user_file(
        path,
        what="scenario file",
        expected="a YAML scenario file",
        max_bytes=MAX_SCENARIO_BYTES,
        error=ScenarioError,
    )
    text = decode_text(raw, source=source, error=ScenarioError)
    data, lines = _parse_yaml(text, source)
    if data is None:
        raise ScenarioError("the file is empty; expected a scenario mapping", source=source)
    if not isinstance(data, dict):
        raise ScenarioError(
            f"expected a mapping of keys at the top level, found {type(data).__name__}",
            source=source,
        )
    return data, lines
