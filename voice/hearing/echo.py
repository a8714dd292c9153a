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
PLAYING_RMS = 100.0  # int16 RMS of a 10 ms reference frame that counts as the coach playing


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
    tail_s: float = 0.2  # echo path length the filter can model (room + timestamp error)
    margin_s: float = 0.06  # the echo reaches the filter this long after its reference
    slack_s: float = 0.05  # a measured delay this close to the current one needs no reset
    max_hold_s: float = 0.15  # longest wait for the reference to catch up
    residual_suppress_db: int = -40  # Speex residual-echo suppression, coach alone
    residual_suppress_active_db: int = -30  # ... while the person talks over it
    # While the coach plays, a 10 ms frame this far under the microphone's recent peaks
    # after cancellation is the coach's residual alone, and is silenced (EchoGate).
    gate_db: float = -20.0
    gate_hold_s: float = 0.1  # frames after the person's last one are kept (word endings)
    gate_decay_db_s: float = 10.0  # how fast the remembered echo peak fades
    # Seconds of the coach's voice the filter needs after a reset before its measures
    # (`passed`, `echo_share`) can be trusted: in the audio room the first lines of a session
    # kept 16-21% of their energy, against 0-5% once learned.
    settle_s: float = 6.0
    keep_s: float = 4.0  # reference history kept
    history_s: float = 12.0  # output kept to judge a whole utterance (echo_share)


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

    def end(self) -> float | None:
        """The time just after the last sample known, None before anything was played."""
        self._absorb()
        if not len(self._ring):
            return None
        return self._origin + len(self._ring) / SAMPLE_RATE

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
        self._pending_at = 0.0
        self._history = _History(int(self.settings.history_s * SAMPLE_RATE))
        self._gate = EchoGate(self.settings)
        self._mic_timeline = Timeline()
        self._out = np.zeros(FRAME, dtype=np.int16)
        self._linear = np.zeros(FRAME, dtype=np.int16)
        self._lock = threading.Lock()
        self._delay = DelayEstimator(reference.span)
        self._offset = 0.0  # the delay the filter is lined up on
        self._samples = 0  # output samples so far: the stream's clock
        self._played = 0  # samples of the coach's voice since the filter last started over
        self._settled_at: float | None = None  # stream seconds when it had learned enough
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
        new = np.frombuffer(pcm, dtype="<i2").astype(np.int16)
        with self._lock:
            if self._echo is None:
                return pcm
            at, _ = self._mic_timeline.place(at, len(new) / SAMPLE_RATE)
            if self._delay.feed(new, at):
                self._realign()
            if not len(self._pending):
                self._pending_at = at
            mic = np.concatenate([self._pending, new])
            start = self._pending_at
            offset = self._offset + self.settings.margin_s
            whole = self._ready(start + offset, len(mic)) * FRAME
            self._pending = mic[whole:].copy()
            self._pending_at = start + whole / SAMPLE_RATE
            if not whole:
                return b""
            ref = self._reference.span(start + offset, whole)
            out = np.empty(whole, dtype=np.int16)
            linear = np.empty(whole, dtype=np.int16)
            for i in range(0, whole, FRAME):
                self._frame(mic[i : i + FRAME], ref[i : i + FRAME])
                keep = self._gate.keep(mic[i : i + FRAME], self._out, ref[i : i + FRAME])
                out[i : i + FRAME] = self._out if keep else 0
                linear[i : i + FRAME] = self._linear
            self._learn(ref)
            if np.any(ref):
                self._energy_in += float(np.sum(mic[:whole].astype(np.float64) ** 2))
                self._energy_out += float(np.sum(out.astype(np.float64) ** 2))
            self._history.add(linear, ref, mic[:whole], out)
        return out.astype("<i2").tobytes()

    def _learn(self, ref: npt.NDArray[np.int16]) -> None:
        power = _frame_energy(ref) / FRAME
        self._played += int(np.sum(power > PLAYING_RMS**2)) * FRAME
        self._samples += len(ref)
        if self._settled_at is None and self._played >= self.settings.settle_s * SAMPLE_RATE:
            self._settled_at = self._samples / SAMPLE_RATE

    def settled(self, start: float) -> bool:
        """Had the filter learned the room by `start` (seconds of the output stream)?"""
        with self._lock:
            return self._settled_at is not None and start >= self._settled_at

    def playing(self, start: float, end: float) -> float:
        """Share of `start`..`end` (seconds of the output stream) in which the coach played."""
        with self._lock:
            _, ref = self._history.window(start, end)
        if len(ref) < FRAME:
            return 0.0
        power = _frame_energy(ref) / FRAME
        return float(np.mean(power > PLAYING_RMS**2))

    def passed(self, start: float, end: float) -> float | None:
        """Share of the microphone's energy between `start` and `end` (seconds of the output
        stream) that the canceller let through; None when the coach played nothing then.

        The person's voice passes and the coach's echo does not, so a command said over the
        coach keeps a large share (its words are most of the energy), while the coach's
        residual heard alone keeps a tiny one, however the decoder scored its words.
        """
        with self._lock:
            mic, out, played = self._history.energies(start, end)
        if not played or mic <= 0.0:
            return None
        return out / mic

    def echo_share(self, start: float, end: float) -> float | None:
        """How much of what came out between `start` and `end` (seconds of the output
        stream) is the coach's voice left over; None when the coach played nothing then."""
        with self._lock:
            out, ref = self._history.window(start, end)
        lag = int(self.settings.margin_s * SAMPLE_RATE)
        return coherence(out[lag:], ref[: len(ref) - lag]) if len(out) > lag else None

    def _ready(self, ref_start: float, samples: int) -> int:
        """Frames that can be cancelled now: the reference for the last ones may not have
        been played yet (it is fetched a margin ahead), so wait for it, but never long."""
        frames = samples // FRAME
        ref_end = self._reference.end()
        if ref_end is None or ref_end < ref_start - 1.0:
            return frames  # nothing is playing: nothing to wait for
        if samples / SAMPLE_RATE >= self.settings.max_hold_s:
            return frames
        covered = int((ref_end - ref_start) * SAMPLE_RATE) // FRAME
        return max(0, min(frames, covered))

    def _realign(self) -> None:
        delay = self._delay.delay or 0.0
        if abs(delay - self._offset) <= self.settings.slack_s:
            return  # inside the filter's slack: it follows small moves by itself
        _LOG.info("echo: the room hears the speaker %+.0f ms from its timestamps", 1000 * delay)
        self._offset = delay
        self._lib.speex_echo_state_reset(self._echo)
        self._played, self._settled_at = 0, None

    def _frame(self, mic: npt.NDArray[np.int16], ref: npt.NDArray[np.int16]) -> None:
        rec = np.ascontiguousarray(mic)
        play = np.ascontiguousarray(ref)
        self._lib.speex_echo_cancellation(
            self._echo, rec.ctypes.data, play.ctypes.data, self._out.ctypes.data
        )
        self._linear[:] = self._out  # kept to judge echo: the suppressor below is not linear
        self._lib.speex_preprocess_run(self._pre, self._out.ctypes.data)

    def close(self) -> None:
        with self._lock:
            if self._echo is not None:
                _LOG.info("echo canceller: %s dB quieter while the coach spoke", self.reduction_db)
                self._lib.speex_echo_state_destroy(self._echo)
                self._lib.speex_preprocess_state_destroy(self._pre)
                self._echo = None
                self._pre = None


