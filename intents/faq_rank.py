"""Ranks FAQ entries for a question that no template matched.

A question must be mostly about our domain before any entry is considered, so that
"what's the weather" is rejected instead of being answered with the closest guess.

Scoring: the question and every phrasing of an entry (its questions and topics) become sets
of content words (stopwords dropped, light stemming, a few synonyms folded together). Each
word is weighted by how rare it is across entries (IDF), so "psoas" or "stretch", which
appear everywhere, count less than "breathe", "often" or "risk". An entry's score mixes
its best single phrasing (weighted Dice overlap) with how much of the question the entry's
whole vocabulary covers; near-identical spellings ("stretchs", "hamstrings") match through
rapidfuzz.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from intents.normalize import normalize


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset(
    """a an the i me my mine myself you your yours we us our it its is are was were be been
    being am do does did doing done have has had can could should would will shall may might
    must to of in on at for with about from by as and or but if so that this these those there
    here what what's whats how when who whom whose tell say please some any much many more most
    very really just also too than then it's its i'm im i've ive i'd don't dont doesn't isn't
    can't get got go going want need know think like make ok okay hey coach well oh um uh
    exactly actually thing things anything something one ones way into out up off all
    ever still even again them they their he she his her let let's lets us"""
)

# Stopwords that still tell questions apart ("which stretches" vs "what are stretches", "should
# it hurt" vs "can it hurt me"): left out of the domain gate but kept, IDF-weighted, in scoring.
FUNCTION_WORDS = _wordset(
    """what which why where when should can will is are there myself supposed much many more
    most best"""
)

# Phrases folded into one token before stemming, so that different words for the same thing
# meet: "physio" and "physical therapist", "dangerous" and "risks".
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("physical therapists", "physio"),
    ("physical therapist", "physio"),
    ("physiotherapists", "physio"),
    ("physiotherapist", "physio"),
    ("physical therapy", "physio"),
    ("chiropractors", "physio"),
    ("chiropractor", "physio"),
    ("doctor", "physio"),
    ("professional", "physio"),
    ("hip flexors", "hipflexor"),
    ("hip flexor", "hipflexor"),
    ("warm up", "warmup"),
    ("warming up", "warmup"),
    ("lower back", "back"),
    ("bad back", "back pain"),
    ("sore back", "back pain"),
    ("iliopsoas", "psoas"),
    ("desk job", "sitting"),
    ("at a desk", "sitting"),
    ("sit", "sitting"),
    ("sat", "sitting"),
    ("dangerous", "risk"),
    ("risky", "risk"),
    ("risks", "risk"),
    ("safely", "safe"),
    ("harmful", "risk"),
    ("injure", "risk"),
    ("injury", "risk"),
    ("injuries", "risk"),
    ("frequently", "often"),
    ("regularly", "often"),
    ("daily", "every day"),
    ("perform", "do"),
    ("located", "where"),
    ("location", "where"),
    ("breath", "breathe"),
    ("breathing", "breathe"),
    ("advantages", "benefits"),
    ("advantage", "benefits"),
    ("good for", "benefits"),
    ("knee to chest", "supine"),
    ("lying", "supine"),
    ("habit", "consistent"),
    ("consistency", "consistent"),
    ("consistently", "consistent"),
)

# Words that tie a question to stretching. A question needs at least one of them (or a word
# from a stretch's name) besides being mostly domain vocabulary: "what time is it" and "how
# far is the moon" share words with the FAQ but are about something else.
DOMAIN_WORDS = _wordset(
    """psoas stretch stretches stretching stretched muscle muscles hip hips hipflexor back spine
    pelvis pelvic posture lunge pigeon butterfly supine kneel kneeling knee knees thigh thighs
    groin routine routines warmup breathe physio sitting risk safe pain painful hurt sore tight
    tightness discomfort overstretch overstretching flexible flexibility exercise exercises yoga
    hold holding consistent benefits benefit often chest leg legs syndrome inner cardio
    session workout pose poses limber mobility cramp strain"""
)

# Words that lean toward the domain only in company: one alone ("what time is it", "what day
# is it") is not enough, two are ("how many times a week", "is every day too much").
WEAK_DOMAIN_WORDS = _wordset(
    """time times week weekly day every seconds second thirty twenty long enough results
    quick full short deep far bad normal difference best recommend help"""
)

_IRREGULAR = {"hurting": "hurt", "hurts": "hurt", "feet": "foot", "knees": "knee"}


