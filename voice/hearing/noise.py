"""Mix noise into speech the way the Picovoice speech-to-intent benchmark does.

Energy is the maximum over 2048-sample frames (not the mean), so the SNR describes the loudest
stretch of speech against the loudest stretch of noise; the noise comes from a random offset,
and the mix is peak-normalised to half scale. Using their method keeps our figures comparable
with the Rhino numbers they publish.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voice.hearing.audio_files import Pcm

FRAME = 2048
Floats = npt.NDArray[np.float64]


def max_frame_energy(x: Floats, frame_length: int = FRAME) -> float:
    n = x.size // frame_length
    if n == 0:
        return float((x**2).sum())
    frames = x[: n * frame_length].reshape(n, frame_length)
    return float((frames**2).sum(axis=1).max())


def noise_scale(speech: Floats, noise: Floats, snr_db: float) -> float:
    noise_energy = max_frame_energy(noise)
    if noise_energy <= 0.0:
        return 0.0
    return float(np.sqrt(max_frame_energy(speech) / (noise_energy * 10 ** (snr_db / 10.0))))


def mix(speech: Pcm, noise: Pcm, snr_db: float, rng: np.random.Generator) -> Pcm:
    """Return speech + scaled noise at `snr_db`, peak-normalised to 0.5 like the benchmark."""
    s = speech.astype(np.float64) / 32768.0
    n_all = noise.astype(np.float64) / 32768.0
    if n_all.size < s.size:  # loop short noise rather than refuse
        n_all = np.tile(n_all, s.size // max(1, n_all.size) + 1)
    start = int(rng.integers(0, n_all.size - s.size)) if n_all.size > s.size else 0
    n = n_all[start : start + s.size]
    noisy = s + noise_scale(s, n, snr_db) * n
    peak = float(np.max(np.abs(noisy)))
    if peak > 0.0:
        noisy /= 2.0 * peak
    return np.clip(np.round(noisy * 32767.0), -32768, 32767).astype(np.int16)


def rng_for(seed: int, snr_db: float, name: str) -> np.random.Generator:
    """One generator per (file, SNR): results do not depend on order or on --jobs."""
    import zlib

    return np.random.default_rng([seed, int(round(snr_db * 100)), zlib.crc32(name.encode())])
