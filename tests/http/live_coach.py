"""The real coach behind the real server, for tests that need a live session.

Silent speech (speaking is still timed, so `speaking` and the counts behave as when heard),
the first-session note skipped, and a clock running `time_scale` times faster than the wall.
"""

from __future__ import annotations

import argparse
import http.client
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from voice.http import EventHub, create_app, start_server
from voice.http.server import ServerHandle
from voice.runtime.session import RunningCoach, add_session_args, build_coach


@dataclass
class Live:
    coach: RunningCoach
    server: ServerHandle

    def status(self) -> dict[str, Any]:
        return get_json(self.server, "/status")

    def command(self, text: str) -> dict[str, Any]:
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            body = json.dumps({"text": text}).encode()
            conn.request("POST", "/command", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            reply: dict[str, Any] = json.loads(resp.read())
            assert resp.status == 200, reply
            return reply
        finally:
            conn.close()

    def wait_for(
        self, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 30.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if check(status):
                return status
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {status}"
            time.sleep(0.05)


def get_json(server: ServerHandle, path: str) -> dict[str, Any]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request("GET", path)
        body: dict[str, Any] = json.loads(conn.getresponse().read())
        return body
    finally:
        conn.close()


def session_args(*extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_session_args(parser)
    return parser.parse_args(["--silent", "--returning", *extra])


@contextmanager
def live_coach(time_scale: float) -> Iterator[Live]:
    hub = EventHub()
    coach = build_coach(session_args("--time-scale", str(time_scale)), hub)
    server = start_server(
        create_app(coach.status, coach.loop.command, hub, ready=coach.ready, history=coach.history),
        "127.0.0.1",
        0,
    )
    try:
        yield Live(coach, server)
    finally:
        server.stop()
        coach.close()
