"""Real voices: the barista dev set (Picovoice speech-to-intent benchmark) per SNR of kitchen
noise, through the hearing team's own `stretch-coach eval` command, beside Rhino's figures.

The recordings average 8.6 s and kitchen noise keeps the speech gate open for all of it, so a
noisy pass over all 296 costs 25-35 minutes of this machine. The clean row uses every
recording (the gate trims it to the speech: cheap); the noisy rows use a subset spread over
the sorted list (many speakers) with several noise draws (`--seed`), and report the median.

The engine's shipped MLLR transform was adapted on these recordings, so decoding them with
it would measure its training data. A full run cross-validates instead: for each of N folds
it adapts on the other recordings (`stretch-coach adapt --holdout K/N`, the recipe of the
shipped transform) and measures on that fold (`eval --fold K/N --mllr`); rows add the folds.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import sys
import time
from typing import Any

from voice.bench.common import BARISTA, KITCHEN, Bench, median, repo_root

_LOG = logging.getLogger("stretch-coach.bench")

# Picovoice Rhino, kitchen noise, published with the benchmark.
RHINO_KITCHEN = {24.0: 0.99, 21.0: 0.99, 18.0: 0.99, 15.0: 0.99, 12.0: 0.98, 9.0: 0.97, 6.0: 0.96}
TIMEOUT_S = 1800.0
# How the shipped transform (voice/hearing/data) was made: `make adapt-model`.
ADAPT_SNRS = (24.0, 12.0, 6.0)


def _base(command: str = "eval") -> list[str]:
    return [
        "stretch-coach",
        command,
        "--sentences",
        "bench/barista/sentences.yaml",
        "--labels",
        str(BARISTA / "labels.json"),
        "--audio",
        str(BARISTA),
    ]


def commands(bench: Bench) -> list[list[str]]:
    """The eval invocations of this run: clean, then one noisy pass per seed."""
    s = bench.sizes
    common = ["--jobs", str(bench.jobs), "--json", "--no-bestpath"]
    clean = _base() + common
    if s.barista_clean_limit:
        clean += ["--limit", str(s.barista_clean_limit)]
    out = [clean]
    for seed in s.barista_seeds:
        cmd = _base() + ["--noise", str(KITCHEN), "--snr", *[f"{x:g}" for x in s.barista_snrs]]
        cmd += ["--no-clean", "--seed", str(seed), *common]
        if s.barista_limit:
            cmd += ["--limit", str(s.barista_limit)]
        out.append(cmd)
    return out


def adapt_command(bench: Bench, fold: int, out: str) -> list[str]:
    snrs = [f"{x:g}" for x in ADAPT_SNRS]
    return _base("adapt") + [
        "--noise", str(KITCHEN), "--snr", *snrs,
        "--holdout", f"{fold}/{bench.sizes.barista_folds}", "--jobs", str(bench.jobs),
        "--out", out,
    ]  # fmt: skip


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str] | str:
    argv = [sys.executable, "-m", "voice", *cmd[1:]]
    try:
        proc = subprocess.run(
            argv, cwd=repo_root(), capture_output=True, text=True, check=False, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return f"no result in {TIMEOUT_S:.0f} s"
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return proc


def _eval(cmd: list[str]) -> list[dict[str, Any]] | str:
    proc = _run(cmd)
    if isinstance(proc, str):
        return proc
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _folds(bench: Bench) -> list[list[str]] | str:
    """Per fold, what the eval commands add; the adaptation it needs is run here."""
    n = bench.sizes.barista_folds
    if n == 0:
        return [[]]
    extras = []
    for k in range(n):
        out = str(bench.path(f"barista-adapted-{k}-of-{n}.mllr"))
        cmd = adapt_command(bench, k, out)
        _LOG.info("barista: adapting without fold %d/%d", k, n)
        got = _run(cmd)
        if isinstance(got, str):
            return f"{shlex.join(cmd)}: {got}"
        extras.append(["--fold", f"{k}/{n}", "--mllr", out])
    return extras


def _add_folds(parts: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One pass's rows from its folds' rows: counts add up, CPU is weighted by recordings."""
    rows = []
    for same in zip(*parts, strict=True):
        correct = sum(r["correct"] for r in same)
        total = sum(r["total"] for r in same)
        cpu = sum(r["cpu_per_audio_s"] * r["total"] for r in same) / max(total, 1)
        rows.append(
            {
                "condition": same[0]["condition"],
                "correct": correct,
                "total": total,
                "rate": correct / total if total else float("nan"),
                "cpu_per_audio_s": cpu,
            }
        )
    return rows


def run(bench: Bench) -> dict[str, Any]:
    if not (BARISTA / "labels.json").exists():
        return {"skipped": f"{BARISTA} not found"}
    started = time.monotonic()
    folds = _folds(bench)
    if isinstance(folds, str):
        return {"error": folds, "command": "stretch-coach adapt"}
    cmds = commands(bench)
    passes = []
    for cmd in cmds:
        parts = []
        for extra in folds:
            got = _eval(cmd + extra)
            if isinstance(got, str):
                return {"error": got, "command": shlex.join(cmd + extra)}
            parts.append(got)
        passes.append(_add_folds(parts))
    rows = []
    clean = passes[0][0] if passes and passes[0] else None
    if clean is not None:
        rows.append({**clean, "rates": [clean["rate"]], "rhino": None})
    for snr in bench.sizes.barista_snrs:
        label = f"{snr:g} dB"
        draws = [r for p in passes[1:] for r in p if r["condition"] == label]
        if not draws:
            continue
        rates = [r["rate"] for r in draws]
        rows.append(
            {
                "condition": label,
                "total": draws[0]["total"],
                "rate": median(rates),
                "rates": rates,
                "correct": [r["correct"] for r in draws],
                "cpu_per_audio_s": median([r["cpu_per_audio_s"] for r in draws]),
                "rhino": RHINO_KITCHEN.get(snr),
            }
        )
    n = bench.sizes.barista_folds
    shown = [shlex.join(c) for c in cmds]
    if n:  # fold 0's commands stand for all of them
        out = f".bench/barista-adapted-0-of-{n}.mllr"
        shown = [shlex.join(adapt_command(bench, 0, out))]
        shown += [shlex.join([*c, "--fold", f"0/{n}", "--mllr", out]) for c in cmds]
    return {
        "commands": shown,
        "folds": n,
        "seeds": list(bench.sizes.barista_seeds),
        "rows": rows,
        "wall_s": round(time.monotonic() - started, 1),
    }
