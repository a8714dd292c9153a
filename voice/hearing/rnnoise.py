"""RNNoise: a small recurrent network that takes noise out of speech, before the decoder.

WebRTC's suppressor tracks a stationary noise floor; a kitchen is not stationary (clatter,
a tap, a fan changing speed), and at 6 dB it leaves enough behind for the decoder to hear
the wrong words. RNNoise learnt what speech looks like instead. On the barista dev set it
took the built-in engine from 197 to 220 of all 296 recordings at 6 dB (docs/BENCHMARKS.md).

The library comes from the `pyrnnoise` wheel, loaded with ctypes straight from the wheel's
directory: importing the package itself would pull in matplotlib and PyAV, which only its
file-conversion helpers use. RNNoise runs at 48 kHz on 10 ms frames, so the stage resamples
16 kHz up and back down with streaming resamplers (soxr, low quality: 25 ms of delay in all,
against 52 ms at high quality; the band above 8 kHz it would improve is discarded anyway).
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soxr

from voice.hearing.audio_files import SAMPLE_RATE

_LOG = logging.getLogger(__name__)

RATE = 48_000
FRAME = 480  # RNNoise's fixed frame: 10 ms at 48 kHz
_LIB_NAMES = ("librnnoise.so", "librnnoise.dylib", "rnnoise.dll")
_FloatPtr = ctypes.POINTER(ctypes.c_float)


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
    """Streaming denoiser for 16 kHz 16-bit mono PCM: bytes in, bytes out (a little later)."""

    def __init__(self) -> None:
        self._lib = _library()
        self._state = self._lib.rnnoise_create(None)
        self._up = soxr.ResampleStream(SAMPLE_RATE, RATE, 1, dtype="float32", quality="LQ")
        self._down = soxr.ResampleStream(RATE, SAMPLE_RATE, 1, dtype="float32", quality="LQ")
        self._pending = np.zeros(0, dtype=np.float32)
        self._in = np.zeros(FRAME, dtype=np.float32)
        self._out = np.zeros(FRAME, dtype=np.float32)
        self._in_ptr = self._in.ctypes.data_as(_FloatPtr)
        self._out_ptr = self._out.ctypes.data_as(_FloatPtr)
        self.speech_probability = 0.0

    def process(self, pcm: bytes) -> bytes:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        high = np.concatenate([self._pending, self._up.resample_chunk(samples)])
        whole = len(high) - len(high) % FRAME
        self._pending = high[whole:]
        cleaned = np.empty(whole, dtype=np.float32)
        for i in range(0, whole, FRAME):
            self._in[:] = high[i : i + FRAME]
            # RNNoise takes and returns floats on the int16 scale.
            self.speech_probability = self._lib.rnnoise_process_frame(
                self._state, self._out_ptr, self._in_ptr
            )
            cleaned[i : i + FRAME] = self._out
        return _to_pcm(self._down.resample_chunk(cleaned))

    def close(self) -> None:
        if self._state is not None:
            self._lib.rnnoise_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()


def _to_pcm(samples: npt.NDArray[np.float32]) -> bytes:
    return bytes(np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes())
