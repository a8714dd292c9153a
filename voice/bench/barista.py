"""Real voices: the barista dev set (Picovoice speech-to-intent benchmark) per SNR of kitchen
noise, through the hearing team's own `stretch-coach eval` command, beside Rhino's figures.

The recordings average 8.6 s and kitchen noise keeps the speech gate open for all of it, so a
noisy pass over all 296 costs 25-35 minutes of this machine. The clean row uses every
recording (the gate trims it to the speech: cheap); the noisy rows use a subset spread over
the sorted list (many speakers) with several noise draws (`--seed`), and report the median.
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


def _base() -> list[str]:
    return [
        "stretch-coach",
        "eval",
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


def _eval(cmd: list[str]) -> list[dict[str, Any]] | str:
    argv = [sys.executable, "-m", "voice", *cmd[1:]]
    try:
        proc = subprocess.run(
            argv, cwd=repo_root(), capture_output=True, text=True, check=False, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return f"no result in {TIMEOUT_S:.0f} s"
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def run(bench: Bench) -> dict[str, Any]:
    if not (BARISTA / "labels.json").exists():
        return {"skipped": f"{BARISTA} not found"}
    started = time.monotonic()
    cmds = commands(bench)
    passes = []
    for cmd in cmds:
        got = _eval(cmd)
        if isinstance(got, str):
            return {"error": got, "command": shlex.join(cmd)}
        passes.append(got)
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
    return {
        "commands": [shlex.join(c) for c in cmds],
        "seeds": list(bench.sizes.barista_seeds),
        "rows": rows,
        "wall_s": round(time.monotonic() - started, 1),
    }
