"""Find where speech starts and ends in a stream (voice-activity gating and endpointing).

The decoder sees only speech plus a little padding: fed kitchen noise, a grammar decoder
will happily "hear" commands in it, and it burns CPU doing so. The VAD is WebRTC's, as
shipped inside PocketSphinx, so this needs no extra package.

WebRTC's VAD alone calls a running kitchen speech: at 24 dB it held one utterance open from
a command through the next one 5 s later, so no command ended and every one was judged as
part of a long stretch of noise. A frame therefore also has to be louder than the recent
noise floor (NoiseFloorGate) by a margin.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from voice.hearing.audio_files import SAMPLE_RATE, Pcm

FRAME_S = 0.03
FRAME_BYTES = int(SAMPLE_RATE * FRAME_S) * 2

VadFn = Callable[[bytes], bool]


@dataclass(frozen=True)
class EndpointSettings:
    trailing_silence_s: float = 0.5  # speech ends after this much non-speech
    # An engine that can tell a finished command (a complete sentence of its grammar that
    # no longer sentence continues, heard with good confidence) may end the utterance after
    # this much silence instead; trailing_silence_s stays the hard limit. 0 = never early.
    # 0.2 -> 0.15 took the latency bench's quiet p50 from 462 to 406 ms; false activations
    # (kitchen 15 dB) hold 8 -> 9, idle 13 -> 13: the VAD must hear silence too.
    early_silence_s: float = 0.15
    # The same for a complete sentence that a longer one of another meaning continues
    # ("stop" / "stop the music", or a slot still to come); 0 = wait for trailing_silence_s
    # (default: a pause inside a command must not cut it in two). A continuation of the same
    # slotless intent ("pause" / "pause the session") does not make it wait.
    continued_silence_s: float = 0.0
    preroll_s: float = 0.3  # audio kept before the detected start (soft onsets)
    start_window_s: float = 0.15  # speech starts when most of this window is speech
    start_ratio: float = 0.7
    max_utterance_s: float = 10.0  # a running tap must not hold the decoder forever
    vad_mode: int = 1  # WebRTC aggressiveness 0..3
    # Speech must also be this much louder than the noise floor (a low percentile of the
    # last noise_window_s); 0 = WebRTC's VAD alone. Kitchen noise, flite commands 3 s apart:
    # 12 dB ended every command at 24 dB and all but one at 15 dB, where the VAD alone ran
    # them together; on clean audio nothing moved by more than 0.1 s.
    noise_margin_db: float = 12.0
    noise_window_s: float = 5.0
    # Between utterances the recognizer processes audio in batches of this much (0: every
    # block as it comes); see StreamingRecognizer._batched.
    idle_batch_s: float = 0.09


class NoiseFloorGate:
    """A VadFn: speech when `vad` says so and the frame is `margin_db` above the noise floor,
    the NOISE_PERCENTILE of the frame levels over the last `window_s`."""

    NOISE_PERCENTILE = 10.0
    # The floor moves slowly: re-measured every few frames, not each (a percentile of 5 s
    # per 30 ms frame was most of the endpointer's CPU).
    FLOOR_STEP = 3

    def __init__(self, vad: VadFn, margin_db: float, window_s: float = 5.0) -> None:
        self._vad = vad
        self._margin = margin_db
        self._levels: collections.deque[float] = collections.deque(
            maxlen=max(1, round(window_s / FRAME_S))
        )
        self._floor = 0.0
        self._frames = 0

    def __call__(self, frame: bytes) -> bool:
        x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        level = 10.0 * float(np.log10(np.mean(x * x) + 1.0))
        self._levels.append(level)
        if self._frames % self.FLOOR_STEP == 0:
            self._floor = float(np.percentile(self._levels, self.NOISE_PERCENTILE))
        self._frames += 1
        floor = self._floor
        speech = self._vad(frame)  # always asked: the VAD adapts to what it hears
        return speech and level >= floor + self._margin


def default_vad(settings: EndpointSettings) -> VadFn:
    vad = webrtc_vad(settings.vad_mode)
    if settings.noise_margin_db <= 0.0:
        return vad
    return NoiseFloorGate(vad, settings.noise_margin_db, settings.noise_window_s)


def webrtc_vad(mode: int) -> VadFn:
    from pocketsphinx import Vad

    vad = Vad(mode)
    if vad.frame_bytes != FRAME_BYTES:  # the library decides; we rely on 30 ms
        raise RuntimeError(f"unexpected VAD frame size {vad.frame_bytes}")

    def is_speech(frame: bytes) -> bool:
        return bool(vad.is_speech(frame))

    return is_speech


@dataclass(frozen=True)
class Event:
    kind: str  # "start" | "audio" | "end"
    pcm: bytes = b""
    # Stream seconds: start of speech for "start", end of speech for "end", end of the
    # frame for "audio".
    time: float = 0.0
    silence_s: float = 0.0  # "audio": the VAD's non-speech run up to the end of this frame


class Endpointer:
    """Feed PCM bytes; get start / audio / end events. Stream time counts every byte fed."""

    def __init__(self, settings: EndpointSettings | None = None, vad: VadFn | None = None):
        self.settings = s = settings or EndpointSettings()
        self._vad = vad or default_vad(s)
        self._pending = b""
        self._pending_detect = b""
        self._frames_seen = 0
        self._preroll: collections.deque[bytes] = collections.deque(
            maxlen=max(1, round(s.preroll_s / FRAME_S))
        )
        self._window: collections.deque[bool] = collections.deque(
            maxlen=max(1, round(s.start_window_s / FRAME_S))
        )
        self._in_speech = False
        self._silent_frames = 0
        self._speech_frames = 0
        self._end_frames = max(1, round(s.trailing_silence_s / FRAME_S))
        self._max_frames = max(1, round(s.max_utterance_s / FRAME_S))

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def time(self) -> float:
        return self._frames_seen * FRAME_S

    def feed(self, pcm: bytes, detect: bytes | None = None) -> Iterator[Event]:
        """Events for `pcm`; speech is detected on `detect` (the same samples, cleaned
        harder) when it is given, else on `pcm` itself."""
        data = self._pending + pcm
        usable = len(data) - len(data) % FRAME_BYTES
        self._pending = data[usable:]
        heard = data
        if detect is not None:
            heard = self._pending_detect + detect
            self._pending_detect = heard[usable:]
        for i in range(0, usable, FRAME_BYTES):
            yield from self._frame(data[i : i + FRAME_BYTES], heard[i : i + FRAME_BYTES])

    def cut(self) -> None:
        """The engine ended the utterance itself (early endpoint): listen for the next one."""
        self._in_speech = False
        self._silent_frames = 0
        self._preroll.clear()
        self._window.clear()

    def flush(self) -> Iterator[Event]:
        """End of stream: close an open utterance."""
        if self._in_speech:
            if self._pending:
                yield Event("audio", self._pending)
            self._pending = self._pending_detect = b""
            self._in_speech = False
            yield Event("end", time=self.time)

    def _frame(self, frame: bytes, heard: bytes) -> Iterator[Event]:
        self._frames_seen += 1
        speech = self._vad(heard)
        if not self._in_speech:
            self._preroll.append(frame)
            self._window.append(speech)
            needed = self.settings.start_ratio * self._window.maxlen  # type: ignore[operator]
            if speech and sum(self._window) >= needed:
                self._in_speech = True
                self._silent_frames = 0
                self._speech_frames = 0
                start = self.time - len(self._preroll) * FRAME_S
                yield Event("start", b"".join(self._preroll), time=max(0.0, start))
                self._preroll.clear()
                self._window.clear()
            return
        self._speech_frames += 1
        self._silent_frames = 0 if speech else self._silent_frames + 1
        silent = self._silent_frames
        yield Event("audio", frame, time=self.time, silence_s=silent * FRAME_S)
        if not self._in_speech:  # cut() while the audio was handled
            return
        if silent >= self._end_frames or self._speech_frames >= self._max_frames:
            self._in_speech = False
            yield Event("end", time=self.time - silent * FRAME_S)


def speech_span(
    pcm: Pcm,
    settings: EndpointSettings | None = None,
    vad: VadFn | None = None,
    detect: Pcm | None = None,
) -> tuple[int, int] | None:
    """Sample range from the first speech start to the last speech end, padded; None if silent.
    Speech is detected on `detect` (the same samples, cleaned harder) when it is given.

    For whole-file decoding: one file is one command, so pauses inside it must not split it.
    """
    s = settings or EndpointSettings()
    ep = Endpointer(s, vad)
    raw = pcm.astype("<i2").tobytes()
    heard = detect.astype("<i2").tobytes() if detect is not None else None
    first: float | None = None
    last: float | None = None
    for event in [*ep.feed(raw, heard), *ep.flush()]:
        if event.kind == "start" and first is None:
            first = event.time
        elif event.kind == "end":
            last = event.time
    if first is None or last is None:
        return None
    begin = max(0, int(first * SAMPLE_RATE))
    end = min(len(pcm), int((last + s.trailing_silence_s) * SAMPLE_RATE))
    return (begin, end) if end > begin else None


def trim(pcm: Pcm, settings: EndpointSettings | None = None) -> Pcm:
    span = speech_span(pcm, settings)
    if span is None:
        return np.zeros(0, dtype=np.int16)
    return pcm[span[0] : span[1]]
