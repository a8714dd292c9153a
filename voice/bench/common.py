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
    """How much of everything one run uses. `quick` is a smoke test, not a measurement."""

    commands: int  # test sentences (spread over the intents)
    heldout_voices: int  # held-out voices used for the acceptance figures
    snrs: tuple[float, ...]  # kitchen SNRs
    babble_snrs: tuple[float, ...]
    reverb_snrs: tuple[float, ...]  # with reverberation, kitchen and babble
    repeats: int  # noise draws per condition (median reported)
    compare_snrs: tuple[float, ...]  # conditions for the same-run ratios
    compare_commands: int
    fa_seconds: float  # non-command audio per state
    latency_commands: int
    cost_seconds: float
    barista_limit: int | None
    barista_snrs: tuple[float, ...]
    speech_minutes: float


QUICK = Sizes(
    commands=3,
    heldout_voices=1,
    snrs=(6.0,),
    babble_snrs=(12.0,),
    reverb_snrs=(),
    repeats=1,
    compare_snrs=(),
    compare_commands=1,
    fa_seconds=15.0,
    latency_commands=2,
    cost_seconds=4.0,
    barista_limit=2,
    barista_snrs=(6.0,),
    speech_minutes=0.0,
)

FULL = Sizes(
    # Bounded to about 30 min of CPU on a 2-core machine: the engine decodes at 0.3-2 s of CPU
    # per second of audio, so every clip counts. Sizes are printed with the figures.
    commands=12,
    heldout_voices=3,
    snrs=(24.0, 21.0, 18.0, 15.0, 12.0, 9.0, 6.0),
    babble_snrs=(15.0, 6.0),
    reverb_snrs=(15.0,),
    repeats=2,
    compare_snrs=(6.0,),
    compare_commands=4,
    fa_seconds=600.0,
    latency_commands=12,
    cost_seconds=30.0,
    barista_limit=30,
    barista_snrs=(24.0, 21.0, 18.0, 15.0, 12.0, 9.0, 6.0),
    speech_minutes=1.0,
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
