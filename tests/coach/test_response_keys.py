"""RESPONSE_KEYS is exactly the set of response keys the coach's code names."""

from __future__ import annotations

import ast
from pathlib import Path

from content.model import Content
from voice.coach.keys import RESPONSE_KEYS

VOICE = Path(__file__).resolve().parents[2] / "voice"
# The coach's own lines, and the history lines the runtime builds from the store for it.
SOURCES = [*(VOICE / "coach").rglob("*.py"), VOICE / "store" / "answers.py"]


def string_constants() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        if path.name == "keys.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_declared_key_is_named_in_the_code() -> None:
    assert RESPONSE_KEYS - string_constants() == set()


def test_shipped_responses_have_exactly_the_declared_keys(content: Content) -> None:
    assert set(content.responses) == RESPONSE_KEYS
