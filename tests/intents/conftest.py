from __future__ import annotations

import pytest

from content.loader import load_content
from intents.matcher import IntentMatcher


@pytest.fixture(scope="session")
def matcher() -> IntentMatcher:
    return IntentMatcher.from_content(load_content())
