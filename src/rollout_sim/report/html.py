"""A self-contained HTML report of a results folder (a run, replications, a comparison or a
calibration).

The report is one file, ``report.html``, that a reader can open, e-mail or print without the
folder beside it: the plots are embedded as ``data:`` URIs, the stylesheet is inline, and
nothing is fetched from the network (no scripts, fonts or links to other hosts). It is built
only from what the folder already holds, so writing it twice gives the same bytes: the only
dates in it are the scenario's, and the only timings those in ``manifest.json``.

It reads like a briefing: the headline with a few plain sentences of what happened, then
coverage, cost, the policy comparison, poverty, maps and the animated map, files and
provenance, and last the full parameter table, folded. Every plot in ``plots/`` is embedded
once: the sections take theirs by name and "Other figures" gets whatever is left.

The assumptions table explains every parameter of the resolved scenario. Its notes come from
the comments the user wrote in the scenario file (``scenario.source.yaml``, a verbatim copy
kept by ``run``), and where there is none, from the field's description in the JSON Schema.
PyYAML drops comments, so :func:`yaml_comments` reads them from the text itself.
"""

from __future__ import annotations

import base64
import csv
import errno
import json
import math
import os
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml

from ..errors import InputError
from ..fileio import WriteError, atomic_write, is_report_file, prepare_file, regular_member

__all__ = [
    "REPORT_NAME",
    "SourceComments",
    "folder_kind",
    "format_key_path",
    "write_report",
    "yaml_comments",
]

#: File name of the report inside a results folder.
REPORT_NAME = "report.html"

Kind = Literal["run", "replications", "comparison", "calibration"]
Segment = str | int
KeyPath = tuple[Segment, ...]

_KIND_TITLES: dict[str, str] = {
    "run": "Single run",
    "replications": "Replications",
    "comparison": "Policy comparison",
    "calibration": "Calibration",
}

#: Scalar lists longer than this are shown abbreviated (e.g. a siting list of village ids).
_LIST_ABBREVIATE = 12
_LIST_SHOWN = 6


# --------------------------------------------------------------------------------------------
# Folder kind


def folder_kind(results_dir: Path) -> Kind | None:
    """What *results_dir* holds, from the files that only that kind of folder writes.

    ``None`` if it is not a results folder. A comparison also writes ``replications.csv``, so
    ``comparison.csv`` is checked first.
    """
    for name, kind in (
        ("comparison.csv", "comparison"),
        ("calibration.json", "calibration"),
        ("replications.csv", "replications"),
        ("summary.json", "run"),
    ):
        if regular_member(results_dir, name) is not None:
            return kind  # type: ignore[return-value]
    return None


def _required_files(kind: Kind) -> tuple[str, ...]:
    if kind == "calibration":
        return ("calibration.json", "scenario.calibrated.yaml")
    if kind == "comparison":
        return ("summary.json", "scenario.resolved.yaml", "differences.csv")
    return ("summary.json", "scenario.resolved.yaml")


# --------------------------------------------------------------------------------------------
# Comments of a YAML file


