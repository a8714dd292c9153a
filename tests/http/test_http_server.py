"""The app under a real waitress server on 127.0.0.1, and `stretch-coach serve` itself."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from http_fakes import RecordedCoach

from voice.cli import cmd_serve, cmd_token
from voice.http import EventHub, create_app, parse_bind, start_server
from voice.http.server import BindError, ServerHandle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(app: Flask) -> Iterator[ServerHandle]:
    handle = start_server(app, "127.0.0.1", 0)
    yield handle
    handle.stop()


def get_json(handle: ServerHandle, path: str) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection(handle.host, handle.port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def read_until(resp: http.client.HTTPResponse, needle: bytes, timeout: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while needle not in data:
        assert time.monotonic() < deadline, f"{needle!r} not seen in {data!r}"
        data += resp.read1(4096)
    return data


def test_status_and_command_over_a_real_socket(server: ServerHandle, coach: RecordedCoach) -> None:
    code, body = get_json(server, "/status")
    assert code == 200 and body["state"] == "idle"
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request(
        "POST", "/command", body=b'{"text": "pause"}', headers={"Content-Type": "application/json"}
    )
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["intent"] == "Pause"
    conn.close()
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert resp.getheader("Server") == "stretch-coach"


def test_oversized_body_is_refused(server: ServerHandle) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request(
        "POST", "/command", body=b"x" * 10_000, headers={"Content-Type": "application/json"}
    )
    resp = conn.getresponse()
    assert resp.status == 413
    assert json.loads(resp.read())["status"] == 413
    conn.close()


def test_events_arrive_live_and_a_gone_client_frees_its_slot(
    server: ServerHandle, hub: EventHub
) -> None:
    sock_conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    sock_conn.request("GET", "/events")
    resp = sock_conn.getresponse()
    assert resp.status == 200
    read_until(resp, b"event: status")
    hub.publish("said", {"text": "Breathe out."})
    read_until(resp, b"Breathe out.")
    resp.close()
    sock_conn.close()
    # The server notices on its next writes (heartbeats every 50 ms in this app).
    deadline = time.monotonic() + 5
    while hub.subscriber_count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hub.subscriber_count == 0


def test_stop_ends_open_streams_promptly(app: Flask) -> None:
    app.config["SSE_HEARTBEAT_SECONDS"] = 30.0  # only stop() can end this stream quickly
    handle = start_server(app, "127.0.0.1", 0)
    conn = http.client.HTTPConnection(handle.host, handle.port, timeout=5)
    conn.request("GET", "/events")
    read_until(conn.getresponse(), b"event: status")
    started = time.monotonic()
    handle.stop()
    assert not handle.thread.is_alive()
    assert time.monotonic() - started < 3.0
    conn.close()
    with pytest.raises(OSError):
        socket.create_connection((handle.host, handle.port), timeout=1).close()


def test_port_in_use_is_a_bind_error(server: ServerHandle, app: Flask) -> None:
    with pytest.raises(BindError, match="cannot listen"):
        start_server(app, "127.0.0.1", server.port)


def test_threads_cover_the_event_streams(coach: RecordedCoach) -> None:
    hub = EventHub(max_subscribers=3)
    handle = start_server(create_app(coach.status, coach.command, hub), "127.0.0.1", 0)
    try:
        assert handle.server.adj.threads == 3 + 4
    finally:
        handle.stop()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.0.0.0:9000", ("0.0.0.0", 9000)),
        ("127.0.0.1", ("127.0.0.1", 8765)),
        (":9000", ("127.0.0.1", 9000)),
        ("[::1]:9000", ("::1", 9000)),
        ("[::1]", ("::1", 8765)),
    ],
)
def test_parse_bind(value: str, expected: tuple[str, int]) -> None:
    assert parse_bind(value) == expected


@pytest.mark.parametrize("value", ["host:port", "1.2.3.4:70000"])
def test_parse_bind_rejects_bad_ports(value: str) -> None:
    with pytest.raises(ValueError):
        parse_bind(value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_status(port: int, timeout: float = 15.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/status")
            body: dict[str, object] = json.loads(conn.getresponse().read())
            conn.close()
            return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
def test_serve_command_serves_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, STRETCH_COACH_HOME=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "voice", "serve", "--silent", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        status = wait_for_status(port)  # the real coach, idle until told to start
        assert (status["state"], status["tts"], status["routine"]) == ("idle", "none", None)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(
            "POST",
            "/command",
            body=b'{"text": "start the quick routine"}',
            headers={"Content-Type": "application/json"},
        )
        reply = json.loads(conn.getresponse().read())
        conn.close()
        assert reply["intent"] == "StartRoutine"
        status = wait_for_status(port)
        assert (status["routine"], status["routine_name"]) == ("quick", "quick routine")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"serving on http://127.0.0.1:" in proc.stdout.read()  # type: ignore[union-attr]
    assert not (tmp_path / "http-token").exists()  # localhost: no token needed, none made


@pytest.mark.slow
def test_serve_beyond_localhost_requires_the_token(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, STRETCH_COACH_HOME=str(tmp_path))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voice",
            "serve",
            "--silent",
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_status(port)
        token = (tmp_path / "http-token").read_text().strip()
        for headers, code in [({}, 401), ({"Authorization": f"Bearer {token}"}, 200)]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(
                "POST",
                "/command",
                body=b'{"text": "start"}',
                headers={"Content-Type": "application/json", **headers},
            )
            assert conn.getresponse().status == code
            conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    printed = subprocess.run(
        [sys.executable, "-m", "voice", "token"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert printed == token


def test_serve_takes_the_session_options_of_run() -> None:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    cmd_serve.register(subparsers)
    cmd_token.register(subparsers)
    args = parser.parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "9000", "--silent", "--time-scale", "5"]
    )
    assert (args.host, args.port, args.func) == ("0.0.0.0", 9000, cmd_serve.run)
    assert (args.silent, args.time_scale, args.count_style, args.returning) == (
        True,
        5.0,
        "marks",
        False,
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--demo"])  # no stand-in session any more
    args = parser.parse_args(["token", "--path"])
    assert args.func is cmd_token.run and args.path
