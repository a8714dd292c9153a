"""Ranks FAQ entries for a question that no template matched.

A question must be mostly about our domain before any entry is considered, so that
"what's the weather" is rejected instead of being answered with the closest guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from intents.normalize import normalize

STOPWORDS = frozenset(
    """a an the i me my mine you your we us our it its is are was were be been being am do does
    did doing have has had can could should would will shall may might must to of in on at for
    with about from by as and or but if so that this these those there here what what's whats
    how why when where which who whom whose tell say please some any much many more most very
    really just also too than then it's i'm i've i'd don't doesn't isn't can't get got go going
    want need know think like make one ok okay hey coach well oh um uh""".split()
)


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    return [_stem(w) for w in normalize(text).split() if w not in STOPWORDS]


@dataclass(frozen=True)
class FaqMatch:
    faq_id: str
    score: float


class FaqRanker:
    """Scores a question against every entry's phrasings; returns the best above threshold."""

    def __init__(
        self,
        entries: Iterable[tuple[str, Iterable[str]]],
        extra_vocabulary: Iterable[str] = (),
        threshold: float = 62.0,
        min_domain_share: float = 0.5,
    ) -> None:
        self.threshold = threshold
        self.min_domain_share = min_domain_share
        self._phrasings: list[tuple[str, str]] = []
        vocabulary: set[str] = set()
        for faq_id, phrasings in entries:
            for phrasing in phrasings:
                words = content_words(phrasing)
                vocabulary.update(words)
                self._phrasings.append((faq_id, " ".join(sorted(words))))
        for phrase in extra_vocabulary:
            vocabulary.update(content_words(phrase))
        self.vocabulary = frozenset(vocabulary)

    def domain_share(self, words: list[str]) -> float:
        return sum(w in self.vocabulary for w in words) / len(words) if words else 0.0

    def best(self, question: str) -> FaqMatch | None:
        words = content_words(question)
        if self.domain_share(words) < self.min_domain_share:
            return None
        key = " ".join(sorted(words))
        best: FaqMatch | None = None
        for faq_id, phrasing in self._phrasings:
            score = float(fuzz.token_sort_ratio(key, phrasing))
            if best is None or score > best.score:
                best = FaqMatch(faq_id, score)
        return best if best is not None and best.score >= self.threshold else None
