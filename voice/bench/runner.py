"""Run the chosen sections, merge with earlier results, write the report."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from voice.bench.common import FULL, QUICK, Bench

_LOG = logging.getLogger("stretch-coach.bench")

SECTION_NAMES = ("commands", "barista", "false-activations", "latency", "cost")


def _runner(name: str) -> Callable[[Bench], dict[str, Any]]:
    from voice.bench import accuracy, barista, cost, false_activation, latency

    table: dict[str, Callable[[Bench], dict[str, Any]]] = {
        "commands": accuracy.run,
        "barista": barista.run,
        "false-activations": false_activation.run,
        "latency": latency.run,
        "cost": cost.run,
    }
    return table[name]


def _cpu_s() -> float:
    """CPU seconds of this process and of the child processes it has waited for."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        use = resource.getrusage(who)
        total += use.ru_utime + use.ru_stime
    return total


def _clean(value: Any) -> Any:
    """JSON without NaN (null instead)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _restore(value: Any) -> Any:
    if value is None:
        return float("nan")
    if isinstance(value, dict):
        return {k: (_restore(v) if v is None or isinstance(v, dict | list) else v)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [_restore(v) if isinstance(v, dict | list) else v for v in value]
    return value


def run_bench(
    *,
    quick: bool,
    only: Sequence[str] | None,
    out: Path,
    cache: Path,
    jobs: int,
    argv: str,
) -> dict[str, Any]:
    from voice.bench import report

    bench = Bench(QUICK if quick else FULL, cache, jobs=jobs, quick=quick)
    cache.mkdir(parents=True, exist_ok=True)
    store = cache / ("results-quick.json" if quick else "results.json")
    saved: dict[str, Any] = {}
    if store.exists():
        try:
            saved = json.loads(store.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            saved = {}
    results = {k: _restore(v) for k, v in (saved.get("results") or {}).items()}
    stamps: dict[str, str] = dict(saved.get("stamps") or {})
    run_started, run_cpu0 = time.monotonic(), _cpu_s()
    commit_at_start = report.machine()["commit"]
    for name in only or SECTION_NAMES:
        _LOG.info("bench: %s ...", name)
        started, cpu0 = time.monotonic(), _cpu_s()
        results[name] = _runner(name)(bench)
        took, cpu = time.monotonic() - started, _cpu_s() - cpu0
        stamps[name] = (
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d}, {took / 60:.1f} min wall, "
            f"{cpu / 60:.1f} CPU-min" + (", --quick" if quick else "")
        )
        _LOG.info("bench: %s done in %.0f s (%.0f s CPU)", name, took, cpu)
        store.write_text(
            json.dumps({"results": _clean(results), "stamps": stamps}, indent=1), encoding="utf-8"
        )
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    totals = (
        f"{(time.monotonic() - run_started) / 60:.1f} min wall, "
        f"{(_cpu_s() - run_cpu0) / 60:.1f} CPU-min"
    )
    info = report.machine()
    if info["commit"] != commit_at_start:
        # Others committed while the bench ran: say which code the run started on.
        info["commit"] = f"{commit_at_start} at the start, {info['commit']} at the end"
    text = report.assemble(
        old,
        report.header(info, argv, quick, stamps, totals),
        report.render(results, stamps),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return results
