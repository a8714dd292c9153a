"""A sentence's words must fit the time the utterance took (voice.hearing.verify.drawn_out)."""

from __future__ import annotations

from voice.hearing.verify import drawn_out
from voice.ports import Transcript


def test_talk_forced_onto_a_short_sentence_is_drawn_out() -> None:
    assert not drawn_out(Transcript("ouch", 1.0, start=4.0, end=5.2))
    assert not drawn_out(Transcript("hold on for a second", 1.0, start=0.0, end=6.0))
    assert drawn_out(Transcript("hold on for a second", 1.0, start=0.0, end=10.1))
    assert drawn_out(Transcript("pause", 1.0, start=2.0, end=6.0))


def test_the_allowance_can_be_set() -> None:
    assert not drawn_out(Transcript("pause", 1.0, start=0.0, end=10.1), seconds_per_word=8.0)
