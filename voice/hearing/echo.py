"""Cancel the coach's own voice out of the microphone signal (acoustic echo cancellation).

The coach knows exactly what it plays: the sound card's output is tapped block by block with
the time each block reaches the DAC (`EchoReference`). The microphone stamps each block with
the time it left the ADC, so the canceller can line the two up and subtract an adaptive
estimate of the echo path (Speex's MDF filter, from libspeexdsp, which PulseAudio itself uses
for the same job). What is left is the person's voice, so a "pause" said over a count reaches
the recognizer nearly clean.

Timestamps from audio drivers can be off by far more than the filter's tail, so the offset
between the two timelines is measured from the audio (`echo_delay`), and the reference is
fetched a little ahead of that: the echo then arrives just after its reference, inside the
filter's tail, and the filter finds the exact path itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from voice.hearing.audio_files import SAMPLE_RATE
from voice.hearing.echo_delay import DelayEstimator

_LOG = logging.getLogger(__name__)

FRAME = 160  # 10 ms at 16 kHz: Speex works on fixed frames


class Timeline:
    """Times for a stream of blocks, from counting samples rather than trusting each stamp.

    Driver stamps jitter by tens of ms from block to block, yet a stall (a late callback, a
    dropped buffer) really shifts the audio. So a stamp off the count is believed only when
    the next one agrees, or at once when it is far off.
    """

    def __init__(self, tolerance_s: float = 0.03, jump_s: float = 0.25) -> None:
        self._tolerance = tolerance_s
        self._jump = jump_s
        self._next: float | None = None
        self._suspect = False

    def place(self, at: float, seconds: float) -> tuple[float, float]:
        """(start time of this block, the shift from the count); the shift is 0 unless the
        stream really moved, and `start` is the stamp itself for the first block."""
        shift = 0.0
        if self._next is None:
            start = at
        else:
            off = at - self._next
            if abs(off) > self._jump or (abs(off) > self._tolerance and self._suspect):
                shift = off
                self._suspect = False
            else:
                self._suspect = abs(off) > self._tolerance
            start = self._next + shift
        self._next = start + seconds
        return start, shift


class EchoUnavailable(RuntimeError):
    """The canceller cannot run here (no libspeexdsp); the message is one line for the user."""


class EchoCanceller(Protocol):
    def process(self, pcm: bytes, at: float) -> bytes:
        """Microphone int16 PCM whose first sample left the ADC at `at` (time.monotonic())."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class EchoSettings:
    tail_s: float = 0.15  # echo path length the filter can model (room + timestamp error)
    margin_s: float = 0.04  # the echo reaches the filter this long after its reference
    residual_suppress_db: int = -40  # Speex residual-echo suppression, coach alone
    residual_suppress_active_db: int = -15  # ... while the person talks over it
    keep_s: float = 4.0  # reference history kept


