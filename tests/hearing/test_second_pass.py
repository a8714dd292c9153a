"""A result the engine is unsure of is decoded again from the front end's plain version."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voice.hearing.audio_files import SAMPLE_RATE, Pcm, chunked
from voice.hearing.frontend import Frontend, FrontendSettings
from voice.hearing.grammar import compile_state_grammars, load_intents
from voice.hearing.pocketsphinx_engine import DecoderSettings, PocketSphinxRecognizer
from voice.hearing.rnnoise import RNNOISE_LAG
from voice.ports import Transcript

from .conftest import COACH_SENTENCES, silence

pytest.importorskip("pocketsphinx")
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyrnnoise") is None, reason="pyrnnoise has no wheel here"
)

STATES = {"hold": {"Pause", "Stop", "TimeLeft"}}


def _stream(front: Frontend, pcm: Pcm) -> bytes:
    return b"".join(front.process(c) for c in chunked(pcm, chunk_ms=30))


def _noise(seconds: float) -> Pcm:
    rng = np.random.default_rng(3)
    return (rng.standard_normal(int(SAMPLE_RATE * seconds)) * 1500).astype(np.int16)


def test_plain_version_lines_up_with_the_cleaned_stream() -> None:
    pcm = _noise(2.0)
    kept = Frontend(FrontendSettings(), keep_plain_s=5.0)
    _stream(kept, pcm)
    plain_only = Frontend(FrontendSettings(rnnoise=False))
    reference = _stream(plain_only, pcm)
    first, last = 8000, 16000  # in samples of the cleaned stream
    got = kept.plain(first, last)
    start = (first - RNNOISE_LAG) * 2
    assert got == reference[start : start + (last - first) * 2]


def test_plain_version_is_kept_only_as_long_as_asked() -> None:
    front = Frontend(FrontendSettings(), keep_plain_s=1.0)
    _stream(front, _noise(3.0))
    assert front.plain(SAMPLE_RATE, 2 * SAMPLE_RATE) is None  # over a second ago
    assert front.plain(int(2.5 * SAMPLE_RATE), int(2.7 * SAMPLE_RATE)) is not None
    assert front.plain(int(2.9 * SAMPLE_RATE), 4 * SAMPLE_RATE) is None  # not yet heard


def test_nothing_is_kept_without_rnnoise_or_when_not_asked() -> None:
    for front in (
        Frontend(FrontendSettings(rnnoise=False), keep_plain_s=5.0),
        Frontend(FrontendSettings()),
    ):
        _stream(front, _noise(1.0))
        assert front.plain(4000, 8000) is None


class _Spy:
    """Records what `_second_pass` was given and what it returned."""

    def __init__(self, rec: PocketSphinxRecognizer) -> None:
        self.calls: list[tuple[Transcript, int, int | None, Transcript]] = []
        original = rec._second_pass

        def spy(first: Transcript, audio: bytes, plain: bytes | None, **kw: Any) -> Transcript:
            result = original(first, audio, plain, **kw)
            self.calls.append((first, len(audio), None if plain is None else len(plain), result))
            return result

        rec._second_pass = spy  # type: ignore[method-assign]


@pytest.fixture
def recognizer(tmp_path: Path) -> Iterator[Callable[[float], PocketSphinxRecognizer]]:
    path = tmp_path / "coach.yaml"
    path.write_text(COACH_SENTENCES, encoding="utf-8")
    grammars = compile_state_grammars(load_intents(path), STATES)
    made: list[PocketSphinxRecognizer] = []

    def make(below: float) -> PocketSphinxRecognizer:
        rec = PocketSphinxRecognizer(
            grammars, decoder=DecoderSettings(second_pass_below=below), initial="hold"
        )
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.close()


def test_an_unsure_file_result_takes_the_surer_of_both_versions(
    recognizer: Callable[[float], PocketSphinxRecognizer], flite: Callable[..., Pcm]
) -> None:
    pcm = np.concatenate([silence(0.4), flite("pause the session"), silence(0.4)])
    once = recognizer(0.0).decode(pcm)
    rec = recognizer(1.01)  # every result is unsure: the plain version is always tried
    spy = _Spy(rec)
    twice = rec.decode(pcm)
    first, audio_len, plain_len, result = spy.calls[-1]
    assert plain_len == audio_len
    assert first.text == once.text and first.confidence == pytest.approx(once.confidence)
    assert twice.confidence == max(first.confidence, twice.confidence)
    assert twice.text == "pause the session"
    # The decoder searches on after a second pass (streaming the plain version through a
    # whole-utterance call once crashed PocketSphinx in the next search).
    assert rec.decode(pcm).text == "pause the session"
    heard = [r.text for c in chunked(pcm, chunk_ms=30) if (r := rec.accept(c)) is not None]
    assert heard + [r.text for r in [rec.flush()] if r is not None] == ["pause the session"]


def test_a_sure_result_is_not_decoded_again(
    recognizer: Callable[[float], PocketSphinxRecognizer], flite: Callable[..., Pcm]
) -> None:
    rec = recognizer(0.6)
    loops: list[int] = []
    original = rec._loop_score

    def counted(audio: bytes) -> float:
        loops.append(len(audio))
        return original(audio)

    rec._loop_score = counted  # type: ignore[method-assign]
    result = rec.decode(
        np.concatenate([silence(0.4), flite("how much time is left"), silence(0.4)])
    )
    assert result.confidence >= 0.6, result
    assert len(loops) == 1  # the phone loop ran once: no second pass


def test_live_utterances_get_the_plain_version_of_the_same_span(
    recognizer: Callable[[float], PocketSphinxRecognizer], flite: Callable[..., Pcm]
) -> None:
    rec = recognizer(1.01)
    spy = _Spy(rec)
    pcm = np.concatenate([silence(1.0), flite("pause the session"), silence(1.0)])
    results = [r for c in chunked(pcm, chunk_ms=30) if (r := rec.accept(c)) is not None]
    assert [r.text for r in results] == ["pause the session"]
    (_, audio_len, plain_len, _), *_ = spy.calls
    assert plain_len == audio_len
