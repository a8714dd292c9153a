"""Shared helpers for hearing tests: audio made at test time, real recordings when present."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voice.hearing.audio_files import SAMPLE_RATE, Pcm, read_audio
from voice.hearing.endpoint import Endpointer, EndpointSettings
from voice.hearing.grammar import CompiledGrammar, Word
from voice.hearing.streaming import StreamingRecognizer
from voice.ports import Transcript

REPO = Path(__file__).resolve().parents[2]
BARISTA = REPO.parent / "shared" / "speech" / "barista-dev"
KITCHEN = REPO.parent / "shared" / "speech" / "noise" / "kitchen.flac"
BARISTA_SENTENCES = REPO / "bench" / "barista" / "sentences.yaml"

# A small coach grammar for the engine tests: a few commands of two states.
COACH_SENTENCES = """
language: en
intents:
  Pause:
    data: [{sentences: ["pause [the session]", "hold on"]}]
  Stop:
    data: [{sentences: ["stop [the session]", "i am done"]}]
  TimeLeft:
    data: [{sentences: ["how much time is left", "how long [is] left"]}]
  ReportPain:
    data: [{sentences: ["ouch [that hurts]", "that hurts"]}]
  StartRoutine:
    data: [{sentences: ["start [the] {routine} routine"]}]
lists:
  routine:
    values: ["morning", "evening", {"in": "desk break", "out": "desk_break"}]
"""


def silence(seconds: float) -> Pcm:
    return np.zeros(int(SAMPLE_RATE * seconds), dtype=np.int16)


def loud_vad(frame: bytes) -> bool:
    return bool(np.abs(np.frombuffer(frame, dtype="<i2")).max() > 1000)


def tone(seconds: float) -> bytes:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * 440 * t) * 20000).astype("<i2").tobytes()


class StubRecognizer(StreamingRecognizer):
    """The base's side alone: a decoder that hears nothing and says END_TEXT when an
    utterance ends; a loud-sample VAD; the front end passes audio through, counting it."""

    END_TEXT = "heard"

    def __init__(self, endpoint: EndpointSettings | None = None) -> None:
        grammar = CompiledGrammar("a", frozenset({"A"}), Word("done"))
        super().__init__({"a": grammar}, frontend=None, endpoint=endpoint, initial=None)
        self._endpointer = Endpointer(self.endpoint_settings, vad=loud_vad)
        self._frontend.process_pair = self._through  # type: ignore[method-assign]
        self.processed: list[int] = []  # bytes per call that reached the front end
        self.ended = 0

    def _through(self, pcm: bytes) -> tuple[bytes, bytes]:
        self.processed.append(len(pcm))
        return pcm, pcm

    def _decoder_switch(self, name: str) -> None: ...

    def _decoder_reset(self) -> None: ...

    def _decoder_begin(self) -> None: ...

    def _decoder_feed(self, pcm: bytes, at: float) -> Transcript | None:
        return None

    def _decoder_end(self, at: float) -> Transcript:
        self.ended += 1
        return Transcript(self.END_TEXT, end=at)


def _synth(cmd: list[str], out: Path) -> Pcm:
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return read_audio(out)


@pytest.fixture
def flite(tmp_path: Path) -> Callable[..., Pcm]:
    """English speech from flite (PocketSphinx's US model hears it far better than espeak)."""
    exe = shutil.which("flite")
    if exe is None:
        pytest.skip("flite is not installed (apt-get install flite)")
    counter = iter(range(10_000))

    def say(text: str, voice: str = "kal") -> Pcm:
        out = tmp_path / f"flite-{next(counter)}.wav"
        return _synth([exe, "-voice", voice, "-t", text, "-o", str(out)], out)

    return say


@pytest.fixture
def espeak(tmp_path: Path) -> Callable[..., Pcm]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    counter = iter(range(10_000))

    def say(text: str, voice: str = "en-us") -> Pcm:
        out = tmp_path / f"espeak-{next(counter)}.wav"
        return _synth([exe, "-v", voice, "-w", str(out), text], out)

    return say


@pytest.fixture
def barista() -> Path:
    if not (BARISTA / "labels.json").exists():
        pytest.skip(f"real recordings not found at {BARISTA}")
    return BARISTA
