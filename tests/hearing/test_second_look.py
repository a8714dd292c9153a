"""A second look: a result rejected as misheard in a noisy room is decoded again from the
audio as it came in (voice.hearing.second_look, Frontend.raw, PocketSphinx's reconsider)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from voice.fakes import ReconsideringRecognizer
from voice.hearing.audio_files import SAMPLE_RATE, Pcm, chunked
from voice.hearing.frontend import Frontend, FrontendSettings
from voice.hearing.grammar import compile_grammar, load_intents
from voice.hearing.listener import Listener
from voice.hearing.rnnoise import RNNOISE_LAG
from voice.hearing.second_look import misheard, with_second_look
from voice.hearing.verify import Verdict, Verifier
from voice.ports import Transcript

needs_rnnoise = pytest.mark.skipif(
    importlib.util.find_spec("pyrnnoise") is None, reason="pyrnnoise has no wheel here"
)

SENTENCES = """
language: en
intents:
  Pause:
    data: [{sentences: ["pause", "hold on"]}]
  StartRoutine:
    data: [{sentences: ["start the routine"]}]
"""


@pytest.fixture
def intents(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "s.yaml"
    path.write_text(SENTENCES, encoding="utf-8")
    return load_intents(path)


def _noise(seconds: float, level: float, seed: int = 3) -> Pcm:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(SAMPLE_RATE * seconds)) * level).astype(np.int16)


# --- the front end keeps the audio as it came in ---------------------------------------------


def _feed(front: Frontend, pcm: Pcm) -> int:
    """Stream `pcm` in 30 ms chunks; the number of samples that came out."""
    return sum(len(front.process(c)) // 2 for c in chunked(pcm, 30))


@needs_rnnoise
def test_raw_gives_the_input_behind_each_output_sample_while_rnnoise_runs() -> None:
    pcm = _noise(3.0, level=2000.0)
    front = Frontend(FrontendSettings(), keep_raw_s=2.0)
    out = _feed(front, pcm)
    first, last = out - SAMPLE_RATE, out - 100
    raw = front.raw(first, last)
    assert raw is not None
    want = pcm[first - RNNOISE_LAG : last - RNNOISE_LAG].tobytes()
    assert raw == want
    # Older than what is kept, or not out yet: nothing.
    assert front.raw(0, 1000) is None
    assert front.raw(out - 10, out + 500) is None


@needs_rnnoise
def test_raw_pads_the_start_of_the_stream_with_silence() -> None:
    pcm = _noise(1.0, level=2000.0)
    front = Frontend(FrontendSettings(rnnoise_floor_db=-200.0), keep_raw_s=2.0)
    _feed(front, pcm)
    raw = front.raw(0, 1000)
    assert raw is not None
    samples = np.frombuffer(raw, dtype="<i2")
    assert not samples[:RNNOISE_LAG].any()
    assert np.array_equal(samples[RNNOISE_LAG:], pcm[: 1000 - RNNOISE_LAG])


@needs_rnnoise
def test_nothing_is_kept_in_a_quiet_room_or_without_rnnoise() -> None:
    quiet = _noise(2.0, level=3.0)  # about -80 dBFS: RNNoise stays off
    front = Frontend(FrontendSettings(), keep_raw_s=2.0)
    out = _feed(front, quiet)
    assert front.raw(out - SAMPLE_RATE, out - 100) is None
    loud = _noise(2.0, level=2000.0)
    plain = Frontend(FrontendSettings(rnnoise=False), keep_raw_s=2.0)
    out = _feed(plain, loud)
    assert plain.raw(out - SAMPLE_RATE, out - 100) is None
    unkept = Frontend(FrontendSettings())
    out = _feed(unkept, loud)
    assert unkept.raw(out - SAMPLE_RATE, out - 100) is None


# --- which rejections get a second look ------------------------------------------------------


def test_only_a_result_rejected_for_how_it_was_heard_gets_a_second_look(intents) -> None:  # type: ignore[no-untyped-def]
    verifier = Verifier(intents, min_confidence=0.5)
    rec = ReconsideringRecognizer([], [])

    def look(first: Transcript, second: str | None) -> tuple[Transcript, Verdict]:
        rec._pending = second
        return with_second_look(first, verifier.check, rec)

    heard, verdict = look(Transcript("start the routine", 0.3), "start the routine")
    assert verdict.accepted and heard.confidence == 1.0  # low confidence: looked again
    _, verdict = look(Transcript("", 0.0), "pause")
    assert verdict.accepted and verdict.intent == "Pause"  # nothing heard: looked again
    _, verdict = look(Transcript("the start routine", 0.9), "hold on")
    assert verdict.accepted and verdict.intent == "Pause"  # no sentence: looked again
    # A second look that is no better leaves the first verdict.
    heard, verdict = look(Transcript("start the routine", 0.3), "routine the")
    assert not verdict.accepted and verdict.reason == "low confidence"
    assert heard.text == "start the routine"
    # Speech between the words that none took: in noise, mostly a word the search lost.
    _, verdict = look(Transcript("pause", 0.9, unmatched_s=2.0), "hold on")
    assert verdict.accepted and verdict.text == "hold on"
    # Accepted, or rejected for what it is: no second look.
    looked = rec.reconsidered
    heard, verdict = look(Transcript("pause", 0.9), "start the routine")
    assert heard.text == "pause"
    echo = Verdict(False, "pause", "Pause", {}, 0.9, reason="echo of the coach's own speech")
    talk = Verdict(False, "pause", "Pause", {}, 0.9, reason="1.2 s of talk after it")
    assert not misheard(echo) and not misheard(talk)
    assert rec.reconsidered == looked


def test_a_recognizer_that_cannot_reconsider_keeps_its_verdict(intents) -> None:  # type: ignore[no-untyped-def]
    verifier = Verifier(intents, min_confidence=0.5)
    heard, verdict = with_second_look(Transcript("pause", 0.2), verifier.check, object())
    assert heard.text == "pause" and verdict.reason == "low confidence"


# --- the listener ----------------------------------------------------------------------------


class _Chunks:
    def __init__(self, n: int) -> None:
        self._n = n

    def chunks(self) -> Iterator[bytes]:
        yield from (b"\0\0" * 160 for _ in range(self._n))

    def close(self) -> None:
        pass


def _listener(intents, rec: ReconsideringRecognizer, heard: list[str]) -> Listener:  # type: ignore[no-untyped-def]
    return Listener(
        _Chunks(1),
        rec,
        {"idle": {"StartRoutine"}},
        lambda text, conf, at: heard.append(text),
        verifier=Verifier(intents),
        clock=lambda: 100.0,
    )


def test_the_listener_takes_a_second_look_at_its_recognizers_misheard_results(intents) -> None:  # type: ignore[no-untyped-def]
    heard: list[str] = []
    rec = ReconsideringRecognizer(["the start routine"], ["start the routine"])
    listener = _listener(intents, rec, heard)
    listener.start()
    listener.join(5)
    assert heard == ["start the routine"] and rec.reconsidered == 1


def test_no_second_look_over_the_coach_or_for_typed_text(intents) -> None:  # type: ignore[no-untyped-def]
    heard: list[str] = []
    rec = ReconsideringRecognizer(["the start routine"], ["start the routine"])
    listener = _listener(intents, rec, heard)
    listener.handle(Transcript("the start routine"))  # typed, not from the recognizer
    listener.set_speaking("Let's begin.")
    listener.start()
    listener.join(5)
    assert heard == [] and rec.reconsidered == 0


# --- PocketSphinx, on real audio ---------------------------------------------------------------


@pytest.fixture
def noisy_command(flite: Callable[..., Pcm]) -> Pcm:
    """A command after 2 s of loud noise (RNNoise on), the noise going on under it."""
    speech = np.concatenate([np.zeros(SAMPLE_RATE * 2, np.int16), flite("start the routine")])
    speech = np.concatenate([speech, np.zeros(SAMPLE_RATE, np.int16)])
    mixed = speech.astype(np.int32) + _noise(len(speech) / SAMPLE_RATE, level=300.0)
    return np.clip(mixed, -32768, 32767).astype(np.int16)


@needs_rnnoise
def test_pocketsphinx_reconsiders_a_recording_once_and_only_in_noise(
    intents,  # type: ignore[no-untyped-def]
    noisy_command: Pcm,
    flite: Callable[..., Pcm],
) -> None:
    pytest.importorskip("pocketsphinx")
    from voice.hearing.pocketsphinx_engine import PocketSphinxRecognizer

    rec = PocketSphinxRecognizer({"g": compile_grammar(intents, name="g")})
    first = rec.decode(noisy_command)
    again = rec.reconsider()
    assert again is not None
    assert (again.start, again.end) == (first.start, first.end)
    assert again.text == "start the routine"
    assert rec.reconsider() is None  # once
    quiet = np.concatenate([np.zeros(4000, np.int16), flite("pause"), np.zeros(8000, np.int16)])
    rec.decode(quiet)
    assert rec.reconsider() is None  # RNNoise did not run: nothing else to look at


@needs_rnnoise
def test_pocketsphinx_reconsiders_a_live_utterance(intents, noisy_command: Pcm) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pocketsphinx")
    from voice.hearing.pocketsphinx_engine import PocketSphinxRecognizer

    rec = PocketSphinxRecognizer({"g": compile_grammar(intents, name="g")})
    results = []
    for chunk in chunked(noisy_command, 30):
        result = rec.accept(chunk)
        if result is not None and result.text:
            results.append((result, rec.reconsider()))
    assert results, "the command was not heard at all"
    first, again = results[-1]
    assert again is not None and again.text == "start the routine"
    assert (again.start, again.end) == (first.start, first.end)
