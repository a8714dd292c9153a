"""Loads content and the intent matcher once per process, turning content problems into a
clean exit 2 for every command: what would fail later (a response the coach cannot fill, a
sentence file hassil cannot use) fails here, naming the file and the field."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from content.check import check_placeholders, check_sentence_files, missing_responses
from content.errors import ContentError, Problem
from content.loader import load_content
from content.model import Content
from intents.matcher import IntentMatcher
from voice.coach.keys import PLACEHOLDERS, RESPONSE_KEYS
from voice.errors import UserError


def _broken(problems: Iterable[Problem]) -> UserError:
    return UserError("content is broken:\n" + "\n".join(str(p) for p in problems), 2)


@lru_cache(maxsize=4)
def get_content(directory: Path | None = None) -> Content:
    try:
        content = load_content(directory)
    except ContentError as exc:
        raise _broken(exc.problems) from None
    problems = missing_responses(content, RESPONSE_KEYS) + check_placeholders(content, PLACEHOLDERS)
    if problems:
        raise _broken(problems)
    return content


@lru_cache(maxsize=4)
def get_matcher(directory: Path | None = None) -> IntentMatcher:
    content = get_content(directory)
    try:
        problems = check_sentence_files(content)
        if problems:
            raise _broken(problems)
        return IntentMatcher.from_content(content)
    except UserError:
        raise
    except ContentError as exc:
        raise _broken(exc.problems) from None
    except Exception as exc:  # hassil raises assorted types for bad templates
        raise UserError(f"content is broken: sentence templates: {exc}", 2) from None
