"""False activations: speech with no command in it, fed to the listener in the hold and idle states.

The stream is the seed article, the FAQ answers and unrelated sentences (the out-of-domain test
sentences: weather, music, timers, smart home, chit-chat), read by all corpus voices in turn
with short pauses, and mixed with kitchen noise at 15 dB (Picovoice method). It is cut into
segments of whole sentences (`SEGMENT_S` each, each with its own noise draw); every segment
goes through the listener's real parts (`compile_state_grammars`, the engine, `Verifier`,
`Listener` with the confidence floor, wired as `build_listener` wires them) held in one state,
as fast as the CPU allows. Every accepted result is a false activation.

The recognizer is built once per worker and reset between segments (building it costs more
than decoding a segment). A segment whose decoding stalls (see voice.bench.pool) is reported
and left out of the hours; the figure is fired / hours actually listened.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from voice.bench.common import KITCHEN, Bench
from voice.bench.corpus import HELDOUT_VOICES, TUNE_VOICES, out_of_domain_sentences, synth
from voice.bench.pool import TimedOut, TimedPool
from voice.hearing.audio_files import SAMPLE_RATE, Pcm, read_audio, write_wav

_LOG = logging.getLogger("stretch-coach.bench")

NOISE_SNR = 15.0
STATES = ("hold", "idle")
SEGMENT_S = 30.0


def fa_spec() -> Any:
    """The engine exactly as `run` builds it by default (PocketSphinx, product settings)."""
    from voice.hearing.engines import EngineSpec

    return EngineSpec(engine="pocketsphinx")


def texts() -> list[str]:
    from voice.appcontent import get_content
    from voice.bench.babble import seed_paragraphs

    content = get_content()
    out: list[str] = []
    out += seed_paragraphs()
    out += [entry.answer for entry in content.faq.values()]
    out += out_of_domain_sentences()
    return out


def segments(bench: Bench, seconds: float) -> list[Path]:
    """Build (or reuse) ceil(seconds / SEGMENT_S) segments of non-command speech plus noise."""
    n = max(1, math.ceil(seconds / SEGMENT_S))
    paths = [bench.path("fa", f"seg-{int(SEGMENT_S)}s-{i:03d}.wav") for i in range(n)]
    if all(p.exists() for p in paths):
        return paths
    voices = HELDOUT_VOICES + TUNE_VOICES
    rng = np.random.default_rng(7)
    all_texts = texts()
    noise = read_audio(KITCHEN)
    from voice.bench.degrade import noisy

    i = 0
    for k, path in enumerate(paths):
        pieces: list[Pcm] = []
        have = 0
        target = int(SEGMENT_S * SAMPLE_RATE)
        while have < target:
            text = all_texts[i % len(all_texts)]
            voice = voices[i % len(voices)]
            i += 1
            pcm = synth(text, voice, bench.cache)
            if have and have + len(pcm) > target * 1.3:
                break  # whole sentences only: stop rather than run far past the length
            gap = np.zeros(int(rng.uniform(0.3, 1.5) * SAMPLE_RATE), np.int16)
            pieces += [pcm, gap]
            have += len(pcm) + len(gap)
        if not path.exists():
            write_wav(path, noisy(np.concatenate(pieces), noise, NOISE_SNR, 99 + k, path.name))
    _LOG.info("false-activation stream: %d segments of ~%.0f s", n, SEGMENT_S)
    return paths


# --- worker ------------------------------------------------------------------------------

_W: dict[str, Any] = {}


def _init() -> None:
    from voice.bench.common import coach_intents
    from voice.hearing.engines import create
    from voice.hearing.grammar import compile_state_grammars
    from voice.hearing.listener import BARGE_IN, DEFAULT_STATE_INTENTS
    from voice.hearing.verify import Verifier

    intents = coach_intents()
    states = dict(DEFAULT_STATE_INTENTS)
    _W["states"] = states
    _W["rec"] = create(fa_spec(), compile_state_grammars(intents, states, always=BARGE_IN))
    _W["verifier"] = Verifier(intents)


def _listen(job: tuple[str, str]) -> dict[str, Any]:
    from voice.hearing.audio_files import FileAudioSource
    from voice.hearing.listener import BARGE_IN, DEFAULT_MIN_CONFIDENCE, Listener

    state, wav = job
    rec = _W["rec"]
    rec.reset()
    source = FileAudioSource(wav)
    heard: list[dict[str, Any]] = []
    rejected = [0]
    listener = Listener(
        source,
        rec,
        _W["states"],
        lambda text, conf, end: heard.append({"text": text, "conf": round(conf, 3)}),
        verifier=_W["verifier"],
        barge_in=BARGE_IN,
        initial_state=state,
        on_rejected=lambda v: rejected.__setitem__(0, rejected[0] + 1),
        min_confidence=DEFAULT_MIN_CONFIDENCE,
    )
    c0 = time.process_time()
    listener.start()
    listener.join()
    if listener.error is not None:
        raise RuntimeError(f"listener failed: {listener.error}")
    return {
        "state": state,
        "segment": Path(wav).name,
        "audio_s": source.duration,
        "heard": heard,
        "rejected_results": rejected[0],
        "cpu_s": time.process_time() - c0,
    }


def _limit(job: tuple[str, str]) -> float:
    # Listening costs 0.1-0.5 s of CPU per audio second here; a stalled search runs for minutes.
    return 20.0 + 1.5 * SEGMENT_S


def run(bench: Bench) -> dict[str, Any]:
    started = time.monotonic()
    paths = segments(bench, bench.sizes.fa_seconds)
    work = [(state, str(p)) for state in STATES for p in paths]
    pool: TimedPool[tuple[str, str]] = TimedPool(
        _listen, _limit, workers=bench.jobs, init=_init, label="false-activations"
    )
    raw = pool.map(work)
    results = []
    for state in STATES:
        mine = [(job, r) for job, r in zip(work, raw, strict=True) if job[0] == state]
        done = [r for _, r in mine if isinstance(r, dict)]
        stalled = [Path(job[1]).name for job, r in mine if isinstance(r, TimedOut)]
        failed = [Path(job[1]).name for job, r in mine if not isinstance(r, dict | TimedOut)]
        audio_s = sum(r["audio_s"] for r in done)
        fired = sum(len(r["heard"]) for r in done)
        hours = audio_s / 3600.0
        results.append(
            {
                "state": state,
                "segments": len(mine),
                "audio_s": audio_s,
                "fired": fired,
                "heard": [h for r in done for h in r["heard"]][:50],
                "rejected_results": sum(r["rejected_results"] for r in done),
                "cpu_s": round(sum(r["cpu_s"] for r in done), 1),
                "stalled_segments": stalled,
                "failed_segments": failed,
                "per_hour": fired / hours if hours else float("nan"),
                # One-sided 95% upper bound of a Poisson rate (exact for 0 events: 3.0 / hours).
                "per_hour_upper95": _poisson_upper(fired) / hours if hours else float("nan"),
            }
        )
    return {
        "noise": f"kitchen {NOISE_SNR:g} dB",
        "segment_s": SEGMENT_S,
        "engine": "PocketSphinx with the product's defaults, confidence floor 0.5; the "
        "recognizer in the worker's process (the product runs it in a process of its own: "
        "same results)",
        "states": results,
        "wall_s": round(time.monotonic() - started, 1),
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
