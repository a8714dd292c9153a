"""Each tests/golden/NAME.script must produce exactly tests/golden/NAME.expected.

After an intended change, regenerate with UPDATE_GOLDEN=1 and read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from content.model import Content
from intents.matcher import IntentMatcher
from tests.coach.golden import GOLDEN_DIR, transcript

SCRIPTS = sorted(GOLDEN_DIR.glob("*.script"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_golden_transcript(script: Path, content: Content, matcher: IntentMatcher) -> None:
    expected_path = script.with_suffix(".expected")
    actual = transcript(script, content, matcher)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"run UPDATE_GOLDEN=1 to create {expected_path.name}"
    assert actual == expected_path.read_text(encoding="utf-8")


def test_there_are_golden_scripts() -> None:
    assert len(SCRIPTS) >= 5
