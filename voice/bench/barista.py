"""Real voices: the barista dev set (Picovoice speech-to-intent benchmark) per SNR of kitchen
noise, through the hearing team's own `stretch-coach eval` command, beside Rhino's figures."""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import sys
import time
from typing import Any

from voice.bench.common import BARISTA, KITCHEN, Bench, repo_root

_LOG = logging.getLogger("stretch-coach.bench")

# Picovoice Rhino, kitchen noise, published with the benchmark.
RHINO_KITCHEN = {24.0: 0.99, 21.0: 0.99, 18.0: 0.99, 15.0: 0.99, 12.0: 0.98, 9.0: 0.97, 6.0: 0.96}


def command(bench: Bench) -> list[str]:
    s = bench.sizes
    cmd = [
        "stretch-coach",
        "eval",
        "--sentences",
        "bench/barista/sentences.yaml",
        "--labels",
        str(BARISTA / "labels.json"),
        "--audio",
        str(BARISTA),
        "--noise",
        str(KITCHEN),
        "--snr",
        *[f"{x:g}" for x in s.barista_snrs],
        "--jobs",
        str(bench.jobs),
        "--json",
        "--ps-option",
        "bestpath=no",
    ]
    if s.barista_limit:
        cmd += ["--limit", str(s.barista_limit)]
    return cmd


def run(bench: Bench) -> dict[str, Any]:
    if not (BARISTA / "labels.json").exists():
        return {"skipped": f"{BARISTA} not found"}
    cmd = command(bench)
    argv = [sys.executable, "-m", "voice", *cmd[1:]]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=repo_root(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1], "command": cmd}
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    for row in rows:
        snr = row["condition"].removesuffix(" dB")
        row["rhino"] = RHINO_KITCHEN.get(float(snr)) if snr != "clean" else None
    return {
        "command": shlex.join(cmd),
        "rows": rows,
        "wall_s": round(time.monotonic() - started, 1),
    }
