"""The comments of a scenario file (scenario/comments.py): which key each one explains, read
with ruamel.yaml's round-trip scanner; and what the schema says about a key path
(scenario/describe.py)."""

from __future__ import annotations

import pytest

from rollout_sim.scenario.comments import SourceComments, yaml_comments
from rollout_sim.scenario.describe import SchemaDescriber, allowed_keys, schema_at, tag_at
from rollout_sim.scenario.paths import format_path, value_at

TEXT = """\
top: 1            # the top
block:            # a parent
                  # continued under its comment
  child: 2        # a child
"""


def comments_of(text: str) -> dict[str, str]:
    return {format_path(k): v for k, v in yaml_comments(text).comments.items()}


def test_line_endings_and_a_byte_order_mark_do_not_matter() -> None:
    expected = comments_of(TEXT)
    assert expected == {
        "top": "the top",
        "block": "a parent continued under its comment",
        "block.child": "a child",
    }
    assert comments_of(TEXT.replace("\n", "\r\n")) == expected
    assert comments_of("\ufeff" + TEXT) == expected


def test_block_scalar_header_comment_and_text() -> None:
    text = """\
notes: |   # what the notes are
  # a line of the text, not a comment
  more text
after: 1   # after
"""
    assert comments_of(text) == {"notes": "what the notes are", "after": "after"}


def test_aliases_are_not_followed() -> None:
    text = """\
base: &b {x: 1}   # the anchor
copy: *b          # the alias
items:
  - *b
  - 2             # second item
"""
    found = yaml_comments(text)
    assert found.lookup(("base",)) == "the anchor"
    assert found.lookup(("base", "x")) == "the anchor"  # written inside the flow mapping
    assert found.lookup(("copy",)) == "the alias"
    assert found.lookup(("copy", "x")) is None  # the alias's keys are not written there
    assert found.lookup(("items", 1)) == "second item"


def test_a_key_without_a_value_takes_only_aligned_continuations() -> None:
    text = """\
empty:      # no value here
            # aligned: taken
  # deeper but not aligned: not taken, and it ends the run
            # so this one is not taken either
scalar: 1   # a value
  # deeper: taken
"""
    assert comments_of(text) == {
        "empty": "no value here aligned: taken",
        "scalar": "a value deeper: taken",
    }


def test_a_blank_line_ends_a_run() -> None:
    text = "a: 1  # first\n\n  # after a blank line: nobody's\nb: 2\n"
    assert comments_of(text) == {"a": "first"}


def test_flow_collections_of_mappings() -> None:
    found = yaml_comments("rows: [{a: 1}, {a: 2, b: [1, 2]}]  # the rows\n")
    assert found.lookup(("rows", 0, "a")) == "the rows"
    assert found.lookup(("rows", 1, "b")) == "the rows"  # a list of scalars is one value
    assert found.lookup(("rows", 1, "c")) is None


@pytest.mark.parametrize("text", ["a: [1, 2\nb: 3\n", "a: 1\n\tb: 2\n", "a: b: c\n"])
def test_text_that_is_not_yaml_has_no_comments(text: str) -> None:
    assert yaml_comments(text) == SourceComments()


def test_comments_of_a_large_list_are_read_quickly_enough() -> None:
    ids = [f"'{i:010d}'" for i in range(20_000)]
    text = "siting:\n  villages: [" + ", ".join(ids) + "]  # every village\n"
    found = yaml_comments(text)
    assert found.lookup(("siting", "villages")) == "every village"


# --- the schema at a key path ---------------------------------------------------------------


def test_describe_picks_the_union_member_the_value_names() -> None:
    data = {
        "operators": [
            {"build_days": {"coast": {"distribution": "triangular", "low_days": 1}}},
        ]
    }
    describer = SchemaDescriber()
    path = ("operators", 0, "build_days", "coast", "low_days")
    # The triangular member's low_days ("Optimistic"), not the uniform one's ("Shortest").
    assert describer.describe(path, data) == "Optimistic (shortest) duration, days."
    uniform = {"operators": [{"build_days": {"coast": {"distribution": "uniform"}}}]}
    assert describer.describe(path, uniform) == "Shortest duration, days."
    assert describer.describe(("operators", 0, "cash_usd"), data) == (
        "Starting cash (equity paid in at day 0), USD."
    )


def test_schema_at_lists_the_keys_allowed_and_the_tag() -> None:
    data = {"operators": [{"build_days": {"coast": {"distribution": "fixed", "days": 3}}}]}
    where = ("operators", 0, "build_days", "coast")
    assert allowed_keys(schema_at(where, data)) == ["distribution", "days"]
    assert tag_at(where, data) == ("distribution", "fixed")
    assert "mean_days" in allowed_keys(schema_at(where, data, narrow=False))


def test_value_at_and_format_path() -> None:
    data = {"a": [{"b": 1}]}
    assert value_at(("a", 0, "b"), data) == (True, 1)
    assert value_at(("a", 1), data) == (False, None)
    assert format_path(("a", 0, "b")) == "a[0].b"
    assert format_path(()) == "(top level)"
    assert format_path(("a", "line\nbreak")) == "a.'line\\nbreak'"
