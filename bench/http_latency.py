"""GET /status latency (p50/p99) at a fixed request rate, from a second process, loopback only,
during a live routine of the real coach, with the count onset error measured at the same time.

    python bench/http_latency.py                   # 2 rounds: about 5 minutes, real time
    python bench/http_latency.py --url http://127.0.0.1:8765   # latency only, a running coach

Without --url it starts the real coach in a child process:

    python -m voice run --text --http 127.0.0.1:PORT --returning --count-style every-second \
        --tts-out DIR

(real speech rendering through pyttsx3/espeak-ng into DIR's WAVs and index.json, on the wall
clock), types "start the full routine" on its stdin, and follows its /events stream as a
dashboard would. Each round takes two holds: during the first it sends GET /status at --rate
for --duration seconds (the hold and what follows it); during the next hold it sends nothing.
At the end the count cues' onset error (index.json: ``started - scheduled`` for kind "count",
as in bench/speech_timing.py) is split into counts scheduled under HTTP load and counts in the
quiet holds, so the two can be compared from one run of one process.

Requests are open loop: each has a scheduled time, and latency is also measured from that time,
so a slow server cannot hide its queueing by slowing the client down (coordinated omission).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Worker:
    """One keep-alive connection sending every `step` seconds from `start`."""

    host: str
    port: int
    path: str
    start: float
    step: float
    count: int
    service: list[float] = field(default_factory=list)  # send -> full response read
    scheduled: list[float] = field(default_factory=list)  # scheduled time -> response read
    errors: int = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        for k in range(self.count):  # bounded: exactly `count` requests
            due = self.start + k * self.step
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            try:
                conn.request("GET", self.path)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
            done = time.perf_counter()
            if not ok:
                self.errors += 1
                continue
            self.service.append(done - sent)
            self.scheduled.append(done - max(due, self.start))
        conn.close()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summary_ms(values: list[float]) -> dict[str, float]:
    s = sorted(values)
    return {
        "p50": round(1000 * percentile(s, 50), 3),
        "p90": round(1000 * percentile(s, 90), 3),
        "p99": round(1000 * percentile(s, 99), 3),
        "max": round(1000 * s[-1], 3) if s else float("nan"),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on {host}:{port} did not come up in {timeout} s")


def start_coach(port: int, tts_out: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """The real coach with --http, fed typed commands on stdin; speech rendered to tts_out.
    Its history goes to a home of its own next to tts_out, not the user's."""
    command = [
        sys.executable,
        "-m",
        "voice",
        "run",
        "--text",
        "--http",
        f"127.0.0.1:{port}",
        "--returning",
        "--count-style",
        "every-second",
        "--tts-out",
        str(tts_out),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT), STRETCH_COACH_HOME=str(tts_out.parent / "home"))
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=log, stderr=log
        )