class EchoReference:
    """What the sound card played, resampled to 16 kHz, indexed by time.monotonic().

    `played` runs on the audio callback thread, so it only appends; resampling and indexing
    happen on the microphone worker when it asks for a span (`span`).
    """

    def __init__(self, keep_s: float = 4.0) -> None:
        self._lock = threading.Lock()
        self._incoming: deque[tuple[float, npt.NDArray[np.float32], int]] = deque()
        self._keep = int(keep_s * SAMPLE_RATE)
        self._ring = np.zeros(0, dtype=np.int16)
        self._origin = 0.0  # time of self._ring[0]
        self._rate = 0
        self._resampler: Any = None
        self.blocks = 0
        self.restarts = 0  # timeline restarts (stream reopened, underrun, clock jump)
        self._timeline = Timeline()

    # The PlaybackTap protocol (voice.speech.outputs); called on the audio thread.
    def played(self, at: float, samples: npt.NDArray[np.float32], rate: int) -> None:
        with self._lock:
            self._incoming.append((at, samples, rate))
            if len(self._incoming) > 2000:  # nobody is reading: keep memory bounded
                self._incoming.popleft()

    def span(self, start: float, n: int) -> npt.NDArray[np.int16]:
        """`n` samples of what was played from `start` on; silence where nothing is known."""
        self._absorb()
        out = np.zeros(n, dtype=np.int16)
        if not len(self._ring):
            return out
        first = int(round((start - self._origin) * SAMPLE_RATE))
        lo, hi = max(first, 0), min(first + n, len(self._ring))
        if hi > lo:
            out[lo - first : hi - first] = self._ring[lo:hi]
        return out

    def _absorb(self) -> None:
        with self._lock:
            pending = list(self._incoming)
            self._incoming.clear()
        for at, samples, rate in pending:
            self._append(at, samples, rate)
            self.blocks += 1
        if len(self._ring) > self._keep:
            drop = len(self._ring) - self._keep
            self._ring = self._ring[drop:]
            self._origin += drop / SAMPLE_RATE

    def _append(self, at: float, samples: npt.NDArray[np.float32], rate: int) -> None:
        pcm = self._resample(samples, rate)
        start, shift = self._timeline.place(at, len(samples) / rate)
        if not len(self._ring) or shift < 0.0 or shift > self._keep / SAMPLE_RATE:
            # First block, or the stream restarted earlier than the count: begin again here.
            self._ring, self._origin = pcm, start
            self.restarts += int(bool(len(self._ring)))
            return
        if shift > 0.0:  # a stall: the device played silence meanwhile
            self._ring = np.concatenate([self._ring, np.zeros(int(shift * SAMPLE_RATE), np.int16)])
            self.restarts += 1
        self._ring = np.concatenate([self._ring, pcm])

    def _resample(self, samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.int16]:
        clipped = np.clip(np.nan_to_num(samples), -1.0, 1.0)
        if rate == SAMPLE_RATE:
            return (clipped * 32767).astype(np.int16)
        if rate != self._rate or self._resampler is None:
            import soxr

            self._resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")
            self._rate = rate
        out = self._resampler.resample_chunk(clipped.astype(np.float32))
        return (np.asarray(out, dtype=np.float32) * 32767).astype(np.int16)


# Request codes from speex_echo.h and speex_preprocess.h.
_ECHO_SET_SAMPLING_RATE = 24
_PRE_SET_DENOISE = 0
_PRE_SET_AGC = 2
_PRE_SET_ECHO_SUPPRESS = 20
_PRE_SET_ECHO_SUPPRESS_ACTIVE = 22
_PRE_SET_ECHO_STATE = 24


def _speexdsp() -> Any:
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as err:
        raise EchoUnavailable(
            f"no libspeexdsp ({err}); install the Debian package libspeexdsp1"
        ) from err
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p] + [ctypes.c_void_p] * 3
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_echo_state_reset.argtypes = [ctypes.c_void_p]
    lib.speex_preprocess_state_init.restype = ctypes.c_void_p
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
    return lib


