"""Make clean speech harder: room reverberation (sox) and noise at an SNR (Picovoice method).

Mixing is voice.hearing.noise.mix, the same code `stretch-coach eval` uses, so our figures are
computed like the Rhino ones: noise scaled by the ratio of the maximum 2048-sample frame
energies, taken from a seeded random offset, the mix peak-normalised.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

from voice.hearing.audio_files import Pcm, read_audio, write_wav
from voice.hearing.noise import mix, rng_for

# sox reverb: reverberance 50%, HF damping 50%, room scale 100%, stereo depth 100%,
# pre-delay 20 ms, wet gain 0 dB: a medium living room with hard walls.
REVERB_ARGS = ("reverb", "50", "50", "100", "100", "20", "0")


def reverb(pcm: Pcm, cache: Path) -> Pcm:
    """The clip as heard in a reverberant room (sox, wet + dry, cached)."""
    key = hashlib.sha1(pcm.tobytes() + " ".join(REVERB_ARGS).encode()).hexdigest()[:16]
    path = cache / "reverb" / f"{key}.wav"
    if path.exists():
        return read_audio(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-rev-") as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        write_wav(src, pcm)
        subprocess.run(
            ["sox", str(src), str(dst), *REVERB_ARGS, "channels", "1"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        out = read_audio(dst)
    write_wav(path, out)
    return out


def noisy(pcm: Pcm, noise: Pcm, snr_db: float, seed: int, name: str) -> Pcm:
    return mix(pcm, noise, snr_db, rng_for(seed, snr_db, name))
