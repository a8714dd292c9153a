"""Check a recognizer's final result before anyone acts on it.

A restricted-grammar decoder always answers with *some* sentence of its grammar, and Vosk in
grammar mode gives in-grammar words confidence 1.0 even for out-of-domain speech. So every
final result is parsed again with hassil against the templates allowed in the current state,
and results below a confidence floor are dropped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from hassil import Intents, recognize_best

from voice.hearing.grammar import normalize_words
from voice.ports import Transcript

# The end of the reason given for a result with speech between its words in none of them.
UNMATCHED = "of speech between its words is in none of them"


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    text: str
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "slots": self.slots,
            "confidence": round(self.confidence, 3),
            "accepted": self.accepted,
            "reason": self.reason,
        }


def _subset(intents: Intents, names: Collection[str]) -> Intents:
    return Intents(
        language=intents.language,
        intents={k: v for k, v in intents.intents.items() if k in names},
        slot_lists=intents.slot_lists,
        expansion_rules=intents.expansion_rules,
        skip_words=intents.skip_words,
        settings=intents.settings,
    )


# A restricted-grammar decoder given a long stretch of talk still answers with a sentence of
# its grammar, the rest of the audio absorbed as noise and filler, and PocketSphinx's
# phone-loop confidence does not see it: on the false-activation bench (hold state) 42 of 50
# accepted results were 3-9 words over 8-10 s of talk at confidence 1.0, while the commands
# take well under a second a word.
DEFAULT_SLACK_S = 2.5
DEFAULT_SECONDS_PER_WORD = 0.8
# Speech the result's words do not account for, in one gap between them. Read text that a
# grammar turned into a command leaves the words it skipped in "silence"; a command as said
# leaves at most a breath or a noise. Rejecting above 0.25 s dropped 28 of 70 false
# activations (kitchen 15 dB) and 1 of 128 heard commands (synthetic, 15 dB); on real
# barista orders none of 288 clean and 6 of 122 heard at 12 dB (long orders, with pauses
# the kitchen fills).
DEFAULT_MAX_UNMATCHED_S = 0.25


def drawn_out(
    transcript: Transcript,
    seconds_per_word: float = DEFAULT_SECONDS_PER_WORD,
    slack_s: float = DEFAULT_SLACK_S,
) -> bool:
    """Talk forced onto a short sentence: the utterance took longer than `slack_s` plus
    `seconds_per_word` for each word of the text."""
    words = len(transcript.text.split())
    return transcript.end - transcript.start > slack_s + seconds_per_word * words


class Verifier:
    """Parse text with hassil (optionally restricted to some intents) and apply a floor."""

    def __init__(
        self,
        intents: Intents,
        min_confidence: float = 0.0,
        repair_prefix: bool = True,
        max_unmatched_s: float = DEFAULT_MAX_UNMATCHED_S,
    ) -> None:
        self.intents = intents
        self.min_confidence = min_confidence
        self.repair_prefix = repair_prefix
        self.max_unmatched_s = max_unmatched_s
        self._subsets: dict[frozenset[str], Intents] = {}

    def match(
        self, text: str, allowed: Collection[str] | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        """Intent name and slot values for text, or None when no allowed template matches."""
        pool = self.intents
        if allowed is not None:
            key = frozenset(allowed)
            if key not in self._subsets:
                self._subsets[key] = _subset(self.intents, key)
            pool = self._subsets[key]
        if not text.strip() or not pool.intents:
            return None
        result = recognize_best(text, pool, language=self.intents.language)
        if result is None or result.intent is None:
            return None
        slots = {name: entity.value for name, entity in result.entities.items()}
        return result.intent.name, slots

    def check(self, transcript: Transcript, allowed: Collection[str] | None = None) -> Verdict:
        text = transcript.text.strip()
        conf = transcript.confidence
        if not text:
            return Verdict(False, text, confidence=conf, reason="nothing heard")
        matched = self.match(text, allowed)
        if matched is None and self.repair_prefix:
            # A grammar decoder that runs on into noise returns its best path even when it
            # has not reached the end of a sentence ("... with cream and"). The longest
            # prefix that is a whole sentence is what was said; it costs confidence.
            words = text.split()
            for n in range(len(words) - 1, max(0, len(words) // 2), -1):
                matched = self.match(" ".join(words[:n]), allowed)
                if matched is not None:
                    conf *= n / len(words)
                    text = " ".join(words[:n])
                    break
        if matched is None:
            return Verdict(False, text, confidence=conf, reason="not in the allowed templates")
        intent, slots = matched
        if conf < self.min_confidence:
            return Verdict(False, text, intent, slots, conf, reason="low confidence")
        if transcript.unmatched_s > self.max_unmatched_s:
            why = f"{transcript.unmatched_s:.2f} s {UNMATCHED}"
            return Verdict(False, text, intent, slots, conf, reason=why)
        return Verdict(True, text, intent, slots, conf)


def echoes(heard: str, speaking: str, language: str = "en") -> bool:
    """True when the heard words occur, in order and adjacent, in what the coach is saying.

    That is the signature of the coach hearing itself; a user's own command rarely
    repeats a run of the prompt word for word.
    """
    h = normalize_words(heard, language)
    s = normalize_words(speaking, language)
    if not h or len(h) > len(s):
        return False
    n = len(h)
    return any(s[i : i + n] == h for i in range(len(s) - n + 1))