QUIET_FRAME_ENERGY = FRAME * 30.0**2  # a 10 ms frame at int16 RMS 30 (-61 dBFS)


class EchoGate:
    """Silences the frames that are only what is left of the coach's voice.

    Speex's residual suppressor leaves the coach's words 25-45 dB down, and while the person
    talks it holds back less (it cannot tell the two apart), so the end of the coach's line
    leaks on after a "pause" said over it. To the endpointer that leak is more speech: it
    kept the utterance open and the decoder heard "pause" + leak as "close that".

    A frame is the person's when what is left of it is loud next to the loudest the
    microphone heard lately (a peak that fades 10 dB a second: the coach's echo peaks): the
    person's words come within a few dB of those, the residual stays 20-45 dB under them.
    Quiet frames of the coach's speech, and the first of a word after a gap, cannot be judged
    on their own (the filter removes less of them), hence the remembered peak.
    """

    def __init__(self, settings: EchoSettings) -> None:
        self._ratio = 10.0 ** (settings.gate_db / 10.0)
        self._tail = int(settings.tail_s * SAMPLE_RATE) // FRAME
        self._hold = int(settings.gate_hold_s * SAMPLE_RATE) // FRAME
        self._decay = 10.0 ** (-settings.gate_decay_db_s * FRAME / SAMPLE_RATE / 10.0)
        self._peak = 0.0
        self._since_played = self._tail + 1  # frames since the reference last played
        self._held = 0
        self.gated = 0  # frames silenced so far

    def keep(
        self, mic: npt.NDArray[np.int16], out: npt.NDArray[np.int16], ref: npt.NDArray[np.int16]
    ) -> bool:
        loud = float(np.mean(ref.astype(np.float64) ** 2)) >= PLAYING_RMS**2
        self._since_played = 0 if loud else self._since_played + 1
        self._peak = max(float(np.sum(mic.astype(np.float64) ** 2)), self._peak * self._decay)
        if self._since_played > self._tail:
            return True  # the coach is quiet: nothing to take for its echo
        peak = self._peak
        if peak < QUIET_FRAME_ENERGY:
            return True  # next to nothing came in
        if float(np.sum(out.astype(np.float64) ** 2)) >= self._ratio * peak:
            self._held = self._hold
            return True
        if self._held > 0:
            self._held -= 1
            return True
        self.gated += 1
        return False


