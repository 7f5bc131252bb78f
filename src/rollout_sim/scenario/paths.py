"""Key paths into scenario data: ``("operators", 0, "build_crews")``, written
``operators[0].build_crews`` wherever a person reads one (errors, the report's parameter table).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["PathKey", "format_path", "value_at"]

#: A key path: mapping keys (text) and list indices.
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


def value_at(path: PathKey, data: Any) -> tuple[bool, Any]:
    """(found, value) at *path* in plain scenario data (mappings and lists)."""
    node = data
    for part in path:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            return False, None
    return True, node