class SpeexCanceller:
    """Speex MDF echo canceller plus its residual-echo suppressor, fed from an EchoReference."""

    def __init__(self, reference: EchoReference, settings: EchoSettings | None = None) -> None:
        self.settings = settings or EchoSettings()
        self._reference = reference
        self._lib = _speexdsp()
        tail = int(self.settings.tail_s * SAMPLE_RATE)
        self._echo = self._lib.speex_echo_state_init(FRAME, tail)
        self._pre = self._lib.speex_preprocess_state_init(FRAME, SAMPLE_RATE)
        if not self._echo or not self._pre:
            raise EchoUnavailable("libspeexdsp could not create its echo canceller")
        self._ctl(self._lib.speex_echo_ctl, self._echo, _ECHO_SET_SAMPLING_RATE, SAMPLE_RATE)
        # Only the echo suppression of the preprocessor: noise and gain are WebRTC's job later.
        self._ctl(self._lib.speex_preprocess_ctl, self._pre, _PRE_SET_DENOISE, 0)
        self._ctl(self._lib.speex_preprocess_ctl, self._pre, _PRE_SET_AGC, 0)
        s = self.settings
        self._ctl(self._lib.speex_preprocess_ctl, self._pre, _PRE_SET_ECHO_SUPPRESS,
                  s.residual_suppress_db)  # fmt: skip
        self._ctl(self._lib.speex_preprocess_ctl, self._pre, _PRE_SET_ECHO_SUPPRESS_ACTIVE,
                  s.residual_suppress_active_db)  # fmt: skip
        self._lib.speex_preprocess_ctl(self._pre, _PRE_SET_ECHO_STATE, ctypes.c_void_p(self._echo))
        self._pending = np.zeros(0, dtype=np.int16)
        self._mic_timeline = Timeline()
        self._out = np.zeros(FRAME, dtype=np.int16)
        self._lock = threading.Lock()
        self._delay = DelayEstimator(reference.span)
        self._offset = 0.0  # the delay the filter is lined up on
        self._energy_in = 0.0  # microphone energy while the coach plays ...
        self._energy_out = 0.0  # ... and what is left of it

    @property
    def reduction_db(self) -> float | None:
        """How much quieter the signal got while the coach played (echo return loss
        enhancement, the person's voice included); None before the coach has played."""
        if self._energy_in <= 0.0 or self._energy_out <= 0.0:
            return None
        return float(10.0 * np.log10(self._energy_in / self._energy_out))

    @staticmethod
    def _ctl(fn: Any, state: int, request: int, value: int) -> None:
        arg = ctypes.c_int(value)
        fn(state, request, ctypes.byref(arg))

    def process(self, pcm: bytes, at: float) -> bytes:
        mic = np.frombuffer(pcm, dtype="<i2").astype(np.int16)
        with self._lock:
            if self._echo is None:
                return pcm
            at, _ = self._mic_timeline.place(at, len(mic) / SAMPLE_RATE)
            if len(self._pending):
                mic = np.concatenate([self._pending, mic])
                at -= len(self._pending) / SAMPLE_RATE
            whole = len(mic) - len(mic) % FRAME
            self._pending = mic[whole:].copy()
            if not whole:
                return b""
            if self._delay.feed(mic[:whole], at):
                self._realign()
            offset = self._offset + self.settings.margin_s
            ref = self._reference.span(at + offset, whole)
            out = np.empty(whole, dtype=np.int16)
            for i in range(0, whole, FRAME):
                self._frame(mic[i : i + FRAME], ref[i : i + FRAME])
                out[i : i + FRAME] = self._out
            if np.any(ref):
                self._energy_in += float(np.sum(mic[:whole].astype(np.float64) ** 2))
                self._energy_out += float(np.sum(out.astype(np.float64) ** 2))
        return out.astype("<i2").tobytes()

    def _realign(self) -> None:
        delay = self._delay.delay or 0.0
        if abs(delay - self._offset) <= self.settings.margin_s / 2:
            return  # inside the filter's slack: it follows small moves by itself
        _LOG.info("echo: the room hears the speaker %+.0f ms from its timestamps", 1000 * delay)
        self._offset = delay
        self._lib.speex_echo_state_reset(self._echo)

    def _frame(self, mic: npt.NDArray[np.int16], ref: npt.NDArray[np.int16]) -> None:
        rec = np.ascontiguousarray(mic)
        play = np.ascontiguousarray(ref)
        self._lib.speex_echo_cancellation(
            self._echo, rec.ctypes.data, play.ctypes.data, self._out.ctypes.data
        )
        self._lib.speex_preprocess_run(self._pre, self._out.ctypes.data)

    def close(self) -> None:
        with self._lock:
            if self._echo is not None:
                _LOG.info("echo canceller: %s dB quieter while the coach spoke", self.reduction_db)
                self._lib.speex_echo_state_destroy(self._echo)
                self._lib.speex_preprocess_state_destroy(self._pre)
                self._echo = None
                self._pre = None
