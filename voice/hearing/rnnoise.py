"""RNNoise: a small recurrent network that takes noise out of speech, before the decoder.

WebRTC's suppressor tracks a stationary noise floor; a kitchen is not stationary (clatter,
a tap, a fan changing speed), and at 6 dB it leaves enough behind for the decoder to hear
the wrong words. RNNoise learnt what speech looks like instead. On the barista dev set it
took the built-in engine from 197 to 226 of all 296 recordings at 6 dB (docs/BENCHMARKS.md).

The library comes from the `pyrnnoise` wheel, loaded with ctypes straight from the wheel's
directory: importing the package itself would pull in matplotlib and PyAV, which only its
file-conversion helpers use. RNNoise runs at 48 kHz on 10 ms frames, so the stage resamples
16 kHz up and back down with streaming resamplers at soxr's quickest quality, which holds
nothing back (its low quality held 25 ms, high 52 ms) and heard more: all 296 barista-dev
orders at 12 / 6 dB, 262 / 226 right against 255 / 220 at low quality.
"""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soxr

from voice.hearing.audio_files import SAMPLE_RATE

RATE = 48_000
FRAME = 480  # RNNoise's fixed frame: 10 ms at 48 kHz
# What comes out lags what went in by this many 16 kHz samples (20 ms), measured on speech;
# the resamplers add none (they hold the newest samples back instead).
RNNOISE_LAG = 320
_LAG_48K = RNNOISE_LAG * RATE // SAMPLE_RATE
# The network runs while the noise floor is above this (dBFS). Barista-dev's clean
# recordings sit near -83 dBFS (median of 60), the same recordings with kitchen noise at
# 30 / 24 / 12 / 6 dB near -58 / -53 / -41 / -36. No physical microphone was measured here.
DEFAULT_FLOOR_DB = -60.0
# What comes out is the network's output plus this share of what went in: a limit on how much
# it takes away (0.3: at most about 10 dB). Taking all it judged noise also took parts of
# words: all 296 barista-dev orders at 12 / 6 dB, 270 / 234 right with none kept, 272 / 245
# with 0.3 (`eval --snr 12 6 --rnnoise-keep K`; docs/BENCHMARKS.md). The voice-activity
# detector hears the network's output alone (process_pair).
DEFAULT_KEEP = 0.3
HYSTERESIS_DB = 6.0
FLOOR_FRAMES = 300  # 3 s of 10 ms frames
# The floor is re-measured every this many frames: it moves slowly, and a percentile of 3 s
# every 10 ms was a quarter of the stage's CPU.
FLOOR_STEP = 10
_FADE = (np.arange(1, FRAME + 1, dtype=np.float32) / FRAME).astype(np.float32)
_LIB_NAMES = ("librnnoise.so", "librnnoise.dylib", "rnnoise.dll")
_FloatPtr = ctypes.POINTER(ctypes.c_float)
_Frame = npt.NDArray[np.float32]


class RNNoiseUnavailable(RuntimeError):
    pass


def library_path() -> Path:
    """Where the pyrnnoise wheel put its library, found without importing the package."""
    spec = importlib.util.find_spec("pyrnnoise")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for name in _LIB_NAMES:
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    raise RNNoiseUnavailable("pyrnnoise is not installed")


_LIB: Any = None


def _library() -> Any:
    global _LIB
    if _LIB is None:
        try:
            lib = ctypes.CDLL(str(library_path()))
        except OSError as err:
            raise RNNoiseUnavailable(f"cannot load RNNoise: {err}") from err
        lib.rnnoise_create.restype = ctypes.c_void_p
        lib.rnnoise_create.argtypes = [ctypes.c_void_p]
        lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
        lib.rnnoise_process_frame.restype = ctypes.c_float
        lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, _FloatPtr, _FloatPtr]
        _LIB = lib
    return _LIB


