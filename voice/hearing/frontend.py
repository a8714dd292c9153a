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

from voice.hearing.audio_files import SAMPLE_RATE
from voice.hearing.rnnoise import (
    DEFAULT_FLOOR_DB,
    DEFAULT_KEEP,
    RNNOISE_LAG,
    RNNoise,
    RNNoiseUnavailable,
)

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
    rnnoise_keep: float = DEFAULT_KEEP  # ... and its output keeps this share of its input

    @property
    def enabled(self) -> bool:
        return self.noise_suppression > 0 or self.auto_gain > 0


class _WebRtc:
    """WebRTC's suppressor and gain on 10 ms frames; a remainder waits for the next call."""

    def __init__(self, settings: FrontendSettings) -> None:
        self._settings = settings
        self._pending = b""
        self._proc: Any = None
        try:
            # Imported by name: the package ships no type information.
            module = importlib.import_module("webrtc_noise_gain")
        except ImportError:
            _LOG.warning("webrtc-noise-gain is not installed; noise suppression is off")
        else:
            self._proc = module.AudioProcessor(settings.auto_gain, settings.noise_suppression)

    @property
    def active(self) -> bool:
        return self._proc is not None

    def process(self, pcm: bytes) -> bytes:
        if self._proc is None:
            return pcm
        data = self._pending + pcm
        usable = len(data) - len(data) % FRAME_BYTES
        self._pending = data[usable:]
        out = bytearray()
        for i in range(0, usable, FRAME_BYTES):
            out += self._proc.Process10ms(data[i : i + FRAME_BYTES]).audio
        return bytes(out)


class Frontend:
    """Streaming noise suppression; `process` returns as many bytes as whole frames allow.

    `process_pair` also returns the same samples for the voice-activity detector: RNNoise's
    output keeps a share of its input for the decoder (FrontendSettings.rnnoise_keep), and
    the detector hears the network's output alone.

    With `keep_raw_s`, the last that many seconds of the audio as it came in are kept while
    RNNoise is in the chain (`raw`): in noise, the unprocessed audio hears some commands
    the cleaned audio misses (voice.hearing.second_look).
    """

    def __init__(self, settings: FrontendSettings | None = None, *, keep_raw_s: float = 0.0):
        self.settings = settings or FrontendSettings()
        self._rnnoise = _rnnoise(self.settings) if self.settings.rnnoise else None
        self._keep_bytes = int(keep_raw_s * SAMPLE_RATE) * 2
        self._raw = bytearray()
        self._raw_end = 0  # samples that came in, in all
        self._out_end = 0  # samples that went out, in all
        self._denoised_to = 0  # output samples up to which RNNoise has been running
        self._build_webrtc()

    def _build_webrtc(self) -> None:
        on = self.settings.enabled
        self._webrtc = _WebRtc(self.settings) if on else None
        two = on and self._rnnoise is not None and self.settings.rnnoise_keep > 0.0
        self._webrtc_detect = _WebRtc(self.settings) if two else None

    @property
    def active(self) -> bool:
        webrtc = self._webrtc is not None and self._webrtc.active
        return webrtc or self._rnnoise is not None

    def process(self, pcm: bytes) -> bytes:
        return self.process_pair(pcm)[0]

    def process_pair(self, pcm: bytes) -> tuple[bytes, bytes]:
        """The cleaned audio for the decoder, and the same samples for the voice-activity
        detector (the same bytes unless RNNoise keeps a share of its input)."""
        detect = pcm
        if self._rnnoise is not None:
            if self._keep_bytes:
                self._keep(pcm)
            was = self._rnnoise.active
            pcm, detect = self._rnnoise.process_pair(pcm)
            if was or self._rnnoise.active:
                self._denoised_to = self._out_end + len(pcm) // 2
        out = pcm if self._webrtc is None else self._webrtc.process(pcm)
        if self._webrtc_detect is not None:
            detect = self._webrtc_detect.process(detect)
        elif detect is pcm:
            detect = out
        self._out_end += len(out) // 2
        return out, detect

    def _keep(self, pcm: bytes) -> None:
        self._raw += pcm
        self._raw_end += len(pcm) // 2
        excess = len(self._raw) - self._keep_bytes
        if excess > 0:
            del self._raw[:excess]

    def raw(self, first: int, last: int) -> bytes | None:
        """Output samples [first, last) as they came in, unprocessed; None unless RNNoise ran
        on some of them and they are still kept. (WebRTC's suppressor moves no sample; RNNoise
        delays them all by its lag.)"""
        if self._rnnoise is None or last <= first or self._denoised_to <= first:
            return None
        first, last = first - RNNOISE_LAG, last - RNNOISE_LAG
        kept_from = self._raw_end - len(self._raw) // 2
        lead = max(0, -first) if kept_from == 0 else 0  # before the stream began: silence
        first += lead
        if first < kept_from or last > self._raw_end or last <= first:
            return None
        return b"\0\0" * lead + bytes(self._raw[(first - kept_from) * 2 : (last - kept_from) * 2])

    def reset(self) -> None:
        self._raw = bytearray()
        self._raw_end = self._out_end = self._denoised_to = 0
        if self._rnnoise is not None:
            self._rnnoise.close()
            self._rnnoise = _rnnoise(self.settings)
        self._build_webrtc()


_RNNOISE_WARNED = False


def _rnnoise(settings: FrontendSettings) -> RNNoise | None:
    global _RNNOISE_WARNED
    try:
        return RNNoise(settings.rnnoise_floor_db, settings.rnnoise_keep)
    except RNNoiseUnavailable as err:
        if not _RNNOISE_WARNED:
            _LOG.warning("%s; RNNoise is off", err)
            _RNNOISE_WARNED = True
        return None
