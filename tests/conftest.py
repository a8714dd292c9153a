"""Shared fixtures: the shipped content, its matcher, and a coach driven by the simulator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from content.loader import load_content
from content.model import Content
from intents.matcher import IntentMatcher

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def private_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests (and the commands they start) keep history and tokens in a temporary home."""
    home = tmp_path_factory.mktemp("home")
    os.environ["STRETCH_COACH_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="session")
def matcher(content: Content) -> IntentMatcher:
    return IntentMatcher.from_content(content)