class _History:
    """The canceller's recent linear output and the reference it was given, by output
    sample, with the energy of its input and final output per 10 ms frame."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._out = np.zeros(0, dtype=np.int16)
        self._ref = np.zeros(0, dtype=np.int16)
        self._mic_energy = np.zeros(0, dtype=np.float64)
        self._final_energy = np.zeros(0, dtype=np.float64)
        self._first = 0  # output sample index of self._out[0]

    def add(
        self,
        out: npt.NDArray[np.int16],
        ref: npt.NDArray[np.int16],
        mic: npt.NDArray[np.int16],
        final: npt.NDArray[np.int16],
    ) -> None:
        self._out = np.concatenate([self._out, out])
        self._ref = np.concatenate([self._ref, ref])
        self._mic_energy = np.concatenate([self._mic_energy, _frame_energy(mic)])
        self._final_energy = np.concatenate([self._final_energy, _frame_energy(final)])
        drop = len(self._out) - self._keep
        if drop > 0:
            drop -= drop % FRAME  # whole frames, so the energies stay lined up
            self._out, self._ref = self._out[drop:], self._ref[drop:]
            self._mic_energy = self._mic_energy[drop // FRAME :]
            self._final_energy = self._final_energy[drop // FRAME :]
            self._first += drop

    def energies(self, start: float, end: float) -> tuple[float, float, bool]:
        """Energy in and out over a span, and whether the coach played in it."""
        _, ref = self.window(start, end)
        a = max(0, int(start * SAMPLE_RATE) - self._first) // FRAME
        b = max(a, int(end * SAMPLE_RATE) - self._first) // FRAME
        heard = float(np.sum(self._mic_energy[a:b]))
        left = float(np.sum(self._final_energy[a:b]))
        played = bool(len(ref)) and bool(
            np.mean(ref.astype(np.float64) ** 2) >= (PLAYING_RMS / 4) ** 2
        )
        return heard, left, played

    def window(
        self, start: float, end: float
    ) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
        a = max(0, int(start * SAMPLE_RATE) - self._first)
        b = max(a, int(end * SAMPLE_RATE) - self._first)
        return self._out[a:b], self._ref[a:b]


def _frame_energy(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
    frames = len(pcm) // FRAME
    squares = pcm[: frames * FRAME].reshape(frames, FRAME).astype(np.float64) ** 2
    energy: npt.NDArray[np.float64] = squares.sum(axis=1)
    return energy


def coherence(
    out: npt.NDArray[np.int16], ref: npt.NDArray[np.int16], frame: int = 1024
) -> float | None:
    """Share of `out`'s energy (200-4000 Hz) that is a linear function of `ref`: magnitude-
    squared coherence weighted by `out`'s spectrum. Near 1: an echo; near 0: another voice.
    None when `ref` is silent (nothing there could be an echo)."""
    n = min(len(out), len(ref))
    if n < frame or np.sqrt(np.mean(ref[:n].astype(np.float64) ** 2)) < 30.0:
        return None
    hop = frame // 2
    window = np.hanning(frame)
    starts = range(0, n - frame + 1, hop)
    x = np.fft.rfft(np.stack([out[i : i + frame] * window for i in starts]), axis=1)
    y = np.fft.rfft(np.stack([ref[i : i + frame] * window for i in starts]), axis=1)
    sxy = np.abs(np.sum(x * np.conj(y), axis=0)) ** 2
    sxx = np.sum(np.abs(x) ** 2, axis=0)
    syy = np.sum(np.abs(y) ** 2, axis=0)
    band = slice(int(200 * frame / SAMPLE_RATE), int(4000 * frame / SAMPLE_RATE))
    c = sxy[band] / (sxx[band] * syy[band] + 1e-12)
    weight = sxx[band]
    return float(np.sum(c * weight) / (np.sum(weight) + 1e-12))
