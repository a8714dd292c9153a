"""Loads content and the intent matcher once per process, turning content problems into a
clean exit 2 for every command."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from content.errors import ContentError
from content.loader import load_content
from content.model import Content
from intents.matcher import IntentMatcher
from voice.errors import UserError


@lru_cache(maxsize=4)
def get_content(directory: Path | None = None) -> Content:
    try:
        return load_content(directory)
    except ContentError as exc:
        raise UserError(f"content is broken:\n{exc}", 2) from None


@lru_cache(maxsize=4)
def get_matcher(directory: Path | None = None) -> IntentMatcher:
    try:
        return IntentMatcher.from_content(get_content(directory))
    except UserError:
        raise
    except Exception as exc:  # hassil raises assorted types for bad templates
        raise UserError(f"content is broken: sentence templates: {exc}", 2) from None
