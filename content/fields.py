"""Typed reads from parsed YAML that record a Problem instead of raising on bad input."""

from __future__ import annotations

import re
from typing import Any

from content.errors import Problem

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class Fields:
    """Reads fields of one file, collecting problems with their dotted path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, path: str, reason: str) -> None:
        self.problems.append(Problem(self.file, path, reason))

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.problem(path, f"expected a mapping, got {_kind(value)}")
        return {}

    def items(self, parent: dict[str, Any], key: str, path: str) -> list[Any]:
        value = parent.get(key)
        where = _join(path, key)
        if value is None:
            self.problem(where, "missing")
            return []
        if not isinstance(value, list) or not value:
            self.problem(where, f"expected a non-empty list, got {_kind(value)}")
            return []
        return value

    def text(self, parent: dict[str, Any], key: str, path: str, required: bool = True) -> str:
        value = parent.get(key)
        where = _join(path, key)
        if value is None:
            if required:
                self.problem(where, "missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(where, f"expected non-empty text, got {_kind(value)}")
            return ""
        return " ".join(value.split())

    def ident(self, parent: dict[str, Any], key: str, path: str) -> str:
        value = self.text(parent, key, path)
        if value and not ID_PATTERN.match(value):
            self.problem(_join(path, key), f"{value!r} is not a snake_case id")
        return value

    def texts(
        self, parent: dict[str, Any], key: str, path: str, required: bool = True
    ) -> list[str]:
        if key not in parent and not required:
            return []
        out: list[str] = []
        for i, item in enumerate(self.items(parent, key, path)):
            if isinstance(item, str) and item.strip():
                out.append(" ".join(item.split()))
            else:
                self.problem(
                    f"{_join(path, key)}[{i}]", f"expected non-empty text, got {_kind(item)}"
                )
        return out

    def seconds(
        self, parent: dict[str, Any], key: str, path: str, default: int | None
    ) -> int | None:
        value = parent.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(_join(path, key), f"expected whole seconds, got {_kind(value)}")
            return default
        if not 1 <= value <= 3600:
            self.problem(_join(path, key), f"{value} is out of range (1 to 3600 seconds)")
            return default
        return value

    def unknown_keys(self, parent: dict[str, Any], allowed: set[str], path: str) -> None:
        for key in parent:
            if key not in allowed:
                self.problem(
                    _join(path, str(key)), f"unknown field (expected one of {sorted(allowed)})"
                )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "empty text" if not value.strip() else "text"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
