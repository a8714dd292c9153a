"""Command acceptance rate, as the Picovoice speech-to-intent benchmark defines it.

A recording counts as correct only when the intent and every labelled slot value match
(values compared after stripping whitespace, as the benchmark does: its labels carry stray
leading spaces such as " soy milk"). Extra slots the engine found are not errors.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voice.hearing.audio_files import SAMPLE_RATE, AudioError, Pcm, read_audio
from voice.hearing.engines import EngineSpec, FileRecognizer, create
from voice.hearing.grammar import compile_grammar, load_intents
from voice.hearing.noise import mix, rng_for
from voice.hearing.second_look import with_second_look
from voice.hearing.verify import Verifier

_LOG = logging.getLogger(__name__)

DEFAULT_SEED = 1234


@dataclass(frozen=True)
class Item:
    file: Path
    intent: str
    slots: dict[str, str]


@dataclass
class Row:
    condition: str
    correct: int = 0
    total: int = 0
    audio_s: float = 0.0
    cpu_s: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def cpu_per_audio_s(self) -> float:
        return self.cpu_s / self.audio_s if self.audio_s else 0.0


def load_labels(labels: Path, audio_dir: Path, limit: int | None = None) -> list[Item]:
    try:
        data = json.loads(labels.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{labels}: cannot read labels ({err})") from err
    if not isinstance(data, dict):
        raise ValueError(f"{labels}: expected an object of file -> label")
    items: list[Item] = []
    for name in sorted(data):
        label = data[name]
        path = audio_dir / name
        if not path.exists():
            _LOG.warning("labelled file missing: %s", path)
            continue
        slots = {str(k): str(v) for k, v in (label.get("slots") or {}).items()}
        items.append(Item(path, str(label.get("intent")), slots))
    if limit is not None and limit < len(items):
        # Spread the subset over the whole sorted list so quick runs still see many speakers.
        idx = np.linspace(0, len(items) - 1, limit).round().astype(int)
        items = [items[i] for i in sorted(set(idx.tolist()))]
    return items


def is_correct(item: Item, intent: str | None, slots: dict[str, Any]) -> bool:
    if intent != item.intent:
        return False
    for name, want in item.slots.items():
        got = slots.get(name)
        if got is None or str(got).strip() != want.strip():
            return False
    return True


# --- Worker side (one recognizer per process) ------------------------------------------------

_W: dict[str, Any] = {}


def _init_worker(
    spec: EngineSpec, sentences: list[str], noise: str | None, min_confidence: float
) -> None:
    intents = load_intents(sentences)
    grammar = compile_grammar(intents, name="eval")
    _W["rec"] = create(spec, {"eval": grammar})
    _W["verifier"] = Verifier(intents, min_confidence=min_confidence)
    _W["noise"] = read_audio(noise) if noise else None


def _run_one(job: tuple[Item, float | None, int]) -> dict[str, Any]:
    item, snr, seed = job
    rec: FileRecognizer = _W["rec"]
    verifier: Verifier = _W["verifier"]
    pcm: Pcm = read_audio(item.file)
    if snr is not None:
        pcm = mix(pcm, _W["noise"], snr, rng_for(seed, snr, item.file.name))
    t0 = time.process_time()
    transcript, verdict = with_second_look(rec.decode(pcm), verifier.check, rec)
    cpu = time.process_time() - t0
    ok = verdict.accepted and is_correct(item, verdict.intent, verdict.slots)
    return {
        "file": item.file.name,
        "ok": ok,
        "cpu": cpu,
        "audio": len(pcm) / SAMPLE_RATE,
        "text": transcript.text,
        "intent": verdict.intent,
        "slots": verdict.slots,
        "expected": {"intent": item.intent, "slots": item.slots},
    }


def evaluate(
    items: Sequence[Item],
    spec: EngineSpec,
    sentences: Path | Sequence[Path],
    noise: Path | None = None,
    snrs: Sequence[float] = (),
    seed: int = DEFAULT_SEED,
    jobs: int = 1,
    clean: bool = True,
    min_confidence: float = 0.0,
) -> Iterator[Row]:
    """Yield one row per condition: clean first, then each SNR."""
    if snrs and noise is None:
        raise ValueError("--snr needs --noise")
    if noise is not None:
        read_audio(noise)  # fail early and clearly on a bad noise file
    conditions: list[float | None] = ([None] if clean else []) + list(snrs)
    jobs = max(1, min(jobs, os.cpu_count() or 1))
    files = [str(sentences)] if isinstance(sentences, Path) else [str(p) for p in sentences]
    init = (spec, files, str(noise) if noise else None, min_confidence)
    if jobs == 1:
        _init_worker(*init)
        for cond in conditions:
            yield _collect(cond, map(_run_one, [(it, cond, seed) for it in items]))
        return
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=init) as pool:
        for cond in conditions:
            work = [(it, cond, seed) for it in items]
            yield _collect(cond, pool.map(_run_one, work, chunksize=4))


def _collect(cond: float | None, results: Iterator[dict[str, Any]]) -> Row:
    row = Row("clean" if cond is None else f"{cond:g} dB")
    for r in results:
        row.total += 1
        row.audio_s += r["audio"]
        row.cpu_s += r["cpu"]
        if r["ok"]:
            row.correct += 1
        else:
            row.failures.append(r)
    _LOG.info("%s: %d/%d", row.condition, row.correct, row.total)
    return row


def format_table(rows: Sequence[Row]) -> str:
    lines = [
        f"{'condition':<10} {'correct':>8} {'total':>6} {'accept %':>9} {'cpu/audio s':>12}",
    ]
    for row in rows:
        lines.append(
            f"{row.condition:<10} {row.correct:>8} {row.total:>6} "
            f"{100 * row.rate:>8.1f}% {row.cpu_per_audio_s:>12.3f}"
        )
    return "\n".join(lines)


__all__ = [
    "AudioError",
    "Item",
    "Row",
    "evaluate",
    "format_table",
    "is_correct",
    "load_labels",
]