def type_line(proc: subprocess.Popen[bytes], text: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(text.encode() + b"\n")
    proc.stdin.flush()


class StateWatcher:
    """Follows /events like an open dashboard (reconnecting when the server ends a stream) and
    records when the coach's state changes, on this process's monotonic clock."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.changes: list[tuple[float, str]] = []  # (time.monotonic(), new state)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                conn.request("GET", "/events")
                resp = conn.getresponse()
                kind = ""
                for raw in resp:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "status":
                        self._saw(json.loads(line[6:]).get("state", ""))
                    if self._stop.is_set():
                        break
                conn.close()
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.2)

    def _saw(self, state: str) -> None:
        with self._cond:
            if not self.changes or self.changes[-1][1] != state:
                self.changes.append((time.monotonic(), state))
                self._cond.notify_all()

    def wait_for(self, state: str, after: float, timeout: float = 600.0) -> float:
        """When the coach next entered `state` after time `after`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for at, seen in self.changes:
                    if seen == state and at > after:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"the coach never reached {state!r}")
                self._cond.wait(left)

    def left(self, state: str, since: float, timeout: float = 600.0) -> float:
        """When the coach next left `state` after time `since`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for at, seen in self.changes:
                    if at > since and seen != state:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"the coach never left {state!r}")
                self._cond.wait(left)

    def stop(self) -> None:
        self._stop.set()


def counts_in(index: dict[str, Any], windows: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """index.json entries of the count cues scheduled inside any of the windows."""
    return [
        e
        for e in index["utterances"]
        if e["kind"] == "count"
        and e["scheduled"] is not None
        and any(lo <= float(e["scheduled"]) <= hi for lo, hi in windows)
    ]


def onset_summary(counts: list[dict[str, Any]]) -> dict[str, Any]:
    """Onset error (started - scheduled; 0 unless the player woke after the cue's deadline)
    and the pre-roll left when the cue reached the output (started - handed_over: how close
    it came to being late), as bench/speech_timing.py reports them."""
    errors = sorted(float(e["started"]) - float(e["scheduled"]) for e in counts)
    leads = sorted(float(e["lead"]) for e in counts if e.get("lead") is not None)

    def ms(values: list[float], p: float) -> float:
        return round(1000 * percentile(values, p), 3)

    return {
        "counts": len(counts),
        "onset_error_ms": {"p50": ms(errors, 50), "p99": ms(errors, 99), "max": ms(errors, 100)},
        "preroll_left_ms": {"min": ms(leads, 0), "p1": ms(leads, 1), "p50": ms(leads, 50)},
        "shortened": sum(1 for e in counts if e.get("shortened")),
    }


def live_routine(args: argparse.Namespace) -> dict[str, Any]:
    """Rounds of (hold under /status load, next hold quiet) in the real coach's full routine."""
    host, port = "127.0.0.1", free_port()
    keep = Path(args.keep) if args.keep else None
    tmp = tempfile.TemporaryDirectory(prefix="http-latency-")
    base = keep or Path(tmp.name)
    base.mkdir(parents=True, exist_ok=True)
    tts_out = base / "tts"
    proc = start_coach(port, tts_out, base / "coach.log")
    loaded: list[tuple[float, float]] = []
    quiet: list[tuple[float, float]] = []
    latency: list[dict[str, Any]] = []
    try:
        wait_ready(host, port)
        watcher = StateWatcher(host, port)
        type_line(proc, "start the full routine")
        after = time.monotonic()
        for _ in range(args.rounds):
            hold = watcher.wait_for("hold", after)
            started = time.monotonic()
            latency.append(measure(host, port, args.rate, args.duration, args.connections))
            loaded.append((started, time.monotonic()))
            # The next hold, with no requests at all (the /events stream stays open).
            quiet_start = watcher.wait_for("hold", max(hold, loaded[-1][1]))
            quiet_end = watcher.left("hold", quiet_start)
            quiet.append((quiet_start, quiet_end))
            after = quiet_end
        watcher.stop()
        type_line(proc, "stop")
        type_line(proc, "yes")
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # the coach closes its speaker: index.json is written
            proc.wait(timeout=30)
    index = json.loads((tts_out / "index.json").read_text())
    tmp.cleanup()
    service = [v for r in latency for v in r.pop("_service")]
    scheduled = [v for r in latency for v in r.pop("_scheduled")]
    return {
        "target": "python -m voice run --text --http ... --count-style every-second --tts-out DIR",
        "rounds": args.rounds,
        "status_latency": {
            "requests": sum(r["requests"] for r in latency),
            "ok": sum(r["ok"] for r in latency),
            "errors": sum(r["errors"] for r in latency),
            "achieved_rps": [r["achieved_rps"] for r in latency],
            "service_ms": summary_ms(service),
            "from_schedule_ms": summary_ms(scheduled),
            "per_round_service_ms": [r["service_ms"] for r in latency],
        },
        "counts_under_load": onset_summary(counts_in(index, loaded)),
        "counts_quiet": onset_summary(counts_in(index, quiet)),
        "counts_all": onset_summary(counts_in(index, [(0.0, float("inf"))])),
        "kept": str(base) if keep else None,
    }


def measure(host: str, port: int, rate: float, duration: float, connections: int) -> dict[str, Any]:
    total = int(rate * duration)
    step = connections / rate
    start = time.perf_counter() + 0.2
    workers = [
        Worker(
            host,
            port,
            "/status",
            start + i / rate,
            step,
            len(range(i, total, connections)),
        )
        for i in range(connections)
    ]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    service = [v for w in workers for v in w.service]
    scheduled = [v for w in workers for v in w.scheduled]
    return {
        "requests": total,
        "ok": len(service),
        "errors": sum(w.errors for w in workers),
        "achieved_rps": round(len(service) / elapsed, 1),
        "service_ms": summary_ms(service),
        "from_schedule_ms": summary_ms(scheduled),
        "_service": service,
        "_scheduled": scheduled,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running coach (loopback only): latency only")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second (200)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (30)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections (4)")
    parser.add_argument("--rounds", type=int, default=2, help="(loaded hold, quiet hold) pairs")
    parser.add_argument("--keep", metavar="DIR", help="keep the coach's WAVs, index and log")
    args = parser.parse_args(argv)
    if not (0 < args.rate <= 5000 and 0 < args.duration <= 600 and 1 <= args.connections <= 64):
        parser.error("rate 0-5000, duration 0-600 s, connections 1-64")
    if not 1 <= args.rounds <= 8:
        parser.error("rounds 1-8")

    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "", parts.port or 80
        if host not in LOOPBACK:
            parser.error("loopback only: the figure is meant to exclude the network")
        wait_ready(host, port)
        result = measure(host, port, args.rate, args.duration, args.connections)
        del result["_service"], result["_scheduled"]
        report: dict[str, Any] = {"target": args.url, **result}
    else:
        report = live_routine(args)
    report.update(
        rate=args.rate,
        duration_s=args.duration,
        connections=args.connections,
        python=platform.python_version(),
        cpus=os.cpu_count(),
        loadavg=[round(x, 2) for x in os.getloadavg()],
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
