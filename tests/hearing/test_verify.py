"""Verifier: a sentence's words must fit the time the utterance took (opt-in)."""

from __future__ import annotations

from pathlib import Path

from voice.hearing.grammar import load_intents
from voice.hearing.verify import Verifier
from voice.ports import Transcript

SENTENCES = """
language: en
intents:
  Pause:
    data: [{sentences: ["pause", "hold on [for] a second"]}]
  ReportPain:
    data: [{sentences: ["(ouch|it hurts)"]}]
"""


def _verifier(tmp_path: Path, seconds_per_word: float | None = None) -> Verifier:
    path = tmp_path / "s.yaml"
    path.write_text(SENTENCES, encoding="utf-8")
    return Verifier(load_intents(path), seconds_per_word=seconds_per_word, slack_s=2.5)


def test_talk_forced_onto_a_short_sentence_is_rejected_when_asked(tmp_path: Path) -> None:
    v = _verifier(tmp_path, seconds_per_word=0.8)
    assert v.check(Transcript("ouch", 1.0, start=4.0, end=5.2)).accepted
    assert v.check(Transcript("hold on for a second", 1.0, start=0.0, end=6.0)).accepted
    long = v.check(Transcript("hold on for a second", 1.0, start=0.0, end=10.1))
    assert not long.accepted and long.reason == "too long for its words"
    assert not v.check(Transcript("pause", 1.0, start=2.0, end=6.0)).accepted


def test_off_by_default(tmp_path: Path) -> None:
    v = _verifier(tmp_path)
    assert v.check(Transcript("pause", 1.0, start=0.0, end=10.1)).accepted
