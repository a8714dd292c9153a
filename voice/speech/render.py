"""Text to PCM, before anything plays.

Rendering first means each utterance's exact duration is known before it starts, which is what
lets the scheduler land a count on its second and refuse to start a line that would run into
the next cue. pyttsx3 (espeak-ng) renders far faster than real time, so this costs little.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Pcm:
    """Mono float32 samples in [-1, 1]."""

    samples: Samples
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def to_int16(self) -> npt.NDArray[np.int16]:
        return (np.clip(self.samples, -1.0, 1.0) * 32767.0).astype(np.int16)

    def head(self, seconds: float) -> Pcm:
        """The first `seconds` of audio, with a short fade so a cut does not click."""
        n = max(0, min(len(self.samples), int(round(seconds * self.sample_rate))))
        out = self.samples[:n].copy()
        fade = min(n, int(0.008 * self.sample_rate))
        if fade and n < len(self.samples):
            out[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        return Pcm(out, self.sample_rate)


@dataclass(frozen=True)
class Voice:
    """How to speak: words per minute, volume 0..1, engine voice id (None: engine default)."""

    rate: int = 175
    volume: float = 1.0
    voice: str | None = None


class Renderer(Protocol):
    def render(self, text: str, voice: Voice) -> Pcm: ...


def trim_silence(pcm: Pcm, threshold: float = 0.01, lead: float = 0.002, tail: float = 0.03) -> Pcm:
    """Drop espeak's leading gap and its end-of-sentence pause.

    The leading ~11 ms would make every count late by that much; the ~240 ms trailing pause
    would make a count look longer than it sounds and crowd the next slot.
    """
    loud = np.flatnonzero(np.abs(pcm.samples) > threshold)
    if loud.size == 0:
        return Pcm(pcm.samples[:0], pcm.sample_rate)
    start = max(0, int(loud[0]) - int(lead * pcm.sample_rate))
    end = min(len(pcm.samples), int(loud[-1]) + int(tail * pcm.sample_rate))
    return Pcm(pcm.samples[start:end].copy(), pcm.sample_rate)


class Pyttsx3Renderer:
    """Renders with pyttsx3's ``save_to_file``; use from a single thread.

    espeak-ng keeps global state (one synth callback per process), so one renderer serialises
    all calls behind a lock; the speaker gives it a dedicated thread anyway.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: Any = None
        self._current: Voice | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="stretch-coach-tts-")
        self._n = 0

    def _init_engine(self) -> Any:
        from voice.speech.espeak_setup import ensure_espeak

        ensure_espeak()
        import pyttsx3
        import pyttsx3.drivers.espeak as driver_module

        # The driver prints "Audio saved to ..." on stdout after every file; stdout belongs to
        # the CLI (and to --no-tts lines), so route that chatter to the debug log instead.
        driver_module.print = _quiet_print
        return pyttsx3.init()

    def _apply(self, voice: Voice) -> None:
        if self._current == voice:
            return
        engine = self._engine
        changed = self._current is None or self._current.voice != voice.voice
        if voice.voice is not None and changed:
            try:
                engine.setProperty("voice", voice.voice)
            except (ValueError, KeyError) as exc:
                log.warning("voice %r not available, keeping the default: %s", voice.voice, exc)
        engine.setProperty("rate", int(voice.rate))
        engine.setProperty("volume", float(voice.volume))
        if engine.getProperty("rate") != int(voice.rate):
            # pyttsx3 queues property changes while its driver reports busy; make sure the
            # rate (which "slower"/"faster" depend on) reached espeak before rendering.
            log.debug("pyttsx3 deferred the rate change; setting it again")
            engine.setProperty("rate", int(voice.rate))
        self._current = voice

    def render(self, text: str, voice: Voice) -> Pcm:
        import soundfile as sf

        with self._lock:
            if self._engine is None:
                self._engine = self._init_engine()
                # pyttsx3 2.99's first save_to_file after init sometimes writes nothing for a
                # long text; a throwaway first rendering avoids it.
                self._save("ready")
            self._apply(voice)
            # pyttsx3 2.99's espeak driver writes the file before appending the samples that
            # arrive with espeak's final event, so a file can come out empty; retry, and never
            # accept silence for text that has words.
            for _ in range(3):
                pcm = self._render_once(text, sf)
                if pcm is not None and (pcm.duration >= 0.05 or not _WORD.search(text)):
                    return pcm
            raise RuntimeError(f"pyttsx3 produced no audio for {text[:60]!r}")

    def _render_once(self, text: str, sf: Any) -> Pcm | None:
        path = self._save(text)
        if path is None:
            return None
        data, rate = sf.read(str(path), dtype="float32", always_2d=False)
        path.unlink(missing_ok=True)
        samples = np.asarray(data, dtype=np.float32)
        if samples.ndim > 1:
            samples = samples.mean(axis=1).astype(np.float32)
        return trim_silence(Pcm(samples, int(rate)))

    def _save(self, text: str) -> Path | None:
        self._n += 1
        path = Path(self._tmp.name) / f"u{self._n}.wav"
        self._engine.save_to_file(text, str(path))
        self._engine.runAndWait()
        return path if path.exists() else None

    def close(self) -> None:
        self._tmp.cleanup()


def _quiet_print(*args: object, **_kwargs: object) -> None:
    """Drops the driver's "Audio saved to ..." line: one per rendered line, it buried the
    verbose log (a failing test's log tail showed nothing else)."""


_WORD = re.compile(r"[\w']+")


def estimate_duration(text: str, rate_wpm: int) -> float:
    """Roughly how long a TTS voice takes to say `text` (for --no-tts timing)."""
    words = len(_WORD.findall(text))
    if words == 0:
        return 0.0
    # espeak at 175 wpm says "five" in ~0.36 s and a 14-word sentence in ~3.3 s: about one
    # word per 60/rate seconds plus a little for the first syllable.
    return 0.12 + words * 60.0 / max(40, rate_wpm)


class SilentRenderer:
    """Silent PCM of the estimated length: lets --no-tts share the real scheduling path."""

    def __init__(self, sample_rate: int = 8000) -> None:
        self.sample_rate = sample_rate

    def render(self, text: str, voice: Voice) -> Pcm:
        n = int(math.ceil(estimate_duration(text, voice.rate) * self.sample_rate))
        return Pcm(np.zeros(n, dtype=np.float32), self.sample_rate)


@dataclass
class CachedRenderer:
    """LRU cache in front of a renderer, so counts ("five", "four", ...) render once."""

    inner: Renderer
    max_items: int = 256
    hits: int = 0
    misses: int = 0
    _cache: OrderedDict[tuple[str, Voice], Pcm] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def render(self, text: str, voice: Voice) -> Pcm:
        key = (text, voice)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return hit
        pcm = self.inner.render(text, voice)
        with self._lock:
            self.misses += 1
            self._cache[key] = pcm
            while len(self._cache) > self.max_items:
                self._cache.popitem(last=False)
        return pcm

    def prewarm(self, texts: Iterable[str], voice: Voice) -> None:
        for text in texts:
            self.render(text, voice)


# Rendered at start-up (and after a rate change) so the first hold's counts cost nothing:
# number words and digits, with and without the full stop the coach's lines may carry.
_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
COUNT_WORDS: tuple[str, ...] = (
    _NUMBERS + tuple(f"{i}." for i in range(1, 11)) + tuple(str(i) for i in range(1, 11))
)
