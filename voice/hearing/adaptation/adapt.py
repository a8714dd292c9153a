"""Estimate the MLLR transform from labelled recordings, decoded by the engine itself.

Each recording is decoded clean; when the engine gets its intent and slots right, its words
are the transcript. That recording, clean and mixed with noise at every SNR asked for (the
benchmark's mixing, with its own seed), is aligned to the words and counted. Decoding and
aligning again under the new transform and re-estimating is one more iteration; the
transforms compose.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from voice.hearing.adaptation.alignment import Aligner
from voice.hearing.adaptation.cepstra import features
from voice.hearing.adaptation.mllr import MllrTransform, estimate, read
from voice.hearing.adaptation.ptm_model import PtmModel, load
from voice.hearing.adaptation.statistics import MllrStats
from voice.hearing.audio_files import Pcm, read_audio
from voice.hearing.engines import EngineSpec
from voice.hearing.evaluate import Item, is_correct
from voice.hearing.grammar import compile_grammar, load_intents
from voice.hearing.noise import mix, rng_for
from voice.hearing.pocketsphinx_engine import PocketSphinxRecognizer, model_dir
from voice.hearing.verify import Verifier

_LOG = logging.getLogger(__name__)
# Not the evaluation's seed (1234): adapting and measuring hear different stretches of noise.
ADAPT_SEED = 4242


@dataclass(frozen=True)
class AdaptJob:
    items: tuple[Item, ...]
    spec: EngineSpec
    sentences: tuple[str, ...]
    noise: str | None = None
    snrs: tuple[float, ...] = ()
    seed: int = ADAPT_SEED


def adapt(
    job: AdaptJob,
    *,
    iterations: int = 1,
    jobs: int = 1,
    report: Callable[[int, MllrStats], None] | None = None,
) -> MllrTransform:
    base = load(model_dir() / "en-us")
    total = MllrTransform.identity(base.n_streams)
    with tempfile.TemporaryDirectory(prefix="stretch-coach-mllr-") as tmp:
        for n in range(iterations):
            current = Path(tmp) / f"iteration-{n}.mllr"
            total.write(current)
            stats = gather(job, current, jobs)
            if report is not None:
                report(n, stats)
            if stats.frames == 0:
                raise ValueError("no recording was decoded right: nothing to adapt on")
            total = total.then(estimate(stats, total.apply(base)))
    return total


def gather(job: AdaptJob, transform: Path, jobs: int = 1) -> MllrStats:
    """Statistics of every usable recording, decoded and aligned under `transform`."""
    jobs = max(1, min(jobs, os.cpu_count() or 1, len(job.items)))
    parts = [replace(job, items=job.items[k::jobs]) for k in range(jobs)]
    if jobs == 1:
        return _gather_part((parts[0], transform))
    with ProcessPoolExecutor(jobs) as pool:
        results = list(pool.map(_gather_part, [(p, transform) for p in parts]))
    total = results[0]
    for r in results[1:]:
        total = total.merge(r)
    return total


def _gather_part(work: tuple[AdaptJob, Path]) -> MllrStats:
    job, transform = work
    intents = load_intents(list(job.sentences))
    grammar = compile_grammar(intents, name="adapt")
    # Correctness needs no confidence: no phone-loop pass.
    decoder = replace(job.spec.decoder, mllr=str(transform), phone_loop_confidence=False)
    rec = PocketSphinxRecognizer({"adapt": grammar}, decoder=decoder, frontend=job.spec.frontend)
    verifier = Verifier(intents)
    aligner = Aligner(model_dir() / "en-us", rec.dictionary, transform)
    model = _transformed(transform)
    noise = read_audio(job.noise) if job.noise else None
    stats = MllrStats.empty(model)
    try:
        for item in job.items:
            pcm = read_audio(item.file)
            heard = rec.decode(pcm)
            verdict = verifier.check(heard)
            if not (verdict.accepted and is_correct(item, verdict.intent, verdict.slots)):
                _LOG.debug("%s: not heard right, left out", item.file.name)
                continue
            takes = [pcm]
            if noise is not None:
                takes += [
                    mix(pcm, noise, s, rng_for(job.seed, s, item.file.name)) for s in job.snrs
                ]
            for take in takes:
                _count(stats, rec, aligner, model, take, heard.text)
    finally:
        aligner.close()
        rec.close()
    return stats


def _transformed(path: Path) -> PtmModel:
    return read(path).apply(load(model_dir() / "en-us"))


def _count(
    stats: MllrStats,
    rec: PocketSphinxRecognizer,
    aligner: Aligner,
    model: PtmModel,
    pcm: Pcm,
    text: str,
) -> None:
    audio = rec.decoder_input(pcm)
    if audio is None or len(audio) == 0:
        return
    frames = aligner.align(audio, text, model)
    if frames is None:
        return
    feats = features(aligner.front.cepstra(audio))
    n = min(len(feats), len(frames.senones))
    stats.add(model, feats[:n], frames.senones[:n], frames.codebooks[:n])
