"""Every sentence in content/en/tests/*.yaml gives the intent and slots it names.

Generated from the sentence test files, one test per sentence, like home-assistant/intents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from content.loader import load_content
from intents.matcher import IntentMatcher

TESTS_DIR = load_content().directory / "tests"


def _load(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def _cases() -> list[Any]:
    cases = []
    for path in sorted(TESTS_DIR.glob("*.yaml")):
        data = _load(path)
        for i, test in enumerate(data.get("tests") or []):
            intent = test["intent"]
            slots = {k: str(v) for k, v in (intent.get("slots") or {}).items()}
            for sentence in test["sentences"]:
                cases.append(
                    pytest.param(sentence, intent["name"], slots, id=f"{path.stem}[{i}]:{sentence}")
                )
    return cases


def _no_intent_cases() -> list[Any]:
    return [
        pytest.param(sentence, id=f"{path.stem}:{sentence}")
        for path in sorted(TESTS_DIR.glob("*.yaml"))
        for sentence in _load(path).get("no_intent") or []
    ]


def test_test_files_exist() -> None:
    names = {p.name for p in TESTS_DIR.glob("*.yaml")}
    assert {"control.yaml", "session.yaml", "_out_of_domain.yaml"} <= names
    assert len(_no_intent_cases()) >= 60


@pytest.mark.parametrize(("sentence", "intent", "slots"), _cases())
def test_sentence(
    matcher: IntentMatcher, sentence: str, intent: str, slots: dict[str, str]
) -> None:
    result = matcher.match(sentence)
    assert result.intent == intent, f"{sentence!r} gave {result.intent} {result.slots}"
    assert result.slots == slots


@pytest.mark.parametrize("sentence", _no_intent_cases())
def test_no_intent(matcher: IntentMatcher, sentence: str) -> None:
    result = matcher.match(sentence)
    assert result.intent is None, f"{sentence!r} gave {result.intent} {result.slots}"
