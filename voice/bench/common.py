"""Shared pieces: where the cache lives, run sizes, the coach's intents, small statistics."""

from __future__ import annotations

import logging
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

_LOG = logging.getLogger("stretch-coach.bench")

SHARED = Path(os.environ.get("STRETCH_SHARED", "/work/shared"))
KITCHEN = SHARED / "speech" / "noise" / "kitchen.flac"
BARISTA = SHARED / "speech" / "barista-dev"
SEED_DIR = SHARED / "seed"


def repo_root() -> Path:
    """The checkout this package lives in (for .bench/, docs/ and git facts)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists():
            return parent
    return Path.cwd()


def default_cache() -> Path:
    return Path(os.environ.get("STRETCH_BENCH_CACHE", repo_root() / ".bench"))


@dataclass(frozen=True)
class Sizes:
    """How much of everything one run uses. `quick` is a smoke test, not a measurement.

    FULL is sized to finish in about 40 minutes of wall time on a shared 2-core machine: the
    engine decodes at 0.3-1.2 s of CPU per second of audio, so every clip counts. The sizes
    are printed with the figures.
    """

    commands: int  # test sentences (round-robin over the intents)
    heldout_voices: int  # held-out voices used for the acceptance figures
    voices_per_command: int  # each command spoken by this many of them (rotating)
    snrs: tuple[float, ...]  # kitchen SNRs
    reverb_snrs: tuple[float, ...]  # kitchen SNRs with reverberation
    babble_snrs: tuple[float, ...]
    repeats: int  # noise draws per noisy condition (median reported)
    compare_snrs: tuple[float, ...]  # kitchen SNRs for the same-run ratios (clean always)
    compare_commands: int  # clips in the comparison
    fa_seconds: float  # non-command audio per state
    latency_commands: int  # per pass
    latency_passes: int  # per condition (median of the passes reported)
    latency_noise: tuple[float | None, ...]  # None = quiet room, else kitchen SNR
    cost_seconds: float  # listening window per run
    cost_runs: int  # runs per engine (median reported)
    barista_clean_limit: int | None  # recordings for the clean row (None = all 296)
    barista_limit: int | None  # recordings for the noisy rows
    barista_snrs: tuple[float, ...]
    barista_seeds: tuple[int, ...]  # noise draws for the noisy rows (median reported)
    # 0: decode with the shipped MLLR transform, which was adapted on these very recordings
    # (a smoke test). N: adapt on all folds but one, measure on that one, for each of N.
    barista_folds: int = 0


QUICK = Sizes(
    commands=3,
    heldout_voices=1,
    voices_per_command=1,
    snrs=(6.0,),
    reverb_snrs=(),
    babble_snrs=(12.0,),
    repeats=1,
    compare_snrs=(),
    compare_commands=1,
    fa_seconds=15.0,
    latency_commands=2,
    latency_passes=1,
    latency_noise=(None,),
    cost_seconds=4.0,
    cost_runs=1,
    barista_clean_limit=2,
    barista_limit=2,
    barista_snrs=(6.0,),
    barista_seeds=(1234,),
)

FULL = Sizes(
    commands=12,  # one phrasing each of the 12 intents a session depends on most
    heldout_voices=3,
    voices_per_command=1,
    snrs=(24.0, 21.0, 18.0, 15.0, 12.0, 9.0, 6.0),
    reverb_snrs=(24.0, 15.0, 6.0),
    babble_snrs=(12.0,),
    repeats=3,
    compare_snrs=(6.0,),
    compare_commands=6,
    fa_seconds=480.0,
    latency_commands=8,
    latency_passes=3,
    latency_noise=(None, 24.0),
    cost_seconds=15.0,
    cost_runs=3,
    barista_clean_limit=None,
    # Every recording at every SNR: the word-automaton search decodes kitchen noise at
    # about 0.02 s of CPU per audio second, so the whole set costs minutes, not hours.
    barista_limit=None,
    barista_snrs=(24.0, 12.0, 6.0),
    barista_seeds=(1234,),
    barista_folds=2,
)


@dataclass
class Bench:
    """One run: sizes, cache directory, worker count, and where results accumulate."""

    sizes: Sizes
    cache: Path
    jobs: int = 1
    quick: bool = False
    results: dict[str, Any] = field(default_factory=dict)

    def path(self, *parts: str) -> Path:
        p = self.cache.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


@lru_cache(maxsize=1)
def coach_intents() -> Any:
    """The hassil Intents the coach listens with (templates + content lists + FAQ questions)."""
    from intents.templates import build_intents
    from voice.appcontent import get_content

    return build_intents(get_content())


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a p95 of 20 values is a real value)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100.0 * len(ordered)) - 1))
    return float(ordered[k])


def spread(values: Sequence[Any], n: int) -> list[Any]:
    """n items spread evenly over a list (deterministic), all when n >= len."""
    if n >= len(values):
        return list(values)
    if n <= 0:
        return []
    step = len(values) / n
    return [values[int(i * step)] for i in range(n)]


def fmt_pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.1f}%"


def fmt_ms(x: float) -> str:
    return "-" if math.isnan(x) else f"{1000 * x:.0f} ms"
