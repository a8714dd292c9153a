"""The real `stretch-coach run` as a subprocess in the room, watched through its HTTP service.

`CoachProcess` starts it with `--http` on a free port, waits until it listens on the
microphone, and records every Server-Sent Event with its arrival time (time.monotonic), so a
test can ask both "what is the status now" and "when did this happen".
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.room import Room

LISTENING_LINE = "stretch-coach: listening."
FALLBACK_MARKERS = ("using typed commands", "no microphone", "cannot listen")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def coach_command() -> list[str]:
    exe = Path(sys.executable).with_name("stretch-coach")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "voice"]


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() when the event arrived here
    kind: str
    data: dict[str, Any]


class CoachProcess:
    def __init__(self, room: Room, workdir: Path, args: Sequence[str] = ()) -> None:
        self.room = room
        self.workdir = workdir
        self.port = free_port()
        self.args = ["run", "--http", f"127.0.0.1:{self.port}", "--returning", *args]
        self.log_path = workdir / "coach.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.events: list[Seen] = []
        self._cond = threading.Condition()
        self._stderr_lines: list[str] = []
        self._listening = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- life cycle -----------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> CoachProcess:
        cmd = [*coach_command(), "-v", *self.args]
        env = dict(self.room.env)
        # Each coach keeps its own history: an interrupted session must not make the next
        # test's coach offer to resume it.
        env["XDG_DATA_HOME"] = str(self.workdir / "data")
        # The test run's own STRETCH_COACH_HOME (inherited by the room) would be shared by
        # every coach: a session cut short in one test made the next coach offer to resume.
        env["STRETCH_COACH_HOME"] = str(self.workdir / "data")
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=self.workdir,
            # An open stdin: if the microphone fails, `run` falls back to typed commands and
            # must not see end-of-file and quit (the test then reports the fallback).
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        t = threading.Thread(target=self._read_stderr, daemon=True)
        t.start()
        self._threads.append(t)
        deadline = time.monotonic() + timeout
        while not self._listening.wait(0.1):
            if self.proc.poll() is not None or any(
                m in line for line in self._stderr_lines for m in FALLBACK_MARKERS
            ):
                raise AssertionError(f"the coach is not listening:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the coach did not start listening:\n{self.log_tail()}")
        t = threading.Thread(target=self._watch_events, daemon=True)
        t.start()
        self._threads.append(t)
        self.wait_for(lambda e: e.kind == "status", timeout=10, what="the first /events status")
        return self

    def close(self) -> None:
        self._stop.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # `run` closes speaker and listener cleanly
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc is not None and self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> CoachProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self._stderr_lines[-lines:])

    @property
    def stderr_text(self) -> str:
        return "\n".join(self._stderr_lines)

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        with self.log_path.open("w", encoding="utf-8") as log:
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self._stderr_lines.append(line)
                log.write(f"{time.monotonic():.3f} {line}\n")
                log.flush()
                if LISTENING_LINE in line:
                    self._listening.set()

    # -- HTTP ---------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/status")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, (resp.status, body[:200])
            return dict(json.loads(body))
        finally:
            conn.close()

    def command(self, text: str) -> dict[str, Any]:
        """POST /command: set-up steps that are not what a scenario is about."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            body = json.dumps({"text": text})
            conn.request("POST", "/command", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            assert resp.status == 200, (resp.status, data[:200])
            return dict(json.loads(data))
        finally:
            conn.close()

    def _watch_events(self) -> None:
        """Follow /events for the life of the process, reconnecting when the stream ends."""
        while not self._stop.is_set():
            # Heartbeats come every 15 s, so a 30 s silence means the stream is dead.
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("GET", "/events", headers={"Accept": "text/event-stream"})
                resp = conn.getresponse()
                kind, data = "message", []
                while not self._stop.is_set():
                    raw = resp.readline()  # handles chunked transfer
                    if not raw:
                        break
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "" and data:
                        self._add(kind, json.loads("\n".join(data)))
                        kind, data = "message", []
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.2)
            finally:
                conn.close()

    def _add(self, kind: str, data: dict[str, Any]) -> None:
        with self._cond:
            self.events.append(Seen(time.monotonic(), kind, data))
            self._cond.notify_all()

    # -- waiting ------------------------------------------------------------------------------

    def wait_for(
        self,
        predicate: Callable[[Seen], bool],
        timeout: float,
        since: float = 0.0,
        what: str = "an event",
        fail_on: Callable[[Seen], bool] | None = None,
    ) -> Seen:
        """The first event at or after `since` (monotonic) that matches; fails after timeout,
        or at once when an event matching `fail_on` comes first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self.events:
                    if e.at >= since and predicate(e):
                        return e
                    if e.at >= since and fail_on is not None and fail_on(e):
                        raise AssertionError(
                            f"waiting for {what}, got instead: {e.kind} {e.data}\n"
                            f"coach log:\n{self.log_tail(25)}"
                        )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {what} within {timeout:.1f} s; last events:\n"
                        + "\n".join(f"  {e.at:.2f} {e.kind} {e.data}" for e in self.events[-12:])
                        + f"\ncoach log:\n{self.log_tail(25)}"
                    )
                self._cond.wait(min(left, 0.2))

    def wait_status(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ) -> tuple[float, dict[str, Any]]:
        """Poll GET /status every 20 ms until `predicate` holds; (monotonic time, status)."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = self.status()
            if predicate(last):
                return time.monotonic(), last
            time.sleep(0.02)
        raise AssertionError(f"/status never showed {what} within {timeout} s; last: {last}")

    def events_of(self, kind: str, since: float = 0.0) -> list[Seen]:
        with self._cond:
            return [e for e in self.events if e.kind == kind and e.at >= since]

    def log_count(self, needle: str) -> int:
        return sum(needle in line for line in self._stderr_lines)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
