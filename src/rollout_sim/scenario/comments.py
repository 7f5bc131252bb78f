"""The comments of a scenario file, by the key path each one explains.

PyYAML, which loads scenarios, drops comments; ruamel.yaml's round-trip scanner keeps them, each
with its line and column. :func:`yaml_comments` pairs them with the keys and list items of the
document, with theirs, as PyYAML composes it (the loader tracks lines the same way; its C
composer reads a 1.8 MB scenario in 0.4 s, ruamel.yaml's in 8 s). The rules:

* a trailing ``# comment`` belongs to the innermost key (or list item) its line opens (``name``
  in ``- name: first  # ...``); on a line that continues a value (a plain scalar written over
  several lines, a flow collection) to the key that value belongs to;
* the comment-only lines right after it belong to the same key when indented deeper than that
  key; for a key whose value is a block below it, only those at or right of its trailing
  comment, so a comment introducing its first child is not taken. A blank line, or a comment
  line not taken, ends the run;
* a comment on a flow collection (``zones: {coast: 0.2, jungle: 0.3}  # bands``) also explains
  the keys written inside it (see :meth:`SourceComments.lookup`);
* other comments (file headers, notes before a key) belong to no key.

Aliases are not followed: ``b: *a  # note`` explains ``b``, not the anchor's keys again.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from .paths import PathKey

__all__ = ["SourceComments", "yaml_comments"]


@dataclass
class SourceComments:
    """The comments of a YAML file, by the key path they belong to.

    A flow collection (``{a: 1, b: 2}``, ``[1, 2]``) shares its comment with the keys written
    inside it: ``flow_members`` maps each of their leaf paths to the collection's path. Only the
    keys written there: a default the file leaves out of ``{a: 1}`` is not explained by that
    comment.
    """

    comments: dict[PathKey, str] = field(default_factory=dict)
    flow_members: dict[PathKey, PathKey] = field(default_factory=dict)

    def lookup(self, path: PathKey) -> str | None:
        """The comment of *path*, or of the flow collection holding it."""
        found = self.comments.get(path)
        if found:
            return found
        owner = self.flow_members.get(path)
        return None if owner is None else self.comments.get(owner) or None

    def add(self, path: PathKey, text: str) -> None:
        """Append *text* to the comment of *path* (continuation lines join with a space)."""
        if not text:
            return
        before = self.comments.get(path)
        self.comments[path] = f"{before} {text}" if before else text


@dataclass(frozen=True)
class _Entry:
    """A key or list item: the line it opens on, its column, and whether its value (a scalar,
    a flow collection, an alias) is on that line too."""

    line: int
    indent: int
    path: PathKey
    has_value: bool


@dataclass(frozen=True)
class _Comment:
    line: int
    column: int
    text: str


#: PyYAML's composer in C where PyYAML is built with libyaml.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The line breaks both readers count lines by (a CR LF pair is one), so that their line
#: numbers index this split of the text.
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def yaml_comments(text: str) -> SourceComments:
    """The comments of a YAML text, by the key path each one explains (the module's rules).

    A text either reader refuses (it is not valid YAML) has none: the report then explains its
    keys from the schema.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    text = text.removeprefix("\ufeff")
    out = SourceComments()
    try:
        root = yaml.compose(text, Loader=_LOADER)
        comments = _comments(YAML().scan(text), text)  # YAML(): round trip, which keeps them
    except (YAMLError, yaml.YAMLError, ValueError, RecursionError):
        return SourceComments()
    entries = sorted(_entries(root, out), key=lambda e: (e.line, e.indent))
    _assign(out, entries, comments, _LINE_BREAK.split(text))
    return out


def _assign(
    out: SourceComments, entries: list[_Entry], comments: list[_Comment], lines: list[str]
) -> None:
    starts = [e.line for e in entries]

    def entry_of(line: int) -> _Entry | None:
        """The key or item the content of *line* belongs to: the last one opened by then."""
        i = bisect_right(starts, line)
        return entries[i - 1] if i else None

    trailing = {c.line: c.column for c in comments if lines[c.line][: c.column].strip()}
    taken: dict[int, _Entry | None] = {}  # comment-only line → the key it was given, if any
    for c in comments:
        if c.line in trailing:
            owner = entry_of(c.line)
            if owner is not None:
                out.add(owner.path, c.text)
            continue
        owner = None
        before = c.line - 1
        if before >= 0 and lines[before].strip():  # not after a blank line
            owner = taken[before] if before in taken else entry_of(before)
        if owner is not None:
            aligned = owner.line in trailing and c.column >= trailing[owner.line]
            if c.column <= owner.indent or not (owner.has_value or aligned):
                owner = None
        taken[c.line] = owner
        if owner is not None:
            out.add(owner.path, c.text)


def _comments(tokens: Iterator[Any], text: str) -> list[_Comment]:
    """Every comment of the text, in line order, from the tokens of ruamel.yaml's scanner.

    The scanner attaches comments to the tokens around them, each as a ``CommentToken`` whose
    value may run over several lines (comment lines and blank ones, each with its indentation);
    its line and column are those of its first comment. A block scalar's header comment
    (``key: |  # note``) comes as bare text, on the line of the scalar's indicator.
    """
    lines = _LINE_BREAK.split(text)
    found: dict[tuple[int, int], _Comment] = {}
    for token in tokens:
        for c in _flat(getattr(token, "comment", None)):
            if isinstance(c, str):
                line = token.start_mark.line
                body = c.strip()
                if body.startswith("#") and line < len(lines):
                    column = lines[line].find(body, token.start_mark.column)
                    if column >= 0:
                        found[(line, column)] = _Comment(line, column, _text(body))
                continue
            pieces = str(c.value).split("\n")
            first = next((i for i, p in enumerate(pieces) if p.lstrip().startswith("#")), None)
            if first is None:
                continue
            for i, piece in enumerate(pieces[first:], start=first):
                body = piece.strip()
                if not body.startswith("#"):
                    continue
                line = c.start_mark.line + i - first
                column = c.start_mark.column if i == first else len(piece) - len(piece.lstrip())
                found[(line, column)] = _Comment(line, column, _text(body))
    return [found[k] for k in sorted(found) if k[0] < len(lines)]


def _text(comment: str) -> str:
    return comment.lstrip("#").strip()


def _flat(comment: Any) -> Iterator[Any]:
    """The comment tokens (or texts) in ruamel.yaml's nested lists of them."""
    if comment is None:
        return
    if isinstance(comment, list):
        for c in comment:
            yield from _flat(c)
    else:
        yield comment


def _entries(root: Any, out: SourceComments) -> Iterator[_Entry]:
    """Every key and list item of a composed document, recording the keys inside flow
    collections in ``out.flow_members``."""
    seen: set[int] = set()  # nodes met already: a node met again is an alias of it

    def child(line: int, indent: int, path: PathKey, value: Any) -> Iterator[_Entry]:
        alias = id(value) in seen
        seen.add(id(value))
        flow = isinstance(value, yaml.CollectionNode) and bool(value.flow_style)
        if alias:
            has_value = True
        elif flow or isinstance(value, yaml.ScalarNode):
            # An empty plain scalar (``key:`` and nothing) is no value (libyaml's style: "").
            empty = isinstance(value, yaml.ScalarNode) and value.value == "" and not value.style
            has_value = value.start_mark.line == line and not empty
        else:
            has_value = False
        yield _Entry(line, indent, path, has_value)
        if alias:
            return
        if flow:
            for leaf in leaves(value, path):
                out.flow_members[leaf] = path
        else:
            yield from walk(value, path)

    def walk(node: Any, path: PathKey) -> Iterator[_Entry]:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):  # a complex key (? [a, b]) names no path
                    mark = key.start_mark
                    yield from child(mark.line, mark.column, (*path, str(key.value)), value)
        elif isinstance(node, yaml.SequenceNode):
            dash = node.start_mark.column  # every item of a block sequence has its dash there
            for i, item in enumerate(node.value):
                if id(item) not in seen:  # an aliased item: its position is the anchor's
                    yield from child(item.start_mark.line, dash, (*path, i), item)

    def leaves(node: Any, path: PathKey) -> Iterator[PathKey]:
        """The leaf paths of a flow collection, as the report flattens a scenario: lists of
        scalars are one value; an alias is one too (not followed)."""
        if isinstance(node, yaml.MappingNode) and node.value:
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    yield from member(value, (*path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode) and any(
            isinstance(x, yaml.CollectionNode) for x in node.value
        ):
            for i, item in enumerate(node.value):
                yield from member(item, (*path, i))
        else:
            yield path

    def member(node: Any, path: PathKey) -> Iterator[PathKey]:
        if id(node) in seen:
            yield path
        else:
            seen.add(id(node))
            yield from leaves(node, path)

    if root is not None:
        seen.add(id(root))
        yield from walk(root, ())
