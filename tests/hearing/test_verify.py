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


def test_speech_between_the_words_that_no_word_explains_is_rejected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from voice.hearing.grammar import load_intents
    from voice.hearing.verify import Verifier

    path = tmp_path / "s.yaml"
    path.write_text(
        "language: en\nintents:\n  Pause: {data: [{sentences: ['pause']}]}\n", encoding="utf-8"
    )
    verifier = Verifier(load_intents(path))
    assert verifier.check(Transcript("pause", 0.9, unmatched_s=0.05)).accepted
    verdict = verifier.check(Transcript("pause", 0.9, unmatched_s=0.4))
    assert not verdict.accepted and verdict.intent == "Pause"
    assert (
        not Verifier(load_intents(path), max_unmatched_s=0.5)
        .check(Transcript("pause", 0.9, unmatched_s=0.6))
        .accepted
    )


def test_unmatched_speech_is_the_loud_silence_between_and_after_words() -> None:
    import numpy as np

    from voice.hearing.pocketsphinx_engine import _speech_outside_words

    loud = (np.sin(np.arange(16000) / 3.0) * 8000).astype("<i2")
    quiet = np.zeros(16000, dtype="<i2")
    # 0-0.5 s a word, 0.5-1.0 s "silence", 1.0-1.5 s a word, then 0.5 s more
    talk = np.concatenate([loud[:8000], loud[:8000], loud[:8000], loud[:8000]]).tobytes()
    pause = np.concatenate([loud[:8000], quiet[:8000], loud[:8000], quiet[:8000]]).tobytes()
    segs = [("<sil>", 0, 0), ("how", 1, 49), ("<sil>", 50, 99), ("left", 100, 147)]
    between, after = _speech_outside_words(segs, talk)
    assert 0.45 <= between <= 0.5 and 0.45 <= after <= 0.55
    between, after = _speech_outside_words(segs, pause)
    assert between <= 0.02 and after <= 0.03  # real pauses are quiet (windows overlap words)
    assert _speech_outside_words([("<sil>", 0, 40)], talk) == (0.0, 0.0)  # no words
