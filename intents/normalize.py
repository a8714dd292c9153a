"""Normalisation shared by matching, FAQ ranking and the self-hearing guard."""

from __future__ import annotations

import re
import unicodedata

from intents.numbers import number_to_words

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_NOT_WORD = re.compile(r"[^a-z0-9' ]+")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lowercase, plain apostrophes, no punctuation, digits as words, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = text.replace("-", " ")
    text = _NOT_WORD.sub(" ", text)
    text = _DIGITS.sub(lambda m: f" {number_to_words(int(m.group()))} ", text)
    text = " ".join(w.strip("'") for w in text.split())
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    return normalize(text).split()


QUESTION_WORDS = frozenset(
    "what what's whats how why when where which who is are can could should do does will "
    "tell explain".split()
)


# Words that ask even in the middle of an utterance ("my back hurts, can stretching help");
# "is", "are" and "do" only ask at the start, since statements use them too.
INNER_QUESTION_WORDS = frozenset("what how why when where which will can could should does".split())


def looks_like_question(text: str) -> bool:
    """True when the utterance asks something, at its start or after a short statement."""
    words = normalize(text).split()
    if not words:
        return False
    return words[0] in QUESTION_WORDS or any(w in INNER_QUESTION_WORDS for w in words[1:8])
