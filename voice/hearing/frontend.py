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
from voice.hearing.rnnoise import RNNOISE_LAG, RNNoise, RNNoiseUnavailable

_LOG = logging.getLogger(__name__)

FRAME_BYTES = 320  # 10 ms of 16 kHz 16-bit mono


@dataclass(frozen=True)
class FrontendSettings:
    # WebRTC level 0 (off) .. 4 (strongest). Barista-dev, 150 recordings, kitchen noise, with
    # the word-automaton search (`eval --limit 150 --noise-suppression N`): level 1 heard
    # 130 / 99 at 12 / 6 dB, level 2 124 / 91, level 3 110 / 73, off 128 / 87.
    noise_suppression: int = 1
    auto_gain: int = 0  # target dBFS for WebRTC AGC, 0 = off
    rnnoise: bool = True

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

    With `keep_plain_s`, the same audio also goes through WebRTC alone (no RNNoise) and the
    last that many seconds of it are kept: a decoder unsure of what it heard can try that
    version of the utterance too (`plain`). The two versions hear different words wrong.
    """

    def __init__(self, settings: FrontendSettings | None = None, *, keep_plain_s: float = 0.0):
        self.settings = settings or FrontendSettings()
        self._keep_plain_s = keep_plain_s
        self._rnnoise: RNNoise | None = None
        self._build()

    def _build(self) -> None:
        if self._rnnoise is not None:
            self._rnnoise.close()
        self._rnnoise = _rnnoise() if self.settings.rnnoise else None
        self._webrtc = _WebRtc(self.settings) if self.settings.enabled else None
        # Without RNNoise the plain version would be the same audio: none is kept.
        self._keeping = self._keep_plain_s > 0.0 and self._rnnoise is not None
        self._plain = _WebRtc(self.settings) if self._keeping and self.settings.enabled else None
        self._plain_audio = bytearray()
        self._plain_end = 0  # samples the plain version has produced in all

    @property
    def active(self) -> bool:
        webrtc = self._webrtc is not None and self._webrtc.active
        return webrtc or self._rnnoise is not None

    def process(self, pcm: bytes) -> bytes:
        if self._keeping:
            self._keep_plain(self._plain.process(pcm) if self._plain is not None else pcm)
        if self._rnnoise is not None:
            pcm = self._rnnoise.process(pcm)
        return self._webrtc.process(pcm) if self._webrtc is not None else pcm

    def plain(self, first: int, last: int) -> bytes | None:
        """Samples [first, last) of the output stream as the plain version has them, or
        None when it is not kept (no RNNoise, so nothing would differ) or has moved on."""
        if not self._keeping or last <= first:
            return None
        # RNNoise delays its output; the plain version's sample is that much earlier.
        first, last = first - RNNOISE_LAG, last - RNNOISE_LAG
        kept_from = self._plain_end - len(self._plain_audio) // 2
        # Before the stream began there was nothing: silence stands in.
        lead = b"\0\0" * max(0, -first) if kept_from == 0 else b""
        first = max(first, 0) if lead else first
        if first < kept_from or last > self._plain_end or last <= first:
            return None
        return lead + bytes(self._plain_audio[(first - kept_from) * 2 : (last - kept_from) * 2])

    def _keep_plain(self, pcm: bytes) -> None:
        self._plain_audio += pcm
        self._plain_end += len(pcm) // 2
        excess = len(self._plain_audio) - int(self._keep_plain_s * SAMPLE_RATE) * 2
        if excess > 0:
            del self._plain_audio[:excess]

    def reset(self) -> None:
        self._build()


_RNNOISE_WARNED = False


def _rnnoise() -> RNNoise | None:
    global _RNNOISE_WARNED
    try:
        return RNNoise()
    except RNNoiseUnavailable as err:
        if not _RNNOISE_WARNED:
            _LOG.warning("%s; RNNoise is off", err)
            _RNNOISE_WARNED = True
        return None
