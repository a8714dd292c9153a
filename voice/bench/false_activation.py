"""False activations: an hour-scale stream of speech that holds no command, fed to the listener.

The stream is the seed article, the FAQ answers and unrelated sentences (the out-of-domain test
sentences: weather, music, timers, smart home, chit-chat), read by all corpus voices in turn
with short pauses, then mixed with kitchen noise at 15 dB (Picovoice method). It goes through
the real pipeline, `voice.hearing.listener.build_listener` (per-state grammar, verification,
confidence floor), once held in the "hold" state and once "idle", as fast as the CPU allows.
Every accepted result is a false activation.
"""

from __future__ import annotations

import logging
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from voice.bench.common import KITCHEN, Bench
from voice.bench.corpus import HELDOUT_VOICES, TUNE_VOICES, out_of_domain_sentences, synth
from voice.hearing.audio_files import SAMPLE_RATE, Pcm, read_audio, write_wav

_LOG = logging.getLogger("stretch-coach.bench")

NOISE_SNR = 15.0
STATES = ("hold", "idle")


def fa_spec() -> Any:
    """Product defaults with bestpath off (too slow for hours of audio; see the cost section)."""
    from voice.hearing.engines import EngineSpec
    from voice.hearing.pocketsphinx_engine import DecoderSettings

    return EngineSpec(engine="pocketsphinx", decoder=replace(DecoderSettings(), bestpath=False))


def texts() -> list[str]:
    from voice.appcontent import get_content
    from voice.bench.babble import seed_paragraphs

    content = get_content()
    out: list[str] = []
    out += seed_paragraphs()
    out += [entry.answer for entry in content.faq.values()]
    out += out_of_domain_sentences()
    return out


def stream(bench: Bench, seconds: float) -> Path:
    """Build (or reuse) the non-command stream of at least `seconds`."""
    path = bench.path(f"fa-stream-{int(seconds)}s.wav")
    if path.exists():
        return path
    pieces: list[Pcm] = []
    have = 0
    voices = HELDOUT_VOICES + TUNE_VOICES
    rng = np.random.default_rng(7)
    all_texts = texts()
    i = 0
    while have < seconds * SAMPLE_RATE:
        text = all_texts[i % len(all_texts)]
        voice = voices[i % len(voices)]
        pcm = synth(text, voice, bench.cache)
        gap = np.zeros(int(rng.uniform(0.3, 1.5) * SAMPLE_RATE), np.int16)
        pieces += [pcm, gap]
        have += len(pcm) + len(gap)
        i += 1
    speech = np.concatenate(pieces)[: int(seconds * SAMPLE_RATE)]
    from voice.bench.degrade import noisy

    mixed = noisy(speech, read_audio(KITCHEN), NOISE_SNR, 99, path.name)
    write_wav(path, mixed)
    _LOG.info("false-activation stream: %.0f s, %d segments -> %s", seconds, i, path)
    return path


def _listen(args: tuple[str, str]) -> dict[str, Any]:
    from voice.bench.common import coach_intents
    from voice.hearing.audio_files import FileAudioSource
    from voice.hearing.listener import build_listener

    state, wav = args
    source = FileAudioSource(wav)
    heard: list[dict[str, Any]] = []
    rejected = [0]
    listener = build_listener(
        source,
        coach_intents(),
        lambda text, conf, end: heard.append({"text": text, "conf": round(conf, 3), "at": end}),
        spec=fa_spec(),
        initial_state=state,
        on_rejected=lambda v: rejected.__setitem__(0, rejected[0] + 1),
    )
    t0, c0 = time.monotonic(), time.process_time()
    listener.start()
    listener.join()
    if listener.error is not None:
        raise RuntimeError(f"listener failed: {listener.error}")
    return {
        "state": state,
        "audio_s": source.duration,
        "fired": len(heard),
        "heard": heard[:50],
        "rejected_results": rejected[0],
        "wall_s": round(time.monotonic() - t0, 1),
        "cpu_s": round(time.process_time() - c0, 1),
    }


def run(bench: Bench) -> dict[str, Any]:
    wav = stream(bench, bench.sizes.fa_seconds)
    n = max(1, min(bench.jobs, len(STATES), os.cpu_count() or 1))
    work = [(state, str(wav)) for state in STATES]
    if n == 1:
        results = [_listen(w) for w in work]
    else:
        with ProcessPoolExecutor(n) as pool:
            results = list(pool.map(_listen, work))
    for r in results:
        hours = r["audio_s"] / 3600.0
        r["per_hour"] = r["fired"] / hours if hours else float("nan")
        # One-sided 95% upper bound of a Poisson rate (exact for 0 events: 3.0 / hours).
        r["per_hour_upper95"] = _poisson_upper(r["fired"]) / hours if hours else float("nan")
    return {
        "noise": f"kitchen {NOISE_SNR:g} dB",
        "engine": "pocketsphinx, bestpath off, phone-loop confidence on, floor 0.5",
        "states": results,
    }


def _poisson_upper(k: int, conf: float = 0.95) -> float:
    """Upper confidence bound for a Poisson mean given k events (chi-square via bisection)."""
    lo, hi = float(k), float(k) + 10.0 * math.sqrt(k + 1) + 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        # P(X <= k | mid)
        term = math.exp(-mid)
        cdf = term
        for i in range(1, k + 1):
            term *= mid / i
            cdf += term
        if cdf > 1 - conf:
            lo = mid
        else:
            hi = mid
    return hi