class RNNoise:
    """Streaming denoiser for 16 kHz 16-bit mono PCM: bytes in, bytes out (a little later).

    The network runs only while the room is noisy: the noise floor (the 10th percentile of
    the last 3 s of 10 ms frame levels) above `floor_db`, and off again 6 dB below it. In a
    quiet room it changed little for the better and some for the worse (flite's "stop"
    scored 0.29 instead of 0.37-0.42, other speech forced onto "hold on" 0.33 instead of
    0.21), and it costs 2.8% of a core (bypassed, 0.45%). Off, the audio passes through
    delayed by the network's own lag, so the stream's timing does not depend on the state;
    a switch fades over one frame. On, the output keeps `keep` of the input (DEFAULT_KEEP).
    """

    def __init__(self, floor_db: float = DEFAULT_FLOOR_DB, keep: float = DEFAULT_KEEP) -> None:
        self._lib = _library()
        self._state = self._lib.rnnoise_create(None)
        self._up = soxr.ResampleStream(SAMPLE_RATE, RATE, 1, dtype="float32", quality="QQ")
        self._down = soxr.ResampleStream(RATE, SAMPLE_RATE, 1, dtype="float32", quality="QQ")
        self._down_kept = soxr.ResampleStream(RATE, SAMPLE_RATE, 1, dtype="float32", quality="QQ")
        self._pending = np.zeros(0, dtype=np.float32)
        self._in = np.zeros(FRAME, dtype=np.float32)
        self._out = np.zeros(FRAME, dtype=np.float32)
        self._in_ptr = self._in.ctypes.data_as(_FloatPtr)
        self._out_ptr = self._out.ctypes.data_as(_FloatPtr)
        self._delayed = np.zeros(_LAG_48K, dtype=np.float32)
        self._levels = np.full(FLOOR_FRAMES, np.nan)
        self._frames = 0
        self._floor = float("nan")
        self._floor_db = floor_db
        self._keep = np.float32(keep)
        self.active = False

    def process(self, pcm: bytes) -> bytes:
        """The output with `keep` of the input in it (what the decoder hears)."""
        return self.process_pair(pcm)[0]

    def process_pair(self, pcm: bytes) -> tuple[bytes, bytes]:
        """The same samples twice: with `keep` of the input in them (for the decoder), and
        the network's output alone (for the voice-activity detector: what is kept of a
        kitchen held it open and had the decoder search noise, 10% -> 18% of a core)."""
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        high = np.concatenate([self._pending, self._up.resample_chunk(samples)])
        whole = len(high) - len(high) % FRAME
        self._pending = high[whole:]
        out = np.empty(whole, dtype=np.float32)
        kept = np.zeros(whole, dtype=np.float32)
        for i in range(0, whole, FRAME):
            out[i : i + FRAME], kept[i : i + FRAME] = self._frame(high[i : i + FRAME])
        clean = _to_pcm(self._down.resample_chunk(out))
        if not self._keep:
            return clean, clean
        return _to_pcm(self._down_kept.resample_chunk(out + kept)), clean

    def _frame(self, frame: npt.NDArray[np.float32]) -> tuple[_Frame, _Frame | float]:
        """One frame out, and what the decoder's version adds to it (`keep` of the input)."""
        line = np.concatenate([self._delayed, frame])
        passed, self._delayed = line[:FRAME], line[FRAME:]
        was = self.active
        self.active = self._noisy(frame)
        if not (was or self.active):
            return passed, 0.0
        self._in[:] = frame
        # RNNoise takes and returns floats on the int16 scale (it returns a speech
        # probability too, which nothing here needs).
        self._lib.rnnoise_process_frame(self._state, self._out_ptr, self._in_ptr)
        # `passed` is the input, aligned with the output.
        if was == self.active:
            return self._out.copy(), self._keep * passed
        fade = _FADE if self.active else _FADE[::-1]
        out = np.asarray(fade * self._out + (1.0 - fade) * passed, dtype=np.float32)
        return out, np.asarray(self._keep * fade * passed, dtype=np.float32)

    def _noisy(self, frame: npt.NDArray[np.float32]) -> bool:
        level = 10.0 * np.log10(float(np.mean(frame.astype(np.float64) ** 2)) / 32768.0**2 + 1e-12)
        self._levels[self._frames % FLOOR_FRAMES] = level
        if self._frames % FLOOR_STEP == 0:
            self._floor = float(np.nanpercentile(self._levels, 10))
        self._frames += 1
        threshold = self._floor_db - (HYSTERESIS_DB if self.active else 0.0)
        return self._floor > threshold

    def close(self) -> None:
        if self._state is not None:
            self._lib.rnnoise_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()


def _to_pcm(samples: npt.NDArray[np.float32]) -> bytes:
    return bytes(np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes())