def format_key_path(path: Sequence[Segment]) -> str:
    """``("operators", 0, "build_crews")`` → ``operators[0].build_crews``."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


@dataclass
class SourceComments:
    """The comments of a YAML file, by the key path they belong to.

    A flow collection (``{a: 1, b: 2}``, ``[1, 2]``) shares its line's comment with the keys
    written inside it: ``flow_members`` maps each of their leaf paths to the collection's path.
    Only the keys written there: a default the file leaves out of ``{a: 1}`` is not explained
    by that comment. ``flow`` holds the collections whose text could not be read; every path
    under them takes their comment.
    """

    comments: dict[KeyPath, str] = field(default_factory=dict)
    flow_members: dict[KeyPath, KeyPath] = field(default_factory=dict)
    flow: set[KeyPath] = field(default_factory=set)

    def lookup(self, path: KeyPath) -> str | None:
        """The comment of *path*, or of the flow collection written on one line holding it."""
        found = self.comments.get(path)
        if found:
            return found
        owner = self.flow_members.get(path)
        if owner is not None:
            return self.comments.get(owner) or None
        for cut in range(len(path) - 1, 0, -1):
            if path[:cut] in self.flow:
                return self.comments.get(path[:cut]) or None
        return None

    def add_flow(self, path: KeyPath, text: str) -> None:
        """Record the flow collection *text* written as the value of *path*."""
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            self.flow.add(path)
            return
        for leaf, _ in _flatten(value, path):
            self.flow_members[leaf] = path

    def add(self, path: KeyPath, text: str) -> None:
        """Append *text* to the comment of *path* (continuation lines join with a space)."""
        if not text:
            return
        before = self.comments.get(path)
        self.comments[path] = f"{before} {text}" if before else text


@dataclass
class _Frame:
    """An open node while reading a YAML text: a key or a list item, at its column."""

    indent: int
    path: KeyPath
    item: bool = False
    index: int = 0
    scalar: bool = False  # its value is on its line: deeper lines continue that value


@dataclass
class _Owner:
    """The node the last content line opened, to which continuation comments may belong."""

    path: KeyPath
    indent: int
    has_value: bool
    comment_col: int | None


_BLOCK_SCALAR = re.compile(r"^[|>][0-9+-]*$")
_KEY_COLON = re.compile(r":(?=\s|$)")


def _at_value_start(line: str, i: int) -> bool:
    """Whether a quote at *i* opens a quoted scalar (after ``:``, ``-``, ``[``, ``{``, ``,``).

    An apostrophe inside a plain scalar (``note: don't``) does not, so a later ``#`` still
    starts a comment.
    """
    j = i - 1
    while j >= 0 and line[j] in " \t":
        j -= 1
    return j < 0 or line[j] in ":-[{,?"


def _split_comment(line: str) -> tuple[str, str | None, int | None]:
    """Split a line into (content, comment text, column of ``#``), respecting quotes.

    YAML starts a comment at a ``#`` that follows whitespace (or starts the line) outside a
    quoted scalar; ``a#b`` and ``'# x'`` are values.
    """
    quote: str | None = None
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if quote == "'":
            if ch == "'":
                if i + 1 < n and line[i + 1] == "'":  # '' is an escaped quote
                    i += 2
                    continue
                quote = None
        elif quote == '"':
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quote = None
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i:].lstrip("#").strip(), i
        elif ch in "'\"" and _at_value_start(line, i):
            quote = ch
        i += 1
    return line.rstrip(), None, None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _split_key(text: str) -> tuple[str, str] | None:
    """``key: rest`` → (key, rest); ``None`` if *text* is not a mapping entry."""
    if not text or text[0] in "{[?":
        return None
    if text[0] in "'\"":
        # A quoted key: find its closing quote, then expect ':'.
        q, i = text[0], 1
        while i < len(text):
            if q == "'" and text[i] == "'" and text[i + 1 : i + 2] == "'":
                i += 2
                continue
            if q == '"' and text[i] == "\\":
                i += 2
                continue
            if text[i] == q:
                break
            i += 1
        after = text[i + 1 :].lstrip()
        if after.startswith(":") and (len(after) == 1 or after[1] in " \t"):
            return _unquote(text[: i + 1]), after[1:].strip()
        return None
    m = _KEY_COLON.search(text)
    if m is None:
        return None
    key = text[: m.start()].rstrip()
    return (key, text[m.end() :].strip()) if key else None


def _strip_properties(rest: str) -> str:
    """Drop leading anchors and tags (``&base``, ``!!float``): they are not the value."""
    while rest[:1] in ("&", "!"):
        parts = rest.split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest


def _flow_depth(text: str) -> int:
    """Open brackets minus closed ones in *text*, outside quoted scalars."""
    depth, quote = 0, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and _at_value_start(text, i):
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth


def yaml_comments(text: str) -> SourceComments:
    """The comments of a YAML text, by the key path each one explains.

    A trailing ``# comment`` belongs to the key (or list item) on its line, and so do the
    comment-only lines right after it that are indented deeper than that key (for a key
    whose value is a block below it, only those at or right of its trailing comment, so a
    comment introducing its first child is not taken). A comment on a line holding a flow
    collection (``zones: {coast: 0.2, jungle: 0.3}  # bands``) also explains the keys inside
    it (see :meth:`SourceComments.lookup`). Other comments (file headers, section notes
    before a key) belong to no key and are ignored.

    This is an indentation-based reader of the common block style, not a YAML parser:
    block mappings, ``- `` list items (also ``- key: value`` and nested ``- - x``), block
    scalars (``|``, ``>``) and multi-line flow collections are understood; complex keys
    (``? ``), merge keys (``<<: *x``) and aliases are not followed.
    """
    out = SourceComments()
    stack: list[_Frame] = []
    owner: _Owner | None = None
    block_indent: int | None = None  # inside a block scalar opened at this column
    # A flow collection still open at the end of its line: its path, depth and text so far.
    flow_open: tuple[KeyPath, int, str] | None = None

    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)

        if block_indent is not None:
            # Every deeper (or blank) line is text of the block scalar, '#' included.
            if not stripped or indent > block_indent:
                continue
            block_indent = None
        if flow_open is not None:
            content, comment, _ = _split_comment(line)
            flow_path, depth, flow_text = flow_open
            depth += _flow_depth(content)
            flow_text += "\n" + content
            out.add(flow_path, comment or "")
            flow_open = (flow_path, depth, flow_text) if depth > 0 else None
            if flow_open is None:
                out.add_flow(flow_path, flow_text)
            continue
        if not stripped:
            owner = None  # a blank line ends a run of continuation comments
            continue
        if stripped.startswith("#"):
            if owner is not None and indent > owner.indent:
                aligned = owner.comment_col is not None and indent >= owner.comment_col
                if owner.has_value or aligned:
                    out.add(owner.path, stripped.lstrip("#").strip())
                    continue
            owner = None
            continue
        if stripped.startswith(("---", "...", "%")):
            stack, owner = [], None
            continue

        content, comment, comment_col = _split_comment(line)
        if stack and stack[-1].scalar and indent > stack[-1].indent:
            # The rest of a multi-line plain or quoted scalar.
            if comment:
                out.add(stack[-1].path, comment)
            continue

        col, body = indent, content.lstrip(" ")
        path: KeyPath | None = None
        has_value = False
        # List items: each "- " opens an item of the sequence its parent holds.
        while body == "-" or body.startswith("- "):
            while stack and stack[-1].indent > col:
                stack.pop()
            index = 0
            if stack and stack[-1].item and stack[-1].indent == col:
                index = stack.pop().index + 1
            parent = stack[-1].path if stack else ()
            path = (*parent, index)
            stack.append(_Frame(col, path, item=True, index=index))
            rest = body[1:]
            col += 1 + len(rest) - len(rest.lstrip(" "))
            body = rest.lstrip(" ")

        entry = _split_key(body) if body else None
        if entry is not None:
            key, rest = entry
            while stack and stack[-1].indent >= col:
                stack.pop()
            parent = stack[-1].path if stack else ()
            path = (*parent, key)
            value = _strip_properties(rest)
            has_value = bool(value)
            stack.append(_Frame(col, path, scalar=has_value))
        elif body and stack and path is not None:
            # A scalar or flow item ("- 12", "- {a: 1}"): the item itself holds the value.
            value = body
            has_value = True
            stack[-1].scalar = True
        else:
            value = ""
        if path is None:
            owner = None
            continue

        if comment:
            out.add(path, comment)
        if _BLOCK_SCALAR.match(value):
            block_indent = stack[-1].indent
        elif value[:1] in ("{", "["):
            depth = _flow_depth(value)
            if depth > 0:
                flow_open = (path, depth, value)
            else:
                out.add_flow(path, value)
        owner = _Owner(path, stack[-1].indent, has_value, comment_col)
    return out


# --------------------------------------------------------------------------------------------
# Descriptions from the JSON Schema


class _SchemaDescriber:
    """Map a key path of a scenario to its field's description in the JSON Schema.

    The value at each step picks the branch of a union (``anyOf``/``oneOf``, discriminated
    ones by their tag), so ``build_days.coast.mean_days`` finds the log-normal's field. A
    field without a description of its own takes its model's (``mean_days`` → "Log-normal
    with the given mean..."); map entries (``radius_km.coast``) and list items take their
    container's.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema
        self.defs: Mapping[str, Any] = schema.get("$defs", {})

    def _deref(self, node: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(node)
        for _ in range(32):  # a guard against a cycle of bare references
            if "$ref" in out:
                target = self.defs.get(str(out.pop("$ref")).rsplit("/", 1)[-1], {})
            elif isinstance(out.get("allOf"), list) and len(out["allOf"]) == 1:
                target = out.pop("allOf")[0]
            else:
                break
            # The referring node's own keys (its description) win over the definition's.
            out = {**target, **out}
        return out

    def _matches(self, variant: Mapping[str, Any], value: Any) -> bool:
        kind = variant.get("type")
        if value is None:
            return kind == "null"
        if isinstance(value, bool):
            return kind == "boolean"
        if isinstance(value, int | float):
            return kind in ("integer", "number")
        if isinstance(value, str):
            return kind == "string" or "enum" in variant or "const" in variant
        if isinstance(value, list):
            return kind == "array"
        if isinstance(value, dict):
            props = variant.get("properties")
            if kind != "object" and props is None:
                return False
            closed = props is not None and variant.get("additionalProperties") is False
            if closed and not set(map(str, value)) <= set(props or {}):
                return False
            for key, sub in (props or {}).items():
                tag = sub.get("const", (sub.get("enum") or [None, None])[0])
                single = tag is not None and len(sub.get("enum", [tag])) == 1
                if single and key in value and value[key] != tag:
                    return False
            return True
        return False

    def _select(self, node: Mapping[str, Any], value: Any) -> dict[str, Any]:
        node = self._deref(node)
        disc = node.get("discriminator")
        if isinstance(disc, dict) and isinstance(value, dict):
            ref = disc.get("mapping", {}).get(str(value.get(disc.get("propertyName"))))
            if ref:
                chosen = self._select({"$ref": ref}, value)
                if node.get("description"):
                    chosen["description"] = node["description"]
                return chosen
        for union in ("anyOf", "oneOf"):
            variants = node.get(union)
            if not isinstance(variants, list):
                continue
            options = [self._deref(v) for v in variants]
            pick = next((v for v in options if self._matches(v, value)), None)
            if pick is None:
                pick = next((v for v in options if v.get("type") != "null"), options[0])
            chosen = self._select(pick, value)
            if node.get("description"):
                chosen["description"] = node["description"]
            return chosen
        return node

    def describe(self, path: KeyPath, root_value: Any) -> str | None:
        node: Mapping[str, Any] = self.root
        value = root_value
        inherited: str | None = None
        for depth, seg in enumerate(path):
            here = self._select(node, value)
            child: Mapping[str, Any] | None = None
            if isinstance(seg, int):
                items = here.get("items")
                prefix = here.get("prefixItems")
                if isinstance(prefix, list) and seg < len(prefix):
                    child = prefix[seg]
                elif isinstance(items, dict):
                    child = items
                inherited = here.get("description") or inherited
                value = value[seg] if isinstance(value, list) and seg < len(value) else None
            else:
                props = here.get("properties", {})
                if seg in props:
                    # A field without a description of its own is explained by its model's
                    # (not the whole scenario's: that says nothing about a top-level key).
                    model = here.get("description") if depth else None
                    child, inherited = props[seg], model or inherited
                else:
                    for pattern, sub in here.get("patternProperties", {}).items():
                        if re.search(pattern, seg):
                            child = sub
                            break
                    extra = here.get("additionalProperties")
                    if child is None and isinstance(extra, dict):
                        child = extra
                    inherited = here.get("description") or inherited
                value = value.get(seg) if isinstance(value, dict) else None
            if child is None:
                return inherited
            node = child
        found = self._select(node, value).get("description")
        return str(found) if found else inherited


def _scenario_schema() -> dict[str, Any]:
    # Imported here: pydantic builds the schema only when a report asks for it.
    from ..scenario.schema import Scenario

    return Scenario.model_json_schema()


# --------------------------------------------------------------------------------------------
# Formatting for people


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _count(v: Any) -> str:
    return f"{v:,.0f}" if _is_number(v) else "—"


def _big(v: Any) -> str:
    if not _is_number(v):
        return "—"
    return f"{v / 1e6:,.2f} M" if abs(v) >= 1e6 else f"{v:,.0f}"


def _money(v: Any) -> str:
    if not _is_number(v):
        return "—"
    if v == 0:
        return "US$ 0"
    sign, a = ("−" if v < 0 else ""), abs(v)
    if a >= 1e6:
        return f"{sign}US$ {a / 1e6:,.2f} M"
    if a >= 100:
        return f"{sign}US$ {a:,.0f}"
    return f"{sign}US$ {a:,.2f}"


def _share(v: Any) -> str:
    return f"{v * 100:.1f} %" if _is_number(v) else "—"


def _availability(v: Any) -> str:
    return f"{v * 100:.2f} %" if _is_number(v) else "—"


def _days(v: Any) -> str:
    return f"{v:,.0f} days" if _is_number(v) else "not reached"


def _rate(v: Any) -> str:
    return f"{v:,.2f}" if _is_number(v) else "—"


def _number(v: Any) -> str:
    if not _is_number(v):
        return "—"
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.1f}"


def _points(v: Any) -> str:
    return f"{v * 100:.2f} pp" if _is_number(v) else "—"


def _day_count(v: Any) -> str:
    return f"{v:,.1f}" if _is_number(v) else "—"


def _signed(fmt: Callable[[Any], str]) -> Callable[[Any], str]:
    """A formatter of differences: *fmt* of the magnitude with its sign (+ for gains)."""

    def inner(v: Any) -> str:
        if not _is_number(v):
            return "—"
        text = fmt(abs(v))
        return f"+{text}" if v > 0 else f"−{text}" if v < 0 else text

    return inner


#: Differences of shares are percentage points; of days, a plain number with a decimal.
_DIFFERENCE_FORMATS: dict[Callable[[Any], str], Callable[[Any], str]] = {
    _availability: _points,
    _share: _points,
    _days: _day_count,
}

_FORMATS: dict[str, Callable[[Any], str]] = {
    "count": _count,
    "big": _big,
    "money": _money,
    "share": _share,
    "availability": _availability,
    "days": _days,
    "rate": _rate,
    "number": _number,
}

#: Metrics of replications and comparisons: label and format, in the order they are shown.
_METRICS: dict[str, tuple[str, str]] = {
    "people_covered": ("People covered at the horizon", "count"),
    "people_reached": ("People reached (newly covered)", "count"),
    "people_covered_net": ("People covered, net of outages", "count"),
    "villages_covered": ("Villages covered", "count"),
    "sites_on_air": ("Sites on air", "count"),
    "days_to_reach_25pct": ("Days to reach 25 % of the people uncovered at the start", "days"),
    "days_to_reach_50pct": ("Days to reach 50 % of the people uncovered at the start", "days"),
    "days_to_reach_75pct": ("Days to reach 75 % of the people uncovered at the start", "days"),
    "mean_new_villages_per_day": ("New villages covered a day (mean)", "rate"),
    "capex_usd": ("Capex", "money"),
    "public_cost_usd": ("Public cost", "money"),
    "public_cost_per_person_reached_usd": ("Public cost per person reached (average)", "money"),
    "availability": ("Availability", "availability"),
    "people_days_lost": ("People-days of service lost", "big"),
    "defaults": ("Defaults", "number"),
    "revenue_usd": ("Revenue", "money"),
    "debt_usd": ("Debt at the horizon", "money"),
    "cash_usd": ("Cash at the horizon", "money"),
    "public_cost_per_additional_person_usd": (
        "Public cost per additional person reached (incremental)",
        "money",
    ),
    "people_served": ("People the operators serve (as they report)", "count"),
    "places_served": ("Places the operators serve (as they report)", "count"),
}

#: Impact metrics of replications (``people_out_of_poverty_central`` ...): what and which set.
_IMPACT_METRIC = re.compile(
    r"^people_out_of_(?P<what>poverty_per_million_public_usd|extreme_poverty|poverty)_"
    r"(?P<set>[a-z]+)$"
)
_IMPACT_WHAT = {
    "poverty": ("People out of poverty", "count"),
    "extreme_poverty": ("People out of extreme poverty", "count"),
    "poverty_per_million_public_usd": ("People out of poverty per US$ 1 M of public cost", "rate"),
}

#: The few metrics of the headline for replications and comparisons.
_HEADLINE_METRICS = (
    "people_covered",
    "people_reached",
    "villages_covered",
    "sites_on_air",
    "days_to_reach_50pct",
    "capex_usd",
    "public_cost_usd",
    "public_cost_per_person_reached_usd",
    "availability",
    "defaults",
)

_YEAR_METRIC = re.compile(r"^people_covered_(\d{4})$")


def _metric_label(name: str) -> tuple[str, Callable[[Any], str]]:
    if name in _METRICS:
        label, fmt = _METRICS[name]
        return label, _FORMATS[fmt]
    m = _YEAR_METRIC.match(name)
    if m:
        return f"People covered at the end of {m.group(1)}", _count
    m = _IMPACT_METRIC.match(name)
    if m:
        label, fmt = _IMPACT_WHAT[m.group("what")]
        return f"{label} ({m.group('set')} estimate)", _FORMATS[fmt]
    return name.replace("_", " "), _number


def _metric_order(names: Iterable[str]) -> list[str]:
    """Known metrics in their reading order, then yearly figures, then anything new."""
    names = list(dict.fromkeys(names))
    known = [n for n in _METRICS if n in names]
    years = sorted(n for n in names if _YEAR_METRIC.match(n))
    return known + years + [n for n in names if n not in known and n not in years]


def _yaml_value(v: Any) -> str:
    """A scenario value as the assumptions table shows it (long lists abbreviated)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if float(v).is_integer():
            return f"{v:,.0f}" if abs(v) >= 10_000 else f"{v:.0f}"
        return repr(v)
    if isinstance(v, list):
        shown = [_yaml_value(x) for x in v[: _LIST_SHOWN if len(v) > _LIST_ABBREVIATE else None]]
        if len(v) > _LIST_ABBREVIATE:
            return f"[{', '.join(shown)}, … {len(v) - _LIST_SHOWN} more] ({len(v)} items)"
        return f"[{', '.join(shown)}]"
    if isinstance(v, dict):
        return "{}" if not v else str(v)
    return str(v).strip()


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n < scale * 1000 or unit == "GB":
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"  # pragma: no cover - the loop always returns


# --------------------------------------------------------------------------------------------
# What the template receives


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, a muted second line (an interval) and a CSS class."""

    text: str
    num: bool = False
    sub: str = ""
    cls: str = ""


@dataclass(frozen=True)
class Table:
    """A table for the template's ``table`` macro."""

    head: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Image:
    """A plot embedded as a ``data:`` URI."""

    src: str
    alt: str
    caption: str


@dataclass(frozen=True)
class Assumption:
    """One row of the assumptions table."""

    key: str
    value: str
    note: str
    origin: Literal["file", "schema", "none"]


@dataclass(frozen=True)
class AssumptionGroup:
    """The rows under one top-level key (``geography``, ``operators``, ...)."""

    name: str
    rows: tuple[Assumption, ...]


def _table(
    head: Sequence[str | Cell], rows: Iterable[Sequence[str | Cell]], caption: str = ""
) -> Table:
    def cell(c: str | Cell) -> Cell:
        return c if isinstance(c, Cell) else Cell(c)

    return Table(tuple(map(cell, head)), tuple(tuple(map(cell, r)) for r in rows), caption)


#: What the report embeds from ``plots/``, in the order it looks for a name: the PNG, the
#: animation, and the SVG only where there is neither (the SVGs are the PNGs for print).
_IMAGE_TYPES = (("png", "image/png"), ("gif", "image/gif"), ("svg", "image/svg+xml"))


def _image(results_dir: Path, name: str, alt: str, caption: str) -> Image | None:
    """``plots/<name>.png`` (or ``.gif``, or ``.svg``) as a data URI; None if there is none."""
    for ext, mime in _IMAGE_TYPES:
        path = regular_member(results_dir, f"plots/{name}.{ext}")
        if path is not None:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            return Image(f"data:{mime};base64,{data}", alt, caption)
    return None


def _plot_names(results_dir: Path) -> list[str]:
    """The names (without extension) of every embeddable plot in ``plots/``, sorted.

    Only regular files inside the folder count (:func:`regular_member`): a ``plots`` that is
    a link, or a plot that is one, is not listed, so it is never read.
    """
    plots = results_dir / "plots"
    if plots.is_symlink() or not plots.is_dir():
        return []
    try:
        entries = sorted(os.listdir(plots))
    except OSError:
        return []
    exts = {ext for ext, _ in _IMAGE_TYPES}
    names = set()
    for entry in entries:
        stem, dot, ext = entry.rpartition(".")
        if dot and ext in exts and regular_member(results_dir, f"plots/{entry}") is not None:
            names.add(stem)
    return sorted(names)


class _Figures:
    """The folder's plots, handed out to sections by name; :meth:`rest` gives the ones no
    section asked for, so that every plot in ``plots/`` is in the report."""

    def __init__(self, results_dir: Path) -> None:
        self.dir = results_dir
        self.names = _plot_names(results_dir)
        self.used: set[str] = set()

    def take(self, name: str, alt: str, caption: str) -> Image | None:
        self.used.add(name)
        return _image(self.dir, name, alt, caption) if name in self.names else None

    def rest(self) -> list[Image]:
        out = []
        for name in self.names:
            if name in self.used:
                continue
            alt, caption = _OTHER_FIGURES.get(name, (name.replace("_", " "), ""))
            img = _image(self.dir, name, alt, caption or f"plots/{name}")
            if img is not None:
                out.append(img)
        return out


#: Captions of plots that no section places (a sweep's, or one added later).
_OTHER_FIGURES = {
    "sweep_people_covered": (
        "People covered across the sweep",
        "People covered at the horizon against each swept value: every run a dot, the means "
        "joined.",
    ),
}


# --------------------------------------------------------------------------------------------
# Reading the folder


def _checked(path: Path) -> Path:
    """*path* if it is a regular file of the folder; never what a link points to."""
    if regular_member(path.parent, path.name) is None:
        raise InputError(
            "not a regular file (a link, a folder or a special file); the report reads only "
            "files the results folder holds itself",
            source=str(path),
        )
    return path


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_checked(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read it ({exc})", source=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}: {exc.msg})", source=str(path)
        ) from None


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(_checked(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read it ({exc})", source=str(path)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})", source=str(path)) from None


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with _checked(path).open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read it ({exc})", source=str(path)) from None


def _float(text: Any) -> float | None:
    """A CSV or JSON number; ``None`` for blanks, NaN and anything else."""
    if isinstance(text, bool) or text is None:
        return None
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------------------------
# Sections


def _flatten(value: Any, prefix: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Leaves of a scenario: scalars, and lists of scalars as one value."""
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            yield from _flatten(sub, (*prefix, str(key)))
    elif isinstance(value, list) and any(isinstance(x, dict | list) for x in value):
        for i, sub in enumerate(value):
            yield from _flatten(sub, (*prefix, i))
    else:
        yield prefix, value


def _assumptions(
    scenario: Any, source: SourceComments | None, describer: _SchemaDescriber
) -> list[AssumptionGroup]:
    groups: dict[str, list[Assumption]] = {}
    for path, value in _flatten(scenario):
        if not path:
            continue
        note = source.lookup(path) if source is not None else None
        origin: Literal["file", "schema", "none"] = "file"
        if not note:
            note = describer.describe(path, scenario)
            origin = "schema" if note else "none"
        row = Assumption(format_key_path(path), _yaml_value(value), note or "", origin)
        # Top-level scalars (name, seed, dates) share one group rather than one each.
        group = str(path[0]) if len(path) > 1 else "scenario"
        groups.setdefault(group, []).append(row)
    return [AssumptionGroup(name, tuple(rows)) for name, rows in groups.items()]


def _facts(
    kind: Kind,
    scenario: Mapping[str, Any],
    summary: Mapping[str, Any],
    manifest: Mapping[str, Any],
    calibration: Mapping[str, Any],
) -> list[tuple[str, str]]:
    """Scenario name, dates, seed, replications and policy, as label/value pairs."""
    facts = [
        ("Scenario", str(scenario.get("name") or summary.get("scenario") or "—")),
        ("Kind of results", _KIND_TITLES[kind]),
    ]
    start = scenario.get("start_date") or summary.get("start_date")
    end = scenario.get("end_date") or summary.get("end_date")
    if start or end:
        days = summary.get("horizon_days")
        span = f" ({days:,} days)" if isinstance(days, int) else ""
        facts.append(("Simulated period", f"{start or '?'} to {end or '?'}{span}"))
    seed = summary.get("seed", manifest.get("seed", scenario.get("seed")))
    facts.append(("Seed", str(seed) if seed is not None else "—"))
    reps = summary.get("replications", manifest.get("replications"))
    if kind == "calibration":
        reps = calibration.get("replications_per_evaluation")
        facts.append(("Replications", f"{reps} per evaluation" if reps else "—"))
    elif isinstance(reps, dict):
        counts = sorted(set(reps.values()))
        facts.append(("Replications", ", ".join(map(str, counts)) + " per policy"))
    else:
        facts.append(("Replications", str(reps or 1)))
    if kind == "comparison":
        policies = summary.get("policies") or []
        baseline = summary.get("baseline")
        facts.append(("Baseline policy", str(baseline or "—")))
        facts.append(("Policies compared", ", ".join(map(str, policies)) or "—"))
    elif kind != "calibration":
        policy = summary.get("policy", manifest.get("policy"))
        text = str(policy) if policy else "none (the scenario as is)"
        described = _policy_descriptions(scenario).get(str(policy)) if policy else None
        facts.append(("Funding policy", f"{text}: {described}" if described else text))
    if manifest.get("rollout_sim_version"):
        facts.append(("rollout-sim version", str(manifest["rollout_sim_version"])))
    return facts


def _policy_descriptions(scenario: Mapping[str, Any]) -> dict[str, str]:
    """Each policy's description from the scenario, by name (folded text on one line)."""
    out: dict[str, str] = {}
    for p in scenario.get("policies") or []:
        if isinstance(p, dict) and p.get("name"):
            out[str(p["name"])] = " ".join(str(p.get("description") or "").split())
    return out


def _run_headline(summary: Mapping[str, Any]) -> Table:
    final: Mapping[str, Any] = summary.get("final") or {}
    population = summary.get("population")
    villages = summary.get("villages")

    def of(v: Any, total: Any) -> str:
        return f"of {_count(total)}" if _is_number(total) and _is_number(v) else ""

    defaults = summary.get("defaults") or []
    default_note = "; ".join(
        f"{d.get('operator', '?')} on day {_count(d.get('day'))}"
        for d in defaults
        if isinstance(d, dict)
    )
    m50 = (summary.get("days_to_reach") or {}).get("50pct") or {}
    rows = [
        ("People reached (newly covered)", _count(summary.get("people_reached")), ""),
        (
            "People covered at the horizon",
            _count(final.get("people_covered")),
            of(final.get("people_covered"), population),
        ),
        ("People covered, net of outages", _count(final.get("people_covered_net")), ""),
        ("Share of all people covered", _share(final.get("people_covered_share")), ""),
        ("Share of rural people covered", _share(final.get("rural_people_covered_share")), ""),
        (
            "Share of the people uncovered at the start now reached",
            _share(final.get("initially_uncovered_reached_share")),
            "",
        ),
        (
            "Villages covered",
            _count(final.get("villages_covered")),
            of(final.get("villages_covered"), villages),
        ),
        (
            "Sites on air",
            _count(final.get("sites_on_air")),
            f"{_count(final.get('sites_built'))} built",
        ),
        (
            "Days to reach 50 % of the people uncovered at the start",
            _days(m50.get("day")),
            str(m50.get("date") or ""),
        ),
        ("New villages covered a day (mean)", _rate(summary.get("mean_new_villages_per_day")), ""),
        (
            "Capex",
            _money(final.get("capex_cumulative_usd")),
            f"{_money(summary.get('capex_per_person_reached_usd'))} per person reached",
        ),
        (
            "Public cost",
            _money(summary.get("public_cost_usd")),
            f"{_money(summary.get('public_cost_per_person_reached_usd'))} per person reached",
        ),
        ("Availability", _availability(summary.get("availability")), ""),
        ("People-days of service lost", _big(summary.get("people_days_lost")), ""),
        ("Defaults", _count(len(defaults)), default_note),
    ]
    return _table(
        ["Measure", Cell("Value", num=True), "Note"],
        [(label, Cell(value, num=True), Cell(note, cls="muted")) for label, value, note in rows],
    )


def _interval_cell(stats: Mapping[str, Any] | None, fmt: Callable[[Any], str]) -> Cell:
    if not stats:
        return Cell("—", num=True)
    lo, hi = _float(stats.get("lo")), _float(stats.get("hi"))
    sub = f"{fmt(lo)} – {fmt(hi)}" if lo is not None and hi is not None else ""
    return Cell(fmt(_float(stats.get("mean"))), num=True, sub=sub)


def _replications_headline(summary: Mapping[str, Any]) -> Table:
    metrics: Mapping[str, Any] = summary.get("metrics") or {}
    rows: list[list[str | Cell]] = []
    for name in [m for m in _HEADLINE_METRICS if m in metrics]:
        label, fmt = _metric_label(name)
        rows.append([label, _interval_cell(metrics[name], fmt)])
    interval = str(summary.get("interval") or "interval across replications")
    return _table(
        ["Measure", Cell("Mean", num=True)],
        rows,
        caption=f"Means across replications; below each, the {interval}.",
    )


def _comparison_headline(summary: Mapping[str, Any]) -> Table:
    policies = [str(p) for p in summary.get("policies") or []]
    metrics: Mapping[str, Mapping[str, Any]] = summary.get("metrics") or {}
    names = [m for m in _HEADLINE_METRICS if any(m in metrics.get(p, {}) for p in policies)]
    rows: list[list[str | Cell]] = []
    for name in names:
        label, fmt = _metric_label(name)
        rows.append([label, *(_interval_cell(metrics.get(p, {}).get(name), fmt) for p in policies)])
    interval = str(summary.get("interval") or "interval across replications")
    return _table(
        ["Measure", *(Cell(p, num=True) for p in policies)],
        rows,
        caption=f"Means across replications; below each, the {interval}.",
    )


def _calibration_headline(cal: Mapping[str, Any]) -> Table:
    rows: list[tuple[str, str, str]] = [
        ("Method", str(cal.get("method", "—")), ""),
        ("Converged", "yes" if cal.get("converged") else "no", str(cal.get("message") or "")),
        ("Targets within tolerance", "yes" if cal.get("within_tolerance") else "no", ""),
        ("Evaluations", _count(len(cal.get("evaluations") or [])), ""),
    ]
    for t in cal.get("targets") or []:
        if t.get("kind", "window_mean") == "window_mean":
            before, after = _number(_float(t.get("before"))), _number(_float(t.get("after")))
            rows.append(
                (
                    f"mean {t.get('metric')}, {t.get('start')} to {t.get('end')}",
                    f"{before} → {after}",
                    f"target {_number(t.get('value'))} ± {_number(t.get('tolerance'))}",
                )
            )
    for p in cal.get("parameters") or []:
        rows.append(
            (
                str(p.get("path")),
                f"{_number(p.get('before'))} → {_number(p.get('after'))}",
                "before → after",
            )
        )
    return _table(
        ["Measure", Cell("Value", num=True), "Note"],
        [(a, Cell(b, num=True), Cell(c, cls="muted")) for a, b, c in rows],
    )


def _references(summary: Mapping[str, Any]) -> Table | None:
    refs = [r for r in summary.get("references") or [] if isinstance(r, dict)]
    if not refs:
        return None
    return _table(
        [
            "Published figure",
            "Metric",
            "Date",
            Cell("Reported", num=True),
            Cell("Simulated", num=True),
            Cell("Simulated ÷ reported", num=True),
        ],
        [
            (
                str(r.get("label", "")),
                str(r.get("metric", "")),
                str(r.get("date", "")),
                Cell(_count(r.get("reference")), num=True),
                Cell(_count(r.get("simulated")), num=True),
                Cell(_ratio(r.get("simulated"), r.get("reference")), num=True),
            )
            for r in refs
        ],
        caption="The scenario's published or planned figures (references), beside the "
        "simulated value on the same date; the coverage chart draws them as points.",
    )


def _ratio(a: Any, b: Any) -> str:
    x, y = _float(a), _float(b)
    return f"{x / y:.0%}" if x is not None and y else "—"


def _operators(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [o for o in summary.get("operators") or [] if isinstance(o, dict)]


def _sum(ops: Sequence[Mapping[str, Any]], key: str) -> float | None:
    values = [_float(o.get(key)) for o in ops]
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _finance_tables(summary: Mapping[str, Any]) -> list[Table]:
    final: Mapping[str, Any] = summary.get("final") or {}
    ops = _operators(summary)
    totals = [
        ("Revenue", final.get("revenue_cumulative_usd")),
        ("Operating costs (opex)", final.get("opex_cumulative_usd")),
        ("Repairs", final.get("repair_cumulative_usd")),
        ("Interest", final.get("interest_cumulative_usd")),
        ("Capex", final.get("capex_cumulative_usd")),
        ("Loans drawn", _sum(ops, "loan_drawdown_usd")),
        ("Principal repaid", _sum(ops, "principal_repaid_usd")),
        ("Public money received (public cost)", summary.get("public_cost_usd")),
        ("Debt at the end", final.get("debt_usd")),
        ("Cash at the end", final.get("cash_usd")),
    ]
    tables = [
        _table(
            ["Total over the horizon", Cell("US$", num=True)],
            [(label, Cell(_money(v), num=True)) for label, v in totals],
        )
    ]
    if ops:
        cols = [
            ("capex_usd", "Capex"),
            ("revenue_usd", "Revenue"),
            ("opex_usd", "Opex"),
            ("repair_usd", "Repairs"),
            ("interest_usd", "Interest"),
            ("cash_end_usd", "Cash at the end"),
        ]
        tables.append(
            _table(
                ["Operator", *(Cell(t, num=True) for _, t in cols), "Defaulted"],
                [
                    (
                        str(o.get("name", "?")),
                        *(Cell(_money(o.get(k)), num=True) for k, _ in cols),
                        "yes" if o.get("defaulted") else "no",
                    )
                    for o in ops
                ],
                caption="By operator.",
            )
        )
    return tables


def _availability_tables(summary: Mapping[str, Any]) -> list[Table]:
    final: Mapping[str, Any] = summary.get("final") or {}
    ops = _operators(summary)
    totals = [
        ("Failures", _count(_sum(ops, "failures"))),
        ("Repairs", _count(_sum(ops, "repairs"))),
        ("Availability (share of site-days on air)", _availability(summary.get("availability"))),
        ("People-days of service lost", _big(summary.get("people_days_lost"))),
        ("Sites down at the end", _count(final.get("sites_down"))),
        ("People covered at the end, net of outages", _count(final.get("people_covered_net"))),
    ]
    tables = [
        _table(["Measure", Cell("Value", num=True)], [(a, Cell(b, num=True)) for a, b in totals])
    ]
    if ops:
        tables.append(
            _table(
                [
                    "Operator",
                    Cell("Failures", num=True),
                    Cell("Repairs", num=True),
                    Cell("Availability", num=True),
                    Cell("Mean wait for a crew", num=True),
                    Cell("Mean downtime per failure", num=True),
                ],
                [
                    (
                        str(o.get("name", "?")),
                        Cell(_count(o.get("failures")), num=True),
                        Cell(_count(o.get("repairs")), num=True),
                        Cell(_availability(o.get("availability")), num=True),
                        Cell(f"{_rate(o.get('mean_repair_wait_days'))} days", num=True),
                        Cell(f"{_rate(o.get('mean_downtime_per_failure_days'))} days", num=True),
                    )
                    for o in ops
                ],
                caption="By operator.",
            )
        )
    return tables


_STAT_COLUMN = re.compile(r"^(?P<metric>.+)_(?P<stat>mean|p\d+(?:\.\d+)?)$")


def _comparison_table(rows: list[dict[str, str]], baseline: str | None) -> Table:
    """comparison.csv (one row a policy; ``<metric>_mean``/``_pLO``/``_pHI``), turned so each
    metric is a row and each policy a column: easier to read across policies."""
    if not rows:
        return _table(["Measure"], [])
    stats: dict[str, list[str]] = {}
    for col in rows[0]:
        m = _STAT_COLUMN.match(col)
        if m:
            stats.setdefault(m.group("metric"), []).append(m.group("stat"))
    policies = [r.get("policy", "?") for r in rows]
    body: list[list[str | Cell]] = []
    bounds = ("", "")
    for name in _metric_order(stats):
        label, fmt = _metric_label(name)
        quantiles = sorted((s for s in stats[name] if s != "mean"), key=lambda s: float(s[1:]))
        cells = []
        for r in rows:
            mean = _float(r.get(f"{name}_mean"))
            sub = ""
            if len(quantiles) >= 2:
                lo, hi = (
                    _float(r.get(f"{name}_{quantiles[0]}")),
                    _float(r.get(f"{name}_{quantiles[-1]}")),
                )
                bounds = (quantiles[0].upper(), quantiles[-1].upper())
                sub = f"{fmt(lo)} – {fmt(hi)}" if lo is not None and hi is not None else ""
            cells.append(Cell(fmt(mean), num=True, sub=sub))
        body.append([label, *cells])
    head = [Cell(f"{p} (baseline)" if p == baseline else p, num=True) for p in policies]
    caption = "Mean across replications"
    if bounds[0]:
        caption += f"; below each, the interval from {bounds[0]} to {bounds[1]}"
    return _table(["Measure", *head], body, caption=caption + ".")


_CI_COLUMN = re.compile(r"^ci(?P<level>\d+(?:\.\d+)?)_(?P<side>lo|hi)$")


def _differences_table(rows: list[dict[str, str]]) -> Table:
    """differences.csv: each policy minus the baseline, paired, with its confidence interval.

    A difference whose interval excludes zero is marked, so a reader sees at a glance which
    gains are more than noise between replications.
    """
    if not rows:
        return _table(["Measure"], [])
    ci_cols = {
        m.group("side"): (col, m.group("level")) for col in rows[0] if (m := _CI_COLUMN.match(col))
    }
    policies = list(dict.fromkeys(r.get("policy", "?") for r in rows))
    baseline = rows[0].get("baseline", "")
    by = {(r.get("policy", "?"), r.get("metric", "?")): r for r in rows}
    body: list[list[str | Cell]] = []
    for name in _metric_order(r.get("metric", "?") for r in rows):
        label, fmt = _metric_label(name)
        # Differences of shares are percentage points; of days, a plain (signed) number.
        signed = _signed(_DIFFERENCE_FORMATS.get(fmt, fmt))
        cells = []
        for p in policies:
            r = by.get((p, name))
            if r is None:
                cells.append(Cell("—", num=True))
                continue
            diff = _float(r.get("difference"))
            lo = _float(r.get(ci_cols["lo"][0])) if "lo" in ci_cols else None
            hi = _float(r.get(ci_cols["hi"][0])) if "hi" in ci_cols else None
            sub = f"[{signed(lo)}, {signed(hi)}]" if lo is not None and hi is not None else ""
            clear = lo is not None and hi is not None and (lo > 0 or hi < 0)
            cells.append(Cell(signed(diff), num=True, sub=sub, cls="clear" if clear else ""))
        body.append([label, *cells])
    level = ci_cols.get("lo", ("", ""))[1]
    caption = (
        f"Each policy minus {baseline}, paired on the same replications (mean difference); "
        f"below each, its {level} % confidence interval. Bold: the interval excludes zero."
    )
    return _table(["Measure", *(Cell(p, num=True) for p in policies)], body, caption=caption)


def _rms(observed: Sequence[Any], simulated: Any) -> float | None:
    if not isinstance(simulated, list) or not observed or len(simulated) != len(observed):
        return None
    pairs = [
        (_float(o[1]) if isinstance(o, list) else None, _float(s))
        for o, s in zip(observed, simulated, strict=True)
    ]
    errors = [(s - o) ** 2 for o, s in pairs if o is not None and s is not None]
    return math.sqrt(sum(errors) / len(errors)) if errors else None


def _calibration_tables(cal: Mapping[str, Any]) -> list[Table]:
    ident = cal.get("identification") or {}

    def at_row(column: Any, k: int) -> Any:
        """Row *k* of a Jacobian column of calibration.json (None if it is missing)."""
        return column[k] if isinstance(column, list) and k < len(column) else None

    params = _table(
        [
            "Parameter",
            Cell("Lower bound", num=True),
            Cell("Upper bound", num=True),
            "Integer",
            Cell("Before", num=True),
            Cell("After", num=True),
            Cell("Sensitivity", num=True),
            "Identified",
        ],
        [
            (
                Cell(str(p.get("path")), cls="key"),
                *(Cell(_number(b), num=True) for b in [*(p.get("bounds") or []), None, None][:2]),
                "yes" if p.get("integer") else "no",
                Cell(_number(p.get("before")), num=True),
                Cell(_number(p.get("after")), num=True),
                Cell(_number(p.get("sensitivity")), num=True),
                {True: "yes", False: "NO"}.get(p.get("identified"), "—"),
            )
            for p in cal.get("parameters") or []
        ],
        caption="Parameters fitted: the scenario's value before and the fitted value after. "
        "Sensitivity: how many tolerances in all the targets move across the parameter's whole "
        "range, measured at the fit; below 1 the targets cannot pin the parameter down.",
    )
    # One row per target point (calibration.json's rows); a target without rows (a file from
    # an older version) gets one row summarising it.
    by_target: dict[Any, list[Mapping[str, Any]]] = {}
    for row in cal.get("rows") or []:
        by_target.setdefault(row.get("index"), []).append(row)
    target_rows = []
    for i, t in enumerate(cal.get("targets") or []):
        for r in by_target.get(i, []):
            rel, tol = _float(r.get("rel_tolerance")), r.get("tolerance")
            tolerance = (
                f"±{rel * 100:g}%"
                if rel is not None
                else (f"±{_number(tol)}" if _is_number(tol) else "—")
            )
            error = _float(r.get("error_pct"))
            weight = _float(r.get("weight"))
            label = str(r.get("label") or "")
            if weight is not None and weight != 1:
                label = f"{label} (weight {weight:g})".strip()
            target_rows.append(
                (
                    label,
                    Cell(str(r.get("metric", "?")), cls="key"),
                    str(r.get("date") or "—"),
                    Cell(_number(r.get("value")), num=True),
                    Cell(tolerance, num=True),
                    Cell(_number(r.get("before")), num=True),
                    Cell(_number(r.get("after")), num=True),
                    Cell("—" if error is None else f"{error:+.1f}%", num=True),
                    {True: "yes", False: "no"}.get(r.get("within"), "—"),  # type: ignore[arg-type]
                )
            )
        if i in by_target:
            continue
        kind = t.get("kind", "window_mean")
        within = "—"
        if kind == "series":
            observed = t.get("observed") or []
            what = f"observed series ({t.get('file', '?')}, {len(observed)} points)"
            value, tol = "series", "—"
            before = f"RMS error {_number(_rms(observed, t.get('before')))}"
            after = f"RMS error {_number(_rms(observed, t.get('after')))}"
        else:
            if kind == "window_mean":
                what = f"mean over {t.get('start')} to {t.get('end')}"
            else:
                what = str(t.get("date") or "start")
            value, tol = _number(t.get("value")), _number(t.get("tolerance"))
            before, after = _number(t.get("before")), _number(t.get("after"))
            got, want, margin = (_float(t.get(k)) for k in ("after", "value", "tolerance"))
            if got is not None and want is not None and margin is not None:
                within = "yes" if abs(got - want) <= margin else "no"
        target_rows.append(
            (
                str(t.get("label") or ""),
                Cell(str(t.get("metric", "?")), cls="key"),
                what,
                Cell(value, num=True),
                Cell(tol, num=True),
                Cell(before, num=True),
                Cell(after, num=True),
                Cell("—", num=True),
                within,
            )
        )
    targets = _table(
        [
            "Label",
            "Metric",
            "Date",
            Cell("Target", num=True),
            Cell("Tolerance", num=True),
            Cell("Before", num=True),
            Cell("After", num=True),
            Cell("Error", num=True),
            "Within tolerance",
        ],
        target_rows,
        caption="Targets: the simulated value (mean over the replications) before and after "
        "calibration, at each date; error relative to the target. Weight 0: shown, not fitted.",
    )
    tables = [params, targets]
    warnings = [str(w) for w in cal.get("warnings") or []]
    jacobian = ident.get("jacobian") or {}
    rows = [str(r) for r in ident.get("rows") or []]
    if jacobian and rows:
        names = list(jacobian)
        tables.append(
            _table(
                ["Target", *(Cell(n, num=True) for n in names)],
                [
                    (
                        label,
                        *(Cell(_number(at_row(jacobian.get(n), k)), num=True) for n in names),
                    )
                    for k, label in enumerate(rows)
                ],
                caption="Identification: how far each fitted target moves, in tolerances "
                "(× √weight), across each parameter's whole range (finite differences at the "
                f"fit, ±{(_float(ident.get('step_share_of_range')) or 0.05):.0%} of each "
                "range, on the same replications).",
            )
        )
    if warnings:
        tables.append(
            _table(["Warning"], [(w,) for w in warnings], caption="What the fit cannot tell.")
        )
    evaluations = cal.get("evaluations") or []
    names = [str(p.get("path")) for p in cal.get("parameters") or []]
    trace = _table(
        [
            Cell("#", num=True),
            *(Cell(n, num=True) for n in names),
            Cell("Objective", num=True),
            "Within tolerance",
        ],
        [
            (
                Cell(str(i + 1), num=True),
                *(Cell(_number((e.get("params") or {}).get(n)), num=True) for n in names),
                Cell(_number(_float(e.get("objective"))), num=True),
                "yes" if e.get("within_tolerance") else "no",
            )
            for i, e in enumerate(evaluations)
        ],
        caption="Every evaluation of the search, in the order it was made.",
    )
    tables.append(trace)
    return tables


# --------------------------------------------------------------------------------------------
# The story: a few sentences a reader can lift into a briefing, from summary.json


def _reached_places(summary: Mapping[str, Any]) -> float | None:
    final = _float((summary.get("final") or {}).get("villages_covered"))
    start = _float((summary.get("initial") or {}).get("villages_covered"))
    return final - start if final is not None and start is not None else None


def _run_story(summary: Mapping[str, Any]) -> list[str]:
    """What a single run did, in plain sentences: reach, coverage before and after, cost,
    the published figures, poverty."""
    final: Mapping[str, Any] = summary.get("final") or {}
    initial: Mapping[str, Any] = summary.get("initial") or {}
    population = _float(summary.get("population"))
    start_people = _float(initial.get("people_covered"))
    story = []
    start, end = summary.get("start_date"), summary.get("end_date")
    days = summary.get("horizon_days")
    period = f"From {start} to {end}" if start and end else f"Over {_count(days)} days"
    before = _share(start_people / population) if start_people is not None and population else "—"
    story.append(
        f"{period}, the rollout reached {_count(summary.get('people_reached'))} people in "
        f"{_count(_reached_places(summary))} places that had no coverage at the start: "
        f"{_share(final.get('initially_uncovered_reached_share'))} of the people then "
        f"uncovered. Coverage of all people went from {before} to "
        f"{_share(final.get('people_covered_share'))}."
    )
    ops = _operators(summary)
    upgrades = _sum(ops, "upgrades_on_air")
    story.append(
        f"It put {_count(final.get('sites_on_air'))} sites on air"
        + (f" ({_count(upgrades)} of them upgrades of 2G sites)" if upgrades else "")
        + f" for {_money(final.get('capex_cumulative_usd'))} of capex "
        f"({_money(summary.get('capex_per_person_reached_usd'))} per person reached); "
        f"public money: {_money(summary.get('public_cost_usd'))}."
    )
    for r in summary.get("references") or []:
        if not isinstance(r, dict):
            continue
        ref, sim = _float(r.get("reference")), _float(r.get("simulated"))
        if ref is None or sim is None:
            continue
        ratio = f" ({sim / ref:.0%} of it)" if ref else ""
        story.append(
            f"{r.get('label', 'A published figure')}: simulated {_count(sim)} "
            f"{str(r.get('metric', '')).replace('_', ' ')} on {r.get('date')}{ratio}."
        )
    impact = summary.get("impact")
    if isinstance(impact, dict) and isinstance(impact.get("central"), dict):
        key = "people_out_of_poverty_at_horizon"
        central = impact["central"].get(key)
        low = (impact.get("low") or {}).get(key)
        high = (impact.get("high") or {}).get(key)
        story.append(
            f"Poverty: about {_count(central)} people lifted out of poverty by the end "
            f"(central estimate; {_count(low)} to {_count(high)} across the low and high "
            "estimates)."
        )
    return story


#: The average public cost per person reached (all public money ÷ all people reached).
_PER_PERSON_METRIC = "public_cost_per_person_reached_usd"


def _metric_mean(metrics: Mapping[str, Any], name: str) -> Any:
    return (metrics.get(name) or {}).get("mean")


def _replications_story(summary: Mapping[str, Any]) -> list[str]:
    metrics: Mapping[str, Any] = summary.get("metrics") or {}
    reached = metrics.get("people_reached") or {}
    interval = str(summary.get("interval") or "interval across replications")
    return [
        f"Across {_count(summary.get('replications'))} replications, the rollout reached "
        f"{_count(reached.get('mean'))} people on average ({interval}: "
        f"{_count(reached.get('lo'))} to {_count(reached.get('hi'))}), at a public cost of "
        f"{_money(_metric_mean(metrics, 'public_cost_usd'))} "
        f"({_money(_metric_mean(metrics, _PER_PERSON_METRIC))} per person reached)."
    ]


def _comparison_story(summary: Mapping[str, Any]) -> list[str]:
    """One sentence for the baseline, one per policy: what it adds and what that costs."""
    baseline = str(summary.get("baseline") or "the baseline")
    metrics: Mapping[str, Any] = summary.get("metrics") or {}
    base = metrics.get(baseline) or {}
    story = [
        f"Under {baseline}, the baseline, the rollout reaches "
        f"{_count(_metric_mean(base, 'people_reached'))} people on average."
    ]
    diffs: Mapping[str, Any] = summary.get("differences") or {}
    ci = str(summary.get("difference_ci") or "confidence interval").split(" ")[0]
    for policy, d in diffs.items():
        if not isinstance(d, dict):
            continue
        people = d.get("people_reached") or {}
        cost = d.get("public_cost_usd") or {}
        icer = d.get(ICER_METRIC) or {}
        lo, hi = [*(people.get("ci") or []), None, None][:2]
        added = _signed(_count)(people.get("difference"))
        sentence = (
            f"{policy}: {added} people reached (paired difference, {ci} CI "
            f"{_signed(_count)(lo)} to {_signed(_count)(hi)}) for "
            f"{_signed(_money)(cost.get('difference'))} of public cost"
        )
        per = icer.get("difference")
        sentence += (
            f": {_money(per)} per additional person."
            if _is_number(per)
            else "; the cost per additional person is not defined (no clear effect on reach)."
        )
        story.append(sentence)
    return story


#: The row of differences.csv that holds the incremental cost per additional person reached.
ICER_METRIC = "public_cost_per_additional_person_usd"


def _icer_table(diff_rows: list[dict[str, str]], comp_rows: list[dict[str, str]]) -> Table:
    """What each policy buys against the baseline: people it adds, public money it adds, and
    their ratio (the ``public_cost_per_additional_person_usd`` row of differences.csv, with
    Fieller's interval), beside the average public cost per person reached."""
    ci_cols = {
        m.group("side"): col for col in (diff_rows[0] if diff_rows else {})
        if (m := _CI_COLUMN.match(col))
    }  # fmt: skip
    by = {(r.get("policy", "?"), r.get("metric", "?")): r for r in diff_rows}
    column = _PER_PERSON_METRIC
    average = {r.get("policy", "?"): r.get(f"{column}_mean") for r in comp_rows}
    policies = list(dict.fromkeys(r.get("policy", "?") for r in diff_rows))

    def cell(policy: str, metric: str, fmt: Callable[[Any], str]) -> Cell:
        r = by.get((policy, metric))
        if r is None:
            return Cell("—", num=True)
        lo, hi = (_float(r.get(ci_cols[k])) if k in ci_cols else None for k in ("lo", "hi"))
        sub = f"[{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None else "[unbounded]"
        clear = lo is not None and hi is not None and (lo > 0 or hi < 0)
        return Cell(fmt(_float(r.get("difference"))), num=True, sub=sub,
                    cls="clear" if clear else "")  # fmt: skip

    baseline = diff_rows[0].get("baseline", "") if diff_rows else ""
    return _table(
        [
            "Policy",
            Cell("Additional people reached", num=True),
            Cell("Additional public cost", num=True),
            Cell("Public cost per additional person", num=True),
            Cell("Average public cost per person reached", num=True),
        ],
        [
            (
                p,
                cell(p, "people_reached", _signed(_count)),
                cell(p, "public_cost_usd", _signed(_money)),
                cell(p, ICER_METRIC, _money),
                Cell(_money(_float(average.get(p))), num=True),
            )
            for p in policies
        ],
        caption=f"Against {baseline}, paired on the same replications: below each, its "
        "confidence interval (Fieller's for the cost per additional person; unbounded when "
        "the effect on people reached is not clearly different from zero). The incremental "
        "cost is what the policy's effect costs; the average counts people the operator "
        "would have reached anyway.",
    )


# --------------------------------------------------------------------------------------------
# Impact (poverty)

_IMPACT_ROWS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("people_out_of_poverty_at_horizon", "People out of poverty at the horizon", _count),
    ("people_out_of_extreme_poverty_at_horizon", "People out of extreme poverty at the horizon",
     _count),
    ("people_out_of_poverty_person_years", "Person-years out of poverty", _count),
    ("people_out_of_extreme_poverty_person_years", "Person-years out of extreme poverty", _count),
    ("added_consumption_usd_per_day_at_horizon", "Added consumption a day at the horizon",
     _money),
    ("added_consumption_usd_total", "Added consumption over the horizon", _money),
    ("people_out_of_poverty_per_million_public_usd",
     "People out of poverty per US$ 1 M of public cost", _rate),
)  # fmt: skip

_IMPACT_CAPTION = (
    "Low, central and high: the three parameter sets of docs/impact.md (studies from Nigeria, "
    "Tanzania and Senegal, applied with the places' poverty rates). Only villages that gained "
    "coverage count, and only while in service."
)


def _run_impact_table(impact: Mapping[str, Any]) -> Table:
    """summary.json's ``impact``: one row per measure, one column per parameter set."""
    sets = [k for k in impact if isinstance(impact.get(k), dict)]
    keys = [k for k, _, _ in _IMPACT_ROWS]
    extra = sorted({k for n in sets for k in impact[n] if k not in keys})
    rows: list[list[str | Cell]] = [
        [label, *(Cell(fmt(impact[n].get(key)), num=True) for n in sets)]
        for key, label, fmt in _IMPACT_ROWS
        if any(key in impact[n] for n in sets)
    ]
    rows += [
        [k.replace("_", " "), *(Cell(_number(impact[n].get(k)), num=True) for n in sets)]
        for k in extra
    ]
    return _table(["Measure", *(Cell(n, num=True) for n in sets)], rows, caption=_IMPACT_CAPTION)


def _sets_impact_table(by_policy: Mapping[str, Mapping[str, Any]]) -> Table | None:
    """Replications' impact metrics: one row per policy, the central estimate with the mean
    low and high estimates below it."""
    whats = [w for w in _IMPACT_WHAT if any(f"people_out_of_{w}_central" in m
                                             for m in by_policy.values())]  # fmt: skip
    if not whats:
        return None
    rows: list[list[str | Cell]] = []
    for policy, metrics in by_policy.items():
        cells = []
        for w in whats:
            fmt = _FORMATS[_IMPACT_WHAT[w][1]]
            central, low, high = (
                _float((metrics.get(f"people_out_of_{w}_{k}") or {}).get("mean"))
                for k in ("central", "low", "high")
            )
            sub = f"{fmt(low)} – {fmt(high)}" if low is not None and high is not None else ""
            cells.append(Cell(fmt(central), num=True, sub=sub))
        rows.append([policy, *cells])
    return _table(
        ["Policy", *(Cell(_IMPACT_WHAT[w][0], num=True) for w in whats)],
        rows,
        caption="At the horizon, mean across replications of the central estimate; below "
        "it, the means of the low and high estimates. " + _IMPACT_CAPTION,
    )


# --------------------------------------------------------------------------------------------
# Captions that say what a chart shows


def _ordinal(q: float) -> str:
    n = q * 100
    text = f"{n:g}"
    if not float(n).is_integer():
        return f"{text}th"
    k = int(n)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _band_text(scenario: Mapping[str, Any], reps: Any) -> str:
    """What a fan chart's band spans, and what it does and does not mean."""
    band = (scenario.get("outputs") or {}).get("band") or [0.1, 0.9]
    lo, hi = (_float(b) for b in [*band, None, None][:2])
    spans = (
        f"{_ordinal(lo)}–{_ordinal(hi)} percentile" if lo is not None and hi is not None
        else "spread"
    )  # fmt: skip
    if isinstance(reps, dict):
        counts = sorted({int(v) for v in reps.values() if _is_number(v)})
        reps = counts[0] if len(counts) == 1 else "/".join(map(str, counts))
    return (
        f"The band: {spans} of {reps} replications; replications differ only in random event "
        "timing (build times, failures, repairs), so a narrow band means the outcome is robust "
        "to that noise, not that the inputs are certain."
    )


def _files(results_dir: Path, skip: set[Path]) -> Table:
    rows = []
    found = [Path(root) / f for root, _, files in os.walk(results_dir) for f in files]
    for path in sorted(found, key=lambda p: p.relative_to(results_dir).as_posix()):
        rel = path.relative_to(results_dir)
        hidden_tmp = rel.name.startswith(".") and ".tmp" in rel.name
        if regular_member(results_dir, rel.as_posix()) is None or path in skip or hidden_tmp:
            continue
        size = path.stat().st_size
        rows.append(
            (
                Cell(rel.as_posix(), cls="key"),
                Cell(_size(size), num=True),
                Cell(f"{size:,}", num=True),
            )
        )
    return _table(["File", Cell("Size", num=True), Cell("Bytes", num=True)], rows)


def _manifest_table(manifest: Mapping[str, Any]) -> Table:
    timing = manifest.get("timing") or {}
    wall = timing.get("total_wall_seconds", manifest.get("simulation_wall_seconds"))
    rows: list[tuple[str, str]] = [
        ("rollout-sim version", str(manifest.get("rollout_sim_version", "—"))),
        ("Scenario", str(manifest.get("scenario", "—"))),
        ("Scenario hash", str(manifest.get("scenario_hash", "—"))),
    ]
    for key, label in (("calibrated_hash", "Calibrated scenario hash"), ("world_key", "World key")):
        if key in manifest:
            rows.append((label, str(manifest[key])))
    rows.append(("Seed", str(manifest.get("seed", "—"))))
    rows.append(("Wall time", f"{_rate(_float(wall))} s" if _float(wall) is not None else "—"))
    phases = [
        (key, label)
        for key, label in (
            ("world_build_seconds", "World build time"),
            ("load_and_world_seconds", "Loading and world"),
            ("simulation_seconds", "Simulation"),
            ("tables_seconds", "Writing tables"),
            ("plots_seconds", "Plots and maps"),
            ("animation_seconds", "Animated map"),
            ("geojson_seconds", "GeoJSON"),
        )
        if key in timing
    ]
    for key, label in phases:
        rows.append((label, f"{_rate(_float(timing[key]))} s"))
    command = manifest.get("command")
    if isinstance(command, list):
        rows.append(("Command", shlex.join(map(str, command))))
    versions = manifest.get("versions")
    if isinstance(versions, dict):
        rows.append(("Versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    return _table(["Item", "Value"], rows)


# --------------------------------------------------------------------------------------------
# The report


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rollout_sim", "report/templates"),
        autoescape=True,  # every value is text from the folder, never markup
        undefined=jinja2.StrictUndefined,  # a typo in the template fails loudly, not silently
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


#: Cost measures of replications and comparisons, in the order the cost table shows them.
_COST_METRICS = (
    "capex_usd",
    "public_cost_usd",
    "public_cost_per_person_reached_usd",
    "revenue_usd",
    "debt_usd",
    "cash_usd",
)


def _cost_table(by_policy: Mapping[str, Mapping[str, Any]], interval: str) -> Table:
    names = [m for m in _COST_METRICS if any(m in v for v in by_policy.values())]
    rows: list[list[str | Cell]] = []
    for name in names:
        label, fmt = _metric_label(name)
        rows.append([label, *(_interval_cell(v.get(name), fmt) for v in by_policy.values())])
    return _table(
        ["Measure", *(Cell(p, num=True) for p in by_policy)],
        rows,
        caption=f"Means across replications; below each, the {interval}. Public cost: what "
        "funders pay out less what comes back, within the horizon.",
    )


def _impact_on(scenario: Mapping[str, Any], summary: Mapping[str, Any]) -> bool:
    """Whether the folder has poverty estimates: the scenario turned them on, or it holds
    them (a run's ``impact``, replications' ``people_out_of_poverty_*`` metrics)."""
    enabled = bool((scenario.get("impact") or {}).get("enabled"))
    if isinstance(summary.get("impact"), dict):
        return True
    metrics = summary.get("metrics") or {}
    nested = [m for m in metrics.values() if isinstance(m, dict)]
    found = any(k.startswith("people_out_of_poverty") for m in [metrics, *nested] for k in m)
    return enabled or found


def _context(results_dir: Path, kind: Kind, skip: set[Path]) -> dict[str, Any]:
    """Everything the template shows, in the order a briefing reads: the headline and its
    story, coverage, cost, the policy comparison, poverty, maps, any other figure, the files,
    and last (folded) every parameter of the scenario."""
    d = results_dir
    manifest_path = d / "manifest.json"
    manifest = _read_json(manifest_path) if regular_member(d, "manifest.json") else {}
    summary: dict[str, Any] = {}
    calibration: dict[str, Any] = {}
    if kind == "calibration":
        calibration = _read_json(d / "calibration.json")
        scenario_file = d / "scenario.calibrated.yaml"
    else:
        summary = _read_json(d / "summary.json")
        scenario_file = d / "scenario.resolved.yaml"
    scenario = _read_yaml(scenario_file)
    if not isinstance(scenario, dict):
        raise InputError("not a scenario (expected a mapping)", source=str(scenario_file))
    for name, data in (
        ("manifest.json", manifest),
        ("summary.json", summary),
        ("calibration.json", calibration),
    ):
        if not isinstance(data, dict):
            raise InputError("expected a JSON object", source=str(d / name))

    source_path = d / "scenario.source.yaml"
    source: SourceComments | None = None
    if regular_member(d, source_path.name) is not None:
        try:
            source = yaml_comments(source_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read it ({exc})", source=str(source_path)) from None

    figures = _Figures(d)
    assumptions = _assumptions(scenario, source, _SchemaDescriber(_scenario_schema()))
    ctx: dict[str, Any] = {
        "kind": kind,
        "kind_title": _KIND_TITLES[kind],
        "folder": d.name,
        "title": str(scenario.get("name") or d.name),
        "description": str(scenario.get("description") or "").strip(),
        "facts": _facts(kind, scenario, summary, manifest, calibration),
        "headline": None,
        "story": [],
        "references": _references(summary),
        "assumptions": assumptions,
        "assumptions_count": sum(len(g.rows) for g in assumptions),
        "assumptions_source": ("scenario.source.yaml" if source is not None else None),
        "assumptions_file": scenario_file.name,
        "coverage_images": [],
        "cost": None,
        "availability": None,
        "comparison": None,
        "impact": None,
        "calibration": None,
        "map_images": [],
        "other_images": [],
        "files": _files(d, skip),
        "manifest": _manifest_table(manifest) if manifest else None,
    }
    fan = kind in ("replications", "comparison")
    interval = str(summary.get("interval") or "interval across replications")
    if kind == "run":
        ctx["headline"] = _run_headline(summary)
        ctx["story"] = _run_story(summary)
    elif kind == "replications":
        ctx["headline"] = _replications_headline(summary)
        ctx["story"] = _replications_story(summary)
    elif kind == "comparison":
        ctx["headline"] = _comparison_headline(summary)
        ctx["story"] = _comparison_story(summary)
    else:
        ctx["headline"] = _calibration_headline(calibration)

    refs = " Dots: the scenario's published or planned figures." if ctx["references"] else ""
    if kind == "run":
        coverage = figures.take(
            "coverage",
            "People and places reached over time",
            "What the rollout changed: people (top) and places (bottom) newly covered since the "
            "start, from zero (the coverage at the start and the total are in the title). "
            "Orange: net of outages; dashed: what the modelled operators serve, as they report "
            "it (inside the coverage of their sites in service, whoever covered those people "
            "first)." + refs,
        )
        footprint = figures.take(
            "footprint",
            "What the operators serve",
            "The operators' footprint, as operators report it: places and people inside the "
            "coverage of their sites in service, whoever else covers them.",
        )
        ctx["coverage_images"] = [img for img in (coverage, footprint) if img]
    elif fan:
        coverage = figures.take(
            "coverage",
            "People and places reached over time (fan chart across replications)",
            "People (top) and places (bottom) newly covered since the start, from zero: the "
            "line is the median of the replications, its value at the end written beside it. "
            + _band_text(scenario, summary.get("replications"))
            + refs,
        )
        ctx["coverage_images"] = [coverage] if coverage else []

    if kind == "run":
        ctx["cost"] = {
            "images": [
                img
                for img in (
                    figures.take(
                        "finance",
                        "Money over time",
                        "Cash and debt (top); cumulative capex, opex, repairs, interest and "
                        "revenue (bottom); dotted lines: defaults.",
                    ),
                )
                if img
            ],
            "tables": _finance_tables(summary),
        }
        ctx["availability"] = {
            "image": figures.take(
                "availability",
                "Availability over time",
                "Sites down and the share of covered people actually served.",
            ),
            "tables": _availability_tables(summary),
        }
    elif fan:
        metrics = summary.get("metrics") or {}
        by_policy = (
            {str(p): metrics.get(p) or {} for p in summary.get("policies") or []}
            if kind == "comparison"
            else {str(summary.get("policy") or ctx["title"]): metrics}
        )
        ctx["cost"] = {
            "images": [
                img
                for img in (
                    figures.take(
                        "public_cost_per_person",
                        "Public cost per person reached (average)",
                        "The average: all the public money a policy spends divided by all the "
                        "people the rollout reaches under it, people the operator would have "
                        "reached anyway included. What the policy's effect costs is in the "
                        "policy comparison below.",
                    ),
                )
                if img
            ],
            "tables": [_cost_table(by_policy, interval)],
        }
        if _impact_on(scenario, summary):
            table = _sets_impact_table(by_policy)
            ctx["impact"] = {"images": [], "tables": [table] if table else []}
    if kind == "run" and _impact_on(scenario, summary):
        impact = summary.get("impact")
        ctx["impact"] = {
            "images": [
                img
                for img in (
                    figures.take(
                        "impact",
                        "Poverty effects over time",
                        "People lifted out of poverty (top) and extreme poverty (bottom): the "
                        "central estimate, and the range from the low to the high estimate "
                        "(docs/impact.md).",
                    ),
                )
                if img
            ],
            "tables": [_run_impact_table(impact)] if isinstance(impact, dict) else [],
        }
    if kind == "comparison":
        baseline = summary.get("baseline")
        described = _policy_descriptions(scenario)
        diff_rows = _read_csv(d / "differences.csv")
        comp_rows = _read_csv(d / "comparison.csv")
        ctx["comparison"] = {
            "described": [
                (str(p), described.get(str(p), "")) for p in summary.get("policies") or []
            ],
            "buys": _icer_table(diff_rows, comp_rows),
            "policies": _comparison_table(comp_rows, baseline),
            "differences": _differences_table(diff_rows),
            "images": [
                img
                for img in (
                    figures.take(
                        "public_cost_per_additional_person",
                        "Public cost per additional person reached (incremental)",
                        f"What each policy's effect costs: (public cost under the policy − under "
                        f"{baseline}) ÷ (people reached under the policy − under {baseline}), "
                        "paired on the same replications, with Fieller's interval (no bar: "
                        "the interval is unbounded). The row "
                        "public_cost_per_additional_person_usd of differences.csv.",
                    ),
                    figures.take(
                        "difference_people_covered",
                        "Paired difference in people reached",
                        f"People reached: each policy minus {baseline}, over time, with the "
                        "confidence band of the mean paired difference.",
                    ),
                )
                if img
            ],
        }
    if kind == "calibration":
        ctx["calibration"] = {
            "tables": _calibration_tables(calibration),
            "image": figures.take(
                "calibration",
                "Calibration fit",
                "The target against the simulated series, before and after.",
            ),
            "method": str(calibration.get("method", "—")),
            "converged": bool(calibration.get("converged")),
            "within_tolerance": bool(calibration.get("within_tolerance")),
            "message": str(calibration.get("message") or ""),
        }
    ctx["map_images"] = [
        img
        for img in (
            figures.take(
                "map",
                "Map of the network",
                "Villages by the year they were first covered (muted blue: covered at the start; "
                "grey: never); sites shaped by backhaul, a dot inside an upgraded 2G site; "
                "microwave hops, fibre PoPs and depots.",
            ),
            figures.take(
                "snapshots",
                "Coverage snapshots",
                "Coverage at the start and at the end of each calendar year: muted blue, covered "
                "at the start; blue, reached by the rollout; orange, reached since the previous "
                "panel.",
            ),
            figures.take(
                "rollout",
                "The rollout, quarter by quarter (animation)",
                "Animated: one frame a quarter, from the start to the last day (which holds), "
                "with the date, the people reached and their curve so far. Orange: reached in "
                "the last quarter. A printed report shows the first frame.",
            ),
        )
        if img
    ]
    ctx["other_images"] = figures.rest()

    toc = [("headline", "Headline")]
    if kind == "calibration":
        toc.append(("calibration", "Calibration"))
    else:
        toc.append(("coverage", "Coverage"))
    if ctx["cost"]:
        toc.append(("cost", "Cost"))
    if ctx["availability"]:
        toc.append(("availability", "Availability"))
    if ctx["comparison"]:
        toc.append(("comparison", "Policy comparison"))
    if ctx["impact"]:
        toc.append(("impact", "Poverty"))
    toc.append(("map", "Maps"))
    if ctx["other_images"]:
        toc.append(("figures", "Other figures"))
    toc += [("files", "Files and provenance"), ("assumptions", "Assumptions")]
    ctx["toc"] = toc
    return ctx


def write_report(
    results_dir: Path, out: Path | None = None, *, protect: Sequence[Path] = ()
) -> Path:
    """Write a self-contained HTML report of *results_dir*; return its path.

    *out* is the file to write (default ``results_dir / "report.html"``; a folder means
    ``report.html`` inside it); it may only be a new file or a report this tool wrote, never
    one of *protect* (input files). Only regular files inside *results_dir* are read and
    embedded, never what a symbolic link points to. Raises
    :class:`~rollout_sim.errors.InputError` if *results_dir* is not a results folder or lacks
    a file its kind always has.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise InputError("not a results folder: no such folder", source=str(results_dir))
    kind = folder_kind(results_dir)
    if kind is None:
        raise InputError(
            "not a results folder: it has none of summary.json, replications.csv, "
            "comparison.csv or calibration.json",
            source=str(results_dir),
        )
    missing = [n for n in _required_files(kind) if regular_member(results_dir, n) is None]
    if missing:
        raise InputError(
            f"incomplete {kind} results folder: missing {', '.join(missing)}",
            source=str(results_dir),
        )
    target = results_dir / REPORT_NAME if out is None else Path(out)
    if target.is_dir() and not target.is_symlink():
        target = target / REPORT_NAME
    target = prepare_file(target, label="--out", owned=is_report_file, protect=protect)
    # The report never lists itself: that would change it each time it is rewritten.
    ctx = _context(results_dir, kind, skip={target})
    html = _environment().get_template("report.html.j2").render(**ctx)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, html)
    except OSError as exc:
        raise WriteError(
            exc.errno or errno.EIO, f"{target}: could not write the report ({exc.strerror})"
        ) from None
    return target
