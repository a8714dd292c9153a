"""Babble noise: several synthetic voices reading the seed article at once (a room of talk)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from voice.bench.common import SEED_DIR
from voice.bench.corpus import SynthVoice, synth
from voice.hearing.audio_files import SAMPLE_RATE, Pcm, read_audio, write_wav

_LOG = logging.getLogger("stretch-coach.bench")

# Talkers of the babble: none of them is a held-out or tuning voice of the command corpus.
BABBLE_VOICES: tuple[SynthVoice, ...] = (
    SynthVoice("espeak", "en-us+m5", 165),
    SynthVoice("espeak", "en-gb-x-rp+f1", 175),
    SynthVoice("espeak", "en-gb-x-gbclan+m2", 155),
    SynthVoice("espeak", "en-us+f5", 185),
)


def seed_paragraphs() -> list[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEED_DIR.glob("*.txt")))
    return [p.strip() for p in text.split("\n") if len(p.split()) >= 8]


def babble(cache: Path, seconds: float = 60.0) -> Pcm:
    """`seconds` of 4 talkers, each from a different paragraph, summed (cached)."""
    path = cache / f"babble-{int(seconds)}s.wav"
    if path.exists():
        return read_audio(path)
    paragraphs = seed_paragraphs()
    n = int(seconds * SAMPLE_RATE)
    total = np.zeros(n, np.float64)
    for i, voice in enumerate(BABBLE_VOICES):
        track: list[Pcm] = []
        have = 0
        j = i * max(1, len(paragraphs) // len(BABBLE_VOICES))
        while have < n:
            pcm = synth(paragraphs[j % len(paragraphs)], voice, cache)
            track.append(pcm)
            have += len(pcm)
            j += 1
        x = np.concatenate(track)[:n].astype(np.float64)
        x /= max(1.0, float(np.sqrt(np.mean(x**2))))  # equal loudness per talker
        total += x
    total *= 0.5 * 32767.0 / max(1e-9, float(np.max(np.abs(total))))
    out = total.astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, out)
    _LOG.info("babble: %d talkers, %.0f s -> %s", len(BABBLE_VOICES), seconds, path)
    return out
