"""What the scenario's JSON Schema says about a key path of a scenario.

Two readers walk the schema along a key path, following ``$ref`` and unions:

* :func:`schema_at` gives every schema object that may describe the value there, for the
  loader's errors (the keys allowed beside a misspelt one, the tags of a union);
* :class:`SchemaDescriber` gives the one description a reader sees, for the report's parameter
  table, picking each union's branch by the value written there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..fileio import JsonObject
from .paths import PathKey, value_at

__all__ = [
    "SchemaDescriber",
    "allowed_keys",
    "scenario_schema",
    "schema_at",
    "tag_at",
    "union_member",
]

Schema = Mapping[str, Any]


@lru_cache(maxsize=1)
def scenario_schema() -> JsonObject:
    """The JSON Schema of :class:`~rollout_sim.scenario.schema.Scenario` (built once: pydantic
    takes a while; callers only read it)."""
    from .schema import Scenario  # here: the schema is only built when something asks

    return Scenario.model_json_schema()


def _deref(defs: Schema, node: Schema) -> JsonObject:
    """*node* with ``$ref`` (and a one-item ``allOf``) replaced by what it refers to; the
    referring node's own keys (its description) win over the definition's."""
    out = dict(node)
    for _ in range(32):  # a guard against a cycle of bare references
        if "$ref" in out:
            target = defs.get(str(out.pop("$ref")).rsplit("/", 1)[-1], {})
        elif isinstance(out.get("allOf"), list) and len(out["allOf"]) == 1:
            target = out.pop("allOf")[0]
        else:
            break
        out = {**target, **out}
    return out


def union_member(node: Schema, value: Any) -> tuple[str, str, str] | None:
    """(property, tag, $ref) of the discriminated-union member *value* selects, if any."""
    disc = node.get("discriminator")
    if not isinstance(disc, Mapping) or not isinstance(value, dict):
        return None
    prop = str(disc.get("propertyName", ""))
    tag = value.get(prop)
    target = disc.get("mapping", {}).get(tag) if isinstance(tag, str) else None
    return None if target is None else (prop, str(tag), str(target))


# --------------------------------------------------------------------------------------------
# Every schema object at a path (for errors)


def _expand(node: Schema, value: Any, narrow: bool) -> list[Schema]:
    """*node* with its references resolved and its union members listed; with *narrow*, a
    discriminated union whose tag *value* gives is only that member."""
    schema = scenario_schema()
    node = _deref(schema.get("$defs", {}), node)
    member = union_member(node, value) if narrow else None
    if member is not None:
        return _expand({"$ref": member[2]}, value, narrow)
    out: list[Schema] = [node]
    for alt in node.get("anyOf", []) + node.get("oneOf", []):
        out.extend(_expand(alt, value, narrow))
    return out


def schema_at(loc: Sequence[str | int], data: Any, *, narrow: bool = True) -> list[Schema]:
    """The JSON-schema objects that may describe the value at *loc* in *data* (for 'did you
    mean'). With *narrow*, a union member chosen by its tag (``distribution: triangular``) is
    the only one: the keys of the other distributions are not allowed there."""
    value = data
    nodes = _expand(scenario_schema(), value, narrow)
    for part in loc:
        nxt: list[Schema] = []
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
        found, value = value_at((part,), value)
        value = value if found else None
        nodes = [e for n in nxt for e in _expand(n, value, narrow)]
    return nodes


def tag_at(loc: Sequence[str | int], data: Any) -> tuple[str, str] | None:
    """(property, tag) if the value at *loc* is a member of a discriminated union."""
    found, value = value_at(tuple(loc), data)
    if not found:
        return None
    for node in schema_at(loc, data, narrow=False):
        member = union_member(node, value)
        if member is not None:
            return member[0], member[1]
    return None


def allowed_keys(nodes: Iterable[Schema]) -> list[str]:
    """The keys the schema objects allow, in the order the schema declares them."""
    out: dict[str, None] = {}
    for node in nodes:
        out.update(dict.fromkeys(node.get("properties", {})))
    return list(out)


# --------------------------------------------------------------------------------------------
# The one description a reader sees (for the report)


class SchemaDescriber:
    """Map a key path of a scenario to its field's description in the JSON Schema.

    The value at each step picks the branch of a union (``anyOf``/``oneOf``, discriminated
    ones by their tag), so ``build_days.coast.mean_days`` finds the log-normal's field. A
    field without a description of its own takes its model's (``mean_days`` → "Log-normal
    with the given mean..."); map entries (``radius_km.coast``) and list items take their
    container's.
    """

    def __init__(self, schema: Schema | None = None) -> None:
        self.root: Schema = scenario_schema() if schema is None else schema
        self.defs: Schema = self.root.get("$defs", {})

    def _matches(self, variant: Schema, value: Any) -> bool:
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

    def _select(self, node: Schema, value: Any) -> JsonObject:
        node = _deref(self.defs, node)
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
            options = [_deref(self.defs, v) for v in variants]
            pick = next((v for v in options if self._matches(v, value)), None)
            if pick is None:
                pick = next((v for v in options if v.get("type") != "null"), options[0])
            chosen = self._select(pick, value)
            if node.get("description"):
                chosen["description"] = node["description"]
            return chosen
        return node

    def describe(self, path: PathKey, root_value: Any) -> str | None:
        """The description of the field at *path* of the scenario data *root_value*."""
        node: Schema = self.root
        value = root_value
        inherited: str | None = None
        for depth, seg in enumerate(path):
            here = self._select(node, value)
            child: Schema | None = None
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
