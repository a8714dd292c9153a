"""Clean the signal before the decoder sees it: RNNoise, then WebRTC noise suppression and gain.

RNNoise (voice.hearing.rnnoise) removes most of a kitchen; WebRTC's suppressor at a low level
then evens out what is left. WebRTC's suppressor (the `webrtc-noise-gain` package, which
wyoming-satellite uses) works on 10 ms frames, so the stage buffers any remainder between
calls. Without either package the stage passes audio through and says so once: the engine
still works, only worse in noise.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

from voice.hearing.rnnoise import DEFAULT_FLOOR_DB, RNNoise, RNNoiseUnavailable

_LOG = logging.getLogger(__name__)

FRAME_BYTES = 320  # 10 ms of 16 kHz 16-bit mono


@dataclass(frozen=True)
class FrontendSettings:
    # WebRTC level 0 (off) .. 4 (strongest). Barista-dev, 150 recordings, kitchen noise, with
    # the word-automaton search and no RNNoise (`eval --limit 150 --noise-suppression N`):
    # level 1 heard 130 / 99 at 12 / 6 dB, level 2 124 / 91, level 3 110 / 73, off 128 / 87.
    noise_suppression: int = 1
    auto_gain: int = 0  # target dBFS for WebRTC AGC, 0 = off
    # All 296 barista-dev recordings at 12 / 6 dB: 262 / 226 right with RNNoise, 252 / 197
    # without (`eval --snr 12 6 [--no-rnnoise]`), for 2.8% of a core while it runs.
    rnnoise: bool = True
    rnnoise_floor_db: float = DEFAULT_FLOOR_DB  # ... while the noise floor is above this

    @property
    def enabled(self) -> bool:
        return self.noise_suppression > 0 or self.auto_gain > 0


class Frontend:
    """Streaming noise suppression; `process` returns as many bytes as whole frames allow."""

    def __init__(self, settings: FrontendSettings | None = None) -> None:
        self.settings = settings or FrontendSettings()
        self._pending = b""
        self._proc: Any = None
        self._rnnoise = _rnnoise(self.settings) if self.settings.rnnoise else None
        if self.settings.enabled:
            try:
                # Imported by name: the package ships no type information.
                module = importlib.import_module("webrtc_noise_gain")
            except ImportError:
                _LOG.warning("webrtc-noise-gain is not installed; noise suppression is off")
            else:
                self._proc = module.AudioProcessor(
                    self.settings.auto_gain, self.settings.noise_suppression
                )

    @property
    def active(self) -> bool:
        return self._proc is not None or self._rnnoise is not None

    def process(self, pcm: bytes) -> bytes:
        if self._rnnoise is not None:
            pcm = self._rnnoise.process(pcm)
        if self._proc is None:
            return pcm
        data = self._pending + pcm
        usable = len(data) - len(data) % FRAME_BYTES
        self._pending = data[usable:]
        out = bytearray()
        for i in range(0, usable, FRAME_BYTES):
            out += self._proc.Process10ms(data[i : i + FRAME_BYTES]).audio
        return bytes(out)

    def reset(self) -> None:
        self._pending = b""
        if self._rnnoise is not None:
            self._rnnoise.close()
            self._rnnoise = _rnnoise(self.settings)
        if self._proc is not None:
            self._proc = type(self._proc)(self.settings.auto_gain, self.settings.noise_suppression)


_RNNOISE_WARNED = False


def _rnnoise(settings: FrontendSettings) -> RNNoise | None:
    global _RNNOISE_WARNED
    try:
        return RNNoise(settings.rnnoise_floor_db)
    except RNNoiseUnavailable as err:
        if not _RNNOISE_WARNED:
            _LOG.warning("%s; RNNoise is off", err)
            _RNNOISE_WARNED = True
        return None
