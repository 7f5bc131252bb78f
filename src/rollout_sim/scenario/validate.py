"""Validate raw scenario data into a :class:`Scenario`, with one clear line per problem.

Each problem comes out as a :class:`ScenarioError` line: ``file:line: key.path: value: what is
expected``, where the source is the line of the file that wrote the key, or the ``--set`` to
blame when an override wrote it (or changed the mapping a check is about).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from ..errors import ScenarioError
from .describe import allowed_keys, schema_at, tag_at
from .paths import PathKey, format_path, value_at
from .read import MAX_DIGITS
from .schema import Scenario

__all__ = [
    "MAX_PROBLEMS",
    "blame_source",
    "did_you_mean",
    "parse_scenario",
    "set_label",
]

#: Longest ``--set`` assignment shown whole in an error line (the value is shown there too).
_SET_LABEL_CHARS = 100


def set_label(assignment: str) -> str:
    """How an error line names a ``--set``: ``--set key.path=value``, cut short if long."""
    if len(assignment) > _SET_LABEL_CHARS:
        assignment = assignment[: _SET_LABEL_CHARS - 3] + "..."
    return f"--set {assignment}"


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """The end of an error line about *word*: the closest of *choices*, or all of a few."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if choices and len(choices) <= 12:
        return f"; expected one of: {', '.join(sorted(choices))}"
    return ""


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


def _unknown_key(path: PathKey, data: Any) -> str:
    key = str(path[-1]) if path else "?"
    allowed = allowed_keys(schema_at(path[:-1], data))
    tagged = tag_at(path[:-1], data)
    if tagged is not None and key in allowed_keys(schema_at(path[:-1], data, narrow=False)):
        # A key of another member of the union (mean_days after distribution: triangular):
        # not a typo, so say which keys this member takes instead of guessing a near one.
        prop, tag = tagged
        keys = [k for k in allowed if k != prop]
        return f"unknown key {key!r}: with {prop} {tag!r} the keys are {', '.join(keys)}"
    # Never suggest the key itself (it is allowed elsewhere in a union, not here).
    return f"unknown key {key!r}{did_you_mean(key, sorted(k for k in allowed if k != key))}"


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
            if text.lstrip("+-").isdigit() and len(text) > MAX_DIGITS:
                return f"input should be a valid integer of at most {MAX_DIGITS:,} digits"
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
            for node in schema_at(path, data)
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
    found, value = value_at(path, data)
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
            tagged = tag_at(parent, data)
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
    text = _override_at(path, mentions, scenario.overrides)
    return None if text is None else set_label(text)


def _blame_keys(source: str, message: str, overridden: Mapping[PathKey, str] | None) -> str:
    """For a check across keys (whose message names them): the last ``--set`` of a key the
    message names, else the file."""
    for opath, text in reversed(list((overridden or {}).items())):
        if any(isinstance(p, str) and p in message for p in opath):
            return set_label(text)
    return source
