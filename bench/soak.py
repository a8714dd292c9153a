"""Soak test (issue 9, part 5). Two modes, bounded loops, 127.0.0.1 only:

  python bench/soak.py sim  [--hours 8]      one coach, routines with random commands for
                                             N simulated hours; RSS growth and wall time
  python bench/soak.py wall [--seconds 600]  `python -m voice run --text --silent --http
                                             127.0.0.1:PORT --returning` looping routines,
                                             /status polled at 50 req/s from a second
                                             process; RSS growth, threads and fds of the coach

Prints one JSON object; exit 1 when a limit is broken (RSS growth >= 5 MB, a thread or fd
leak, a non-200 /status answer, the coach process dying).
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RSS_LIMIT_MB = 5.0
COMMANDS = [
    "how long is left",
    "pause",
    "resume",
    "repeat",
    "help",
    "next",
    "slower",
    "faster",
    "count every second",
    "count less",
    "what is the psoas",
    "ouch",
    "go back",
    "blah blah",
    "start over",
    "continue",
    "yes",
    "no",
    "how many sessions this week",
]


def proc_status(pid: int | str = "self") -> dict[str, float]:
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
        elif key == "Threads":
            out[key] = int(value)
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


# -- simulated clock ------------------------------------------------------------------------


def soak_sim(hours: float, seed: int = 1) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from content.loader import load_content
    from intents.matcher import IntentMatcher
    from voice.coach.machine import Coach, CoachSettings
    from voice.simulate import ScriptLine, Simulation

    content = load_content()
    matcher = IntentMatcher.from_content(content)
    coach = Coach(content, CoachSettings(first_session=False))
    rnd = random.Random(seed)
    chunk = 1800.0  # one routine with random commands per simulated half hour
    chunks = int(hours * 3600 / chunk)
    started = time.perf_counter()
    baseline: dict[str, float] = {}
    sessions = said = 0
    for k in range(chunks):  # bounded
        t0 = k * chunk
        routine = rnd.choice(
            [
                "start the quick routine",
                "start the full routine",
                "do the pigeon pose",
                "start the butterfly",
            ]
        )
        lines = [ScriptLine(t0 + 1, routine)]
        for _ in range(rnd.randint(5, 40)):
            lines.append(ScriptLine(t0 + rnd.uniform(2, chunk - 120), rnd.choice(COMMANDS)))
        lines += [ScriptLine(t0 + chunk - 60, "stop"), ScriptLine(t0 + chunk - 59, "yes")]
        records = Simulation(coach, matcher).run(
            sorted(lines, key=lambda s: s.t), until=t0 + chunk - 1
        )
        sessions += sum(1 for r in records if r.kind == "ended")
        said += sum(1 for r in records if r.kind == "say")
        del records
        if k == 1:  # after warm-up: caches filled, every code path imported
            gc.collect()
            baseline = proc_status()
    gc.collect()
    end = proc_status()
    growth = end["VmRSS"] - baseline.get("VmRSS", end["VmRSS"])
    return {
        "mode": "sim",
        "simulated_hours": chunks * chunk / 3600,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "sessions_ended": sessions,
        "lines_said": said,
        "rss_start_mb": round(baseline.get("VmRSS", 0), 1),
        "rss_end_mb": round(end["VmRSS"], 1),
        "rss_growth_mb": round(growth, 2),
        "ok": growth < RSS_LIMIT_MB,
    }


# -- wall clock -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_status(port: int, timeout: float = 2.0) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/status")
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def poller(port: int, seconds: float, rate: float, out: Any) -> None:
    """Second process: GET /status at `rate` per second for `seconds`; reports the tally."""
    ok = bad = errors = 0
    latencies: list[float] = []
    start = time.monotonic()
    n = int(seconds * rate)
    for i in range(n):  # bounded
        target = start + i / rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = time.perf_counter()
        try:
            code, _ = get_status(port)
            ok += code == 200
            bad += code != 200
        except OSError:
            errors += 1
        latencies.append(time.perf_counter() - t)
    latencies.sort()
    out.put(
        {
            "requests": n,
            "ok": ok,
            "non_200": bad,
            "errors": errors,
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2) if latencies else None,
            "achieved_rate": round(n / max(1e-9, time.monotonic() - start), 1),
        }
    )


def soak_wall(seconds: float, rate: float = 50.0, warmup: float | None = None) -> dict[str, Any]:
    port = free_port()
    home = tempfile.mkdtemp(prefix="soak-home-")
    env = {**os.environ, "STRETCH_COACH_HOME": home}
    coach = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voice",
            "run",
            "--text",
            "--silent",
            "--http",
            f"127.0.0.1:{port}",
            "--returning",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert coach.stdin is not None
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the server, bounded
            try:
                get_status(port)
                break
            except OSError:
                if coach.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the coach did not start") from None
                time.sleep(0.2)
        out: Any = mp.Queue()
        poll_proc = mp.Process(target=poller, args=(port, seconds, rate, out), daemon=True)
        started = time.monotonic()
        poll_proc.start()
        warm = warmup if warmup is not None else min(60.0, seconds * 0.2)
        baseline: dict[str, float] | None = None
        routines = 0
        rnd = random.Random(2)
        samples = []
        while time.monotonic() - started < seconds:  # bounded by the duration
            if coach.poll() is not None:
                raise RuntimeError(f"the coach died: {coach.stderr.read() if coach.stderr else ''}")
            _, status = get_status(port)
            if status.get("state") in ("idle", "finished"):
                coach.stdin.write(
                    rnd.choice(["start the quick routine", "start the full routine"]) + "\n"
                )
                coach.stdin.flush()
                routines += 1
            elif rnd.random() < 0.1:
                coach.stdin.write(rnd.choice(["how long is left", "repeat", "help"]) + "\n")
                coach.stdin.flush()
            if baseline is None and time.monotonic() - started >= warm:
                baseline = proc_status(coach.pid)
            samples.append(proc_status(coach.pid))
            time.sleep(1.0)
        poll_proc.join(timeout=30)
        polled = out.get(timeout=10)
        end = proc_status(coach.pid)
    finally:
        if coach.poll() is None:
            coach.stdin.close()
            coach.terminate()
            try:
                coach.wait(timeout=10)
            except subprocess.TimeoutExpired:
                coach.kill()
    base = baseline or samples[0]
    growth = end["VmRSS"] - base["VmRSS"]
    thread_growth = end["Threads"] - base["Threads"]
    fd_growth = end["fds"] - base["fds"]
    ok = (
        growth < RSS_LIMIT_MB
        and thread_growth <= 0
        and fd_growth <= 0
        and polled["non_200"] == 0
        and polled["errors"] == 0
    )
    return {
        "mode": "wall",
        "seconds": seconds,
        "warmup_seconds": warm,
        "routines_started": routines,
        "rss_start_mb": round(base["VmRSS"], 1),
        "rss_end_mb": round(end["VmRSS"], 1),
        "rss_peak_mb": round(end["VmHWM"], 1),
        "rss_growth_mb": round(growth, 2),
        "threads_start": base["Threads"],
        "threads_end": end["Threads"],
        "fds_start": base["fds"],
        "fds_end": end["fds"],
        "status_polling": polled,
        "ok": ok,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    sim = sub.add_parser("sim")
    sim.add_argument("--hours", type=float, default=8.0)
    wall = sub.add_parser("wall")
    wall.add_argument("--seconds", type=float, default=600.0)
    wall.add_argument("--rate", type=float, default=50.0)
    wall.add_argument("--warmup", type=float, default=None)
    args = parser.parse_args(argv)
    result = (
        soak_sim(args.hours)
        if args.mode == "sim"
        else soak_wall(args.seconds, args.rate, args.warmup)
    )
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
