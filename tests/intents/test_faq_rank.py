"""FAQ answers: the seed article's FAQ questions and rewordings reach the right entry
(through templates or the ranker), and off-domain questions are not answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from content.loader import load_content
from intents.faq_rank import FaqRanker, content_words
from intents.matcher import IntentMatcher

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "faq_questions.yaml").read_text(encoding="utf-8")
)


def _pairs(section: str) -> list[tuple[str, str]]:
    return [(q, topic) for topic, qs in DATA[section].items() for q in qs]


@pytest.mark.parametrize(("question", "topic"), _pairs("seed"))
def test_seed_questions(matcher: IntentMatcher, question: str, topic: str) -> None:
    result = matcher.match(question)
    assert (result.intent, result.slots.get("topic")) == ("AskFaq", topic)


def test_rewordings_accuracy(matcher: IntentMatcher) -> None:
    pairs = _pairs("rewordings")
    misses = [
        f"{q!r} -> {r.intent} {r.slots}"
        for q, topic in pairs
        if ((r := matcher.match(q)).intent, r.slots.get("topic")) != ("AskFaq", topic)
    ]
    assert len(misses) / len(pairs) <= 0.05, "\n".join(misses)


@pytest.mark.parametrize("question", DATA["reject"])
def test_off_domain_questions_rejected(matcher: IntentMatcher, question: str) -> None:
    assert matcher.match(question).intent is None


def test_every_faq_question_reaches_its_entry(matcher: IntentMatcher) -> None:
    for entry in load_content().faq.values():
        for question in entry.questions:
            result = matcher.match(question)
            assert result.slots.get("topic") == entry.id, (question, result)


@pytest.fixture(scope="module")
def ranker() -> FaqRanker:
    content = load_content()
    return FaqRanker(
        ((e.id, (*e.questions, *e.topics)) for e in content.faq.values()),
        extra_vocabulary=[p for s in content.stretches.values() for p in s.phrases],
    )


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("how frequently should i do psoas stretches", "how_often"),
        ("are psoas stretches risky", "risks"),
        ("is stretching the psoas dangerous", "risks"),
        ("does stretching help a bad back", "lower_back_pain"),
        ("where is the psoas located", "what_is_psoas"),
        ("should i see a physio", "physical_therapist"),
        ("how should i breathe while stretching", "breathing"),
        ("is every day too much", "how_often"),
    ],
)
def test_ranker_rewordings(ranker: FaqRanker, question: str, topic: str) -> None:
    match = ranker.best(question)
    assert match is not None and match.faq_id == topic, match


@pytest.mark.parametrize(
    "question",
    [
        "what time is it",
        "what day is it",
        "how far is the moon",
        "what should we have for dinner",
        "where did you put the remote",
        "is it safe to eat raw eggs",
        "what are the benefits of green tea",
        "how often should i water my plants",
    ],
)
def test_ranker_rejects(ranker: FaqRanker, question: str) -> None:
    assert ranker.best(question) is None


def test_content_words_fold_synonyms() -> None:
    assert content_words("should I see a physical therapist") == content_words(
        "should I see a chiropractor"
    )
    assert "risk" in content_words("is it dangerous")


def test_threshold_applies(ranker: FaqRanker) -> None:
    strict = FaqRanker([("a", ["psoas breathing"])], threshold=101)
    assert strict.best("psoas breathing") is None
    assert ranker.best("how should i breathe") is not None
