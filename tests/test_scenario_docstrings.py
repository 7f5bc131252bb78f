"""Field descriptions come from the docstrings under the fields, folded to one line.

The scenario models (``scenario/types.py``: :class:`StrictModel`) take each field's description
from the docstring written under it, folded to one line: the JSON Schema, editors, the report's
parameter table and the error messages must not show the source's line breaks.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import rollout_sim.scenario as scenario_package
from rollout_sim.scenario import Scenario
from rollout_sim.scenario.types import StrictModel


def _modules() -> list[Any]:
    return [
        importlib.import_module(f"{scenario_package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(scenario_package.__path__)
    ]


def _models() -> list[type[BaseModel]]:
    return [
        obj
        for module in _modules()
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__
    ]


def _folded(text: str) -> str:
    return " ".join(text.split())


def test_every_scenario_model_is_strict() -> None:
    models = _models()
    assert len(models) > 40
    assert all(issubclass(model, StrictModel) for model in models)


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__qualname__)
def test_descriptions_are_one_line(model: type[BaseModel]) -> None:
    for name, info in model.model_fields.items():
        if info.description is not None:
            assert info.description == _folded(info.description), f"{model.__name__}.{name}"
            assert info.description, f"{model.__name__}.{name}"


def _field_docstrings(module: Any) -> Iterator[tuple[str, str, str]]:
    """(class, field, docstring) for every string written right under a class-body field."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for field, doc in pairwise(node.body):
            if (
                isinstance(field, ast.AnnAssign)
                and isinstance(field.target, ast.Name)
                and isinstance(doc, ast.Expr)
                and isinstance(doc.value, ast.Constant)
                and isinstance(doc.value.value, str)
            ):
                yield node.name, field.target.id, doc.value.value


def test_every_field_docstring_is_its_description() -> None:
    seen = 0
    for module in _modules():
        for cls_name, field, doc in _field_docstrings(module):
            model = getattr(module, cls_name)
            assert model.model_fields[field].description == _folded(doc), f"{cls_name}.{field}"
            seen += 1
    assert seen > 150  # most of the scenario's fields are documented this way


def _schema_descriptions_of_properties(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for prop in value.values():
                    if isinstance(prop, dict) and isinstance(prop.get("description"), str):
                        yield prop["description"]
            yield from _schema_descriptions_of_properties(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _schema_descriptions_of_properties(item)


def test_schema_descriptions_of_fields_are_one_line() -> None:
    # The schema is built from the folded descriptions, not from the docstrings as written.
    found = list(_schema_descriptions_of_properties(Scenario.model_json_schema()))
    assert len(found) > 200
    assert [d for d in found if d != _folded(d)] == []


def test_a_wrapped_docstring_becomes_one_line() -> None:
    class Part(StrictModel):
        size: int = 1
        """A description long enough
        to wrap,   with   stray  spaces."""

        other: int = 2

    text = "A description long enough to wrap, with stray spaces."
    assert Part.model_fields["size"].description == text
    assert Part.model_fields["other"].description is None
    assert Part.model_json_schema()["properties"]["size"]["description"] == text
    assert Part(size=3).size == 3
