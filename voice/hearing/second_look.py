"""A second look: a result rejected for how it was heard is decoded again unprocessed.

In a noisy room RNNoise cleans the audio before the decoder, and it hears most commands
better for it; but it also smears some words the unprocessed audio still carries. The two
miss different recordings: on all 296 barista-dev orders in kitchen noise, the cleaned audio
alone had 206 / 247 right at 6 / 12 dB under the listener's 0.5 confidence floor, and taking
the unprocessed audio's result whenever the cleaned one was rejected added 21 / 22 right
orders for 7 / 1 wrong ones (docs/BENCHMARKS.md). Only a rejection for how it was heard gets a
second look: nothing heard, no sentence of the grammar, too low a confidence, or speech
between the words that none of them took (in noise, mostly a word the search lost). A result
rejected for what it is (talk after a command, the coach's own voice) does not.
"""

from __future__ import annotations

from collections.abc import Callable

from voice.hearing.verify import UNMATCHED, Verdict
from voice.ports import Reconsiders, Transcript

# Verdict reasons that say the audio may have been heard wrong (voice.hearing.verify and
# the listener's confidence floor).
MISHEARD = frozenset({"nothing heard", "not in the allowed templates", "low confidence"})


def misheard(verdict: Verdict) -> bool:
    reason = verdict.reason
    return not verdict.accepted and (reason in MISHEARD or reason.endswith(UNMATCHED))


def with_second_look(
    transcript: Transcript, check: Callable[[Transcript], Verdict], recognizer: object
) -> tuple[Transcript, Verdict]:
    """`transcript` and its verdict, or, when that is rejected as misheard and the recognizer
    can reconsider, its second look's if that one is accepted."""
    verdict = check(transcript)
    if not misheard(verdict) or not isinstance(recognizer, Reconsiders):
        return transcript, verdict
    again = recognizer.reconsider()
    if again is None:
        return transcript, verdict
    second = check(again)
    return (again, second) if second.accepted else (transcript, verdict)
