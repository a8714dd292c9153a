"""The features PocketSphinx decodes, computed by PocketSphinx's own front end.

Adaptation statistics must be gathered on exactly what the decoder sees. The Python module
does not hand out its features, but the wheel's library exports the front end (`fe_*`), so
it is called with ctypes on the decoder's own configuration (feat.params included: noise
removal, 25 filters, 130-6800 Hz). The cepstra it returns decode to the same hypothesis and
score as the raw audio does (tests/hearing/adaptation/test_cepstra.py).

The 39-dimensional vector of the model's `1s_c_d_dd` type is then built here: cepstra with
their utterance mean taken away (the engine's CMN is the whole utterance's mean), deltas
over +-2 frames and double deltas over +-1 around +-2, with the edge frames repeated.
"""

from __future__ import annotations

import ctypes
import json
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.hearing.audio_files import Pcm

Cepstra = npt.NDArray[np.float32]
Features = npt.NDArray[np.float64]
_FloatPtr = ctypes.POINTER(ctypes.c_float)
_LIB: Any = None


def _library() -> Any:
    global _LIB
    if _LIB is None:
        import pocketsphinx._pocketsphinx as compiled

        lib = ctypes.CDLL(compiled.__file__)
        lib.ps_config_parse_json.restype = ctypes.c_void_p
        lib.ps_config_parse_json.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.ps_config_free.argtypes = [ctypes.c_void_p]
        lib.fe_init_auto_r.restype = ctypes.c_void_p
        lib.fe_init_auto_r.argtypes = [ctypes.c_void_p]
        lib.fe_free.argtypes = [ctypes.c_void_p]
        lib.fe_start_utt.argtypes = [ctypes.c_void_p]
        lib.fe_process_utt.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.POINTER(_FloatPtr)),
            ctypes.POINTER(ctypes.c_int32),
        ]
        lib.fe_end_utt.argtypes = [ctypes.c_void_p, _FloatPtr, ctypes.POINTER(ctypes.c_int32)]
        lib.fe_free_2d.argtypes = [ctypes.c_void_p]
        _LIB = lib
    return _LIB


class FrontEnd:
    """PocketSphinx's MFCC front end, configured as a given decoder is."""

    def __init__(self, decoder_config: Any) -> None:
        lib = _library()
        settings = json.loads(decoder_config.dumps())
        self.n_cep = int(settings["ncep"])
        self._config = lib.ps_config_parse_json(None, json.dumps(settings).encode())
        if not self._config:
            raise RuntimeError("PocketSphinx rejected its own configuration")
        self._fe = lib.fe_init_auto_r(self._config)
        if not self._fe:
            lib.ps_config_free(self._config)
            raise RuntimeError("PocketSphinx's front end did not start")

    def close(self) -> None:
        if self._fe:
            _library().fe_free(self._fe)
            _library().ps_config_free(self._config)
            self._fe = None

    def cepstra(self, pcm: Pcm) -> Cepstra:
        """One utterance's cepstra, (frames, ncep), as the decoder computes them."""
        lib = _library()
        samples = np.ascontiguousarray(pcm, dtype=np.int16)
        lib.fe_start_utt(self._fe)
        block = ctypes.POINTER(_FloatPtr)()
        n = ctypes.c_int32(0)
        lib.fe_process_utt(self._fe, samples.ctypes.data, samples.size, block, n)
        rows = [np.ctypeslib.as_array(block[i], shape=(self.n_cep,)) for i in range(n.value)]
        out = np.array(rows, dtype=np.float32).reshape(-1, self.n_cep)
        if block:
            lib.fe_free_2d(ctypes.cast(block, ctypes.c_void_p))
        last = (ctypes.c_float * self.n_cep)()
        tail = ctypes.c_int32(0)
        lib.fe_end_utt(self._fe, last, tail)
        if tail.value:
            out = np.vstack([out, np.array(last, dtype=np.float32)])
        return out


def features(cepstra: Cepstra) -> Features:
    """The model's 1s_c_d_dd vector for every frame: (frames, 3 * ncep)."""
    c = cepstra.astype(np.float64) - cepstra.mean(axis=0)
    padded = np.pad(c, ((3, 3), (0, 0)), mode="edge")
    n = len(c)

    def shifted(k: int) -> npt.NDArray[np.float64]:
        return padded[3 + k : 3 + k + n]

    delta = shifted(2) - shifted(-2)
    accel = (shifted(3) - shifted(-1)) - (shifted(1) - shifted(-3))
    return np.hstack([c, delta, accel])