def _stem(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for suffix in ("ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _fold(text: str) -> str:
    padded = f" {normalize(text)} "
    for phrase, replacement in SYNONYMS:
        padded = padded.replace(f" {phrase} ", f" {replacement} ")
    return padded.strip()


def content_words(text: str) -> list[str]:
    """The words that carry the topic: no stopwords, stemmed, synonyms folded."""
    return [_stem(w) for w in _fold(text).split() if w not in STOPWORDS]


def scoring_words(text: str) -> list[str]:
    """Content words plus the function words that distinguish questions."""
    return [_stem(w) for w in _fold(text).split() if w not in STOPWORDS or w in FUNCTION_WORDS]


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
        threshold: float = 45.0,
        min_domain_share: float = 0.5,
        phrasing_weight: float = 0.6,
    ) -> None:
        self.threshold = threshold
        self.min_domain_share = min_domain_share
        self.phrasing_weight = phrasing_weight
        self._phrasings: list[tuple[str, frozenset[str]]] = []
        self._entry_words: dict[str, set[str]] = {}
        vocabulary: set[str] = set()
        for faq_id, phrasings in entries:
            entry_words = self._entry_words.setdefault(faq_id, set())
            for phrasing in phrasings:
                words = frozenset(scoring_words(phrasing))
                vocabulary.update(content_words(phrasing))
                if words:
                    self._phrasings.append((faq_id, words))
                    entry_words.update(words)
        for phrase in extra_vocabulary:
            vocabulary.update(content_words(phrase))
        self.vocabulary = frozenset(vocabulary)
        anchors = {_stem(w) for w in DOMAIN_WORDS}
        for phrase in extra_vocabulary:
            anchors.update(content_words(phrase))
        self.anchors = frozenset(anchors)
        self.weak_anchors = frozenset(_stem(w) for w in WEAK_DOMAIN_WORDS)
        n = max(len(self._entry_words), 1)
        every_word = vocabulary.union(*self._entry_words.values())
        self._idf = {
            w: math.log((n + 1) / (0.5 + sum(w in ws for ws in self._entry_words.values())))
            for w in every_word
        }
        self._unknown_idf = math.log((n + 1) / 0.5)

    def domain_share(self, words: list[str]) -> float:
        return sum(self._known(w) is not None for w in words) / len(words) if words else 0.0

    def _known(self, word: str) -> str | None:
        """The vocabulary word this word stands for (exact, or a near spelling), or None."""
        if word in self.vocabulary:
            return word
        if len(word) < 5:
            return None
        best = max(self.vocabulary, key=lambda v: fuzz.ratio(word, v), default=None)
        if (
            best is not None
            and len(best) >= 5
            and best[:2] == word[:2]
            and fuzz.ratio(word, best) >= 88
        ):
            return best
        return None

    def _weight(self, word: str) -> float:
        return self._idf.get(word, self._unknown_idf)

    def scores(self, question: str) -> dict[str, float]:
        """Every entry's score (0-100) for the question; empty when it is off-domain."""
        raw = content_words(question)
        if self.domain_share(raw) < self.min_domain_share:
            return {}
        topic_words = {self._known(w) or w for w in raw}
        if not topic_words & self.anchors and len(topic_words & self.weak_anchors) < 2:
            return {}
        function = {_stem(w) for w in normalize(question).split() if w in FUNCTION_WORDS}
        words = topic_words | function
        q_weight = sum(self._weight(w) for w in words)
        if q_weight <= 0:
            return {}
        best_dice: dict[str, float] = {}
        for faq_id, phrasing in self._phrasings:
            common = sum(self._weight(w) for w in words & phrasing)
            total = q_weight + sum(self._weight(w) for w in phrasing)
            dice = 2 * common / total if total else 0.0
            if dice > best_dice.get(faq_id, -1.0):
                best_dice[faq_id] = dice
        out: dict[str, float] = {}
        for faq_id, dice in best_dice.items():
            vocab = self._entry_words[faq_id]
            coverage = sum(self._weight(w) for w in words if w in vocab) / q_weight
            mixed = self.phrasing_weight * dice + (1 - self.phrasing_weight) * coverage
            out[faq_id] = 100 * mixed
        return out

    def best(self, question: str) -> FaqMatch | None:
        scores = self.scores(question)
        if not scores:
            return None
        faq_id = max(scores, key=lambda k: scores[k])
        match = FaqMatch(faq_id, scores[faq_id])
        return match if match.score >= self.threshold else None
