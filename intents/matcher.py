"""Text -> IntentResult, from hassil templates first, then FAQ ranking for questions."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

from hassil import Intents, recognize_best

from content.model import Content
from intents.faq_rank import FaqRanker
from intents.normalize import looks_like_question, normalize
from intents.result import IntentResult
from intents.templates import build_intents


class IntentMatcher:
    def __init__(self, intents: Intents, faq: FaqRanker | None = None) -> None:
        self.intents = intents
        self.faq = faq
        self._match = lru_cache(maxsize=4096)(self._match_uncached)

    @classmethod
    def from_content(cls, content: Content) -> IntentMatcher:
        ranker = FaqRanker(
            ((e.id, (*e.questions, *e.topics)) for e in content.faq.values()),
            extra_vocabulary=[p for s in content.stretches.values() for p in s.phrases],
        )
        return cls(build_intents(content), ranker)

    @property
    def intent_names(self) -> frozenset[str]:
        return frozenset(self.intents.intents)

    def match(self, text: str, allowed: Collection[str] | None = None) -> IntentResult:
        """Recognize text; with `allowed`, intents outside that set count as no match."""
        result = self._match(normalize(text))
        if allowed is not None and result.intent not in allowed:
            return IntentResult(text, None)
        return IntentResult(text, result.intent, result.slots, result.source, result.score)

    def _match_uncached(self, norm: str) -> IntentResult:
        if not norm:
            return IntentResult(norm, None)
        found = recognize_best(norm, self.intents, language="en")
        if found is not None:
            slots = {name: str(e.value) for name, e in found.entities.items()}
            return IntentResult(norm, found.intent.name, slots, "template", 1.0)
        if self.faq is not None and looks_like_question(norm):
            ranked = self.faq.best(norm)
            if ranked is not None:
                return IntentResult(
                    norm, "AskFaq", {"topic": ranked.faq_id}, "faq-rank", ranked.score / 100
                )
        return IntentResult(norm, None)
