"""GET /status latency (p50/p99) at a fixed request rate, from a second process, loopback only.

    python bench/http_latency.py                      # starts a demo coach server itself
    python bench/http_latency.py --url http://127.0.0.1:8765   # against a running coach

Without --url it starts `python -m voice.http.demo --start` (a routine counting down,
publishing status events every second) in a child process and measures from this one; one
/events subscriber stays open during the run, as a dashboard would. Requests are sent open
loop: each has a scheduled time, and latency is also measured from that time, so a slow
server cannot hide its queueing by slowing the client down (coordinated omission).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
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


def start_demo_server(port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "voice.http.demo", "--port", str(port), "--start"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def hold_event_stream(host: str, port: int, stop: threading.Event) -> threading.Thread:
    """Keep one /events subscriber reading for the whole run, like an open dashboard."""

    def read() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/events")
        resp = conn.getresponse()
        while not stop.is_set():
            try:
                if not resp.read1(4096):
                    break
            except (TimeoutError, OSError):
                break
        conn.close()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def measure(
    host: str, port: int, rate: float, duration: float, connections: int
) -> dict[str, object]:
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
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (loopback only); default: start a demo")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second (200)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (30)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections (4)")
    parser.add_argument("--no-sse", action="store_true", help="no /events subscriber")
    args = parser.parse_args(argv)
    if not (0 < args.rate <= 5000 and 0 < args.duration <= 600 and 1 <= args.connections <= 64):
        parser.error("rate 0-5000, duration 0-600 s, connections 1-64")

    server = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "", parts.port or 80
        if host not in LOOPBACK:
            parser.error("loopback only: the figure is meant to exclude the network")
    else:
        host, port = "127.0.0.1", free_port()
        server = start_demo_server(port)
    stop = threading.Event()
    try:
        wait_ready(host, port)
        sse = None if args.no_sse else hold_event_stream(host, port, stop)
        result = measure(host, port, args.rate, args.duration, args.connections)
    finally:
        stop.set()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    report = {
        "target": args.url or "demo server (python -m voice.http.demo --start)",
        "rate": args.rate,
        "duration_s": args.duration,
        "connections": args.connections,
        "sse_subscriber": sse is not None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        **result,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
