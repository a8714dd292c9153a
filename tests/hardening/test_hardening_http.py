"""Malformed HTTP (issue 9, part 4) and the service's security promises (part 6), against a
real waitress server on 127.0.0.1 with the real coach behind it."""

from __future__ import annotations

import builtins
import http.client
import io
import json
import os
import random
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from content.model import Content
from intents.matcher import IntentMatcher
from tests.hardening.helpers import ROOT
from voice.coach.machine import Coach, CoachSettings
from voice.fakes import RecordingSpeaker
from voice.http import EventHub, Metrics, ServiceParts, app_for, start_server
from voice.http.server import ServerHandle
from voice.runtime.clock import MonotonicClock
from voice.runtime.loop import CoachLoop

PATHS = ["/", "/status", "/health", "/ready", "/metrics", "/history", "/command", "/events",
         "/static/dashboard.js", "/static/../../etc/passwd", "/../../etc/passwd",
         "/static/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fetc%2fpasswd", "/%00",
         "/status%00.json", "/static/dashboard.js%00.png", "//etc/passwd", "/static//etc/passwd",
         "/static/\\..\\..\\etc\\passwd", "/command/../status", "/?" + "a=" * 2000,
         "/status?x=%ff%fe", "/static/%c0%ae%c0%ae/etc/passwd", "/" + "x" * 8000, "*",
         "http://evil.example/status", "/static/", "/STATUS", "/status/", "/file:///etc/passwd"]  # fmt: skip
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT",
           "PROPFIND", "FOO", "get"]  # fmt: skip
BODIES: list[bytes] = [
    b"", b"{", b"}", b"null", b"[]", b'"pause"', b"42", b'{"text": 5}', b'{"text": null}',
    b'{"text": ""}', b'{"text": "   "}', b'{"text": ["pause"]}', b'{"text": {"a": 1}}',
    b'{"txt": "pause"}', b'{"text": "pause"', b"\xff\xfe\x00p", b'{"text": "\\ud800"}',
    b'{"text": "' + b"a" * 600 + b'"}', b'{"text": "pause", "text": 5}', b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000, b"x" * 5000, b"x" * 70_000, b'{"text": "pause\\u0000"}',
    b'{"text": "start the quick routine"}', b'{"text": "stop"}', b'{"text": "yes"}',
    b'{"text": "' + "€".encode() * 300 + b'"}', b'{"text": NaN}', b'{"text": Infinity}',
]  # fmt: skip
HEADERS: list[dict[str, str]] = [
    {}, {"Content-Type": "application/json"}, {"Content-Type": "text/plain"},
    {"Content-Type": "application/json; charset=utf-16"}, {"Content-Type": "multipart/form-data"},
    {"Host": "evil.example"}, {"Host": ""}, {"Host": "127.0.0.1:1"}, {"Host": "[::1]"},
    {"Authorization": "Bearer x"}, {"Authorization": "Basic Zm9vOmJhcg=="},
    {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Host": "evil"}, {"Accept": "text/event-stream"},
    {"Range": "bytes=0-1"}, {"If-None-Match": "*"}, {"Cookie": "a=" + "b" * 4000},
]  # fmt: skip
RAW: list[bytes] = [
    b"\r\n\r\n", b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /status HTTP/1.1\r\n\r\n", b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"y" * 300_000 + b"\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
    b"POST /command HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n{}",
    b"POST /command HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nFoo bar\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /static/../../../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"H: v\r\n" * 2000 + b"\r\n",
    b"POST /command HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{}",
    b"POST /command HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
]  # fmt: skip


@pytest.fixture
def live(content: Content, matcher: IntentMatcher) -> Iterator[tuple[ServerHandle, CoachLoop]]:
    loop = CoachLoop(Coach(content, CoachSettings(first_session=False)), matcher, MonotonicClock())
    loop.speaker = RecordingSpeaker(listener=loop.on_speech)
    hub = EventHub()
    loop.add_publisher(hub)
    loop.start()
    parts = ServiceParts(loop.status, loop.command, hub, ready=lambda: {"coach": loop.running()},
                         metrics=Metrics())  # fmt: skip
    app = app_for(parts, "127.0.0.1")
    app.config["SSE_MAX_SECONDS"] = 0.05
    app.config["SSE_HEARTBEAT_SECONDS"] = 0.05
    server = start_server(app, "127.0.0.1", 0)
    yield server, loop
    server.stop()
    loop.stop()


def one_request(server: ServerHandle, rnd: random.Random) -> int | None:
    """One random malformed (or valid) request; the status code, or None for a raw request
    the server may rightly just close."""
    if rnd.random() < 0.08:
        with socket.create_connection((server.host, server.port), timeout=0.5) as sock:
            sock.sendall(rnd.choice(RAW))
            try:
                sock.shutdown(socket.SHUT_WR)
                data = sock.recv(64)
            except OSError:
                return None
        match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return int(match.group(1)) if match else None
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        method, path = rnd.choice(METHODS), rnd.choice(PATHS)
        body = rnd.choice(BODIES) if method not in ("GET", "HEAD") or rnd.random() < 0.2 else None
        headers = dict(rnd.choice(HEADERS))
        if rnd.random() < 0.5:
            headers.setdefault("Content-Type", "application/json")
        conn.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if (
            body is not None
            and "Content-Length" not in headers
            and "Transfer-Encoding" not in headers
        ):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        resp.read() if method != "HEAD" else None
        return resp.status
    except (ConnectionError, http.client.HTTPException, TimeoutError):
        return None  # the server closed a connection it did not like: acceptable
    finally:
        conn.close()


def fuzz(server: ServerHandle, n: int, seed: int = 9) -> dict[int | None, int]:
    rnd = random.Random(seed)
    codes: dict[int | None, int] = {}
    for _ in range(n):  # bounded
        code = one_request(server, rnd)
        codes[code] = codes.get(code, 0) + 1
        assert code is None or code < 500, f"server error {code}; tally so far {codes}"
    return codes


def assert_still_up(server: ServerHandle) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/health")
    assert conn.getresponse().status == 200
    conn.close()
    assert server.thread.is_alive()


def test_malformed_requests_get_only_4xx_and_the_server_stays_up(live: Any) -> None:
    server, loop = live
    codes = fuzz(server, 2_000)
    assert_still_up(server)
    assert loop.running()
    assert sum(v for k, v in codes.items() if k and 400 <= k < 500) > 1_000, codes


@pytest.mark.slow
def test_ten_thousand_malformed_requests(live: Any) -> None:
    server, loop = live
    threads_before = threading.active_count()
    codes = fuzz(server, 10_000, seed=10)
    assert_still_up(server)
    assert loop.running()
    assert threading.active_count() <= threads_before + 2
    print("tally", sorted(codes.items(), key=lambda kv: str(kv[0])))


# -- security --------------------------------------------------------------------------------


class CountingCommand:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, text: str) -> dict[str, Any]:
        self.calls.append(text)
        return {"text": text, "intent": None, "slots": {}, "response": None}


@pytest.fixture
def exposed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, CountingCommand, str]:
    monkeypatch.setenv("STRETCH_COACH_HOME", str(tmp_path / "home"))
    command = CountingCommand()
    parts = ServiceParts(lambda: {"state": "idle"}, command, EventHub())
    app = app_for(parts, "0.0.0.0")
    token = (tmp_path / "home" / "http-token").read_text().strip()
    return app.test_client(), command, token


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "coach.local", "10.0.0.5"])
def test_beyond_localhost_every_state_change_needs_the_token(
    host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRETCH_COACH_HOME", str(tmp_path / "home"))
    command = CountingCommand()
    client = app_for(
        ServiceParts(lambda: {"state": "idle"}, command, EventHub()), host
    ).test_client()
    token = (tmp_path / "home" / "http-token").read_text().strip()
    body = {"text": "start the quick routine"}
    bad_auth = [None, "", "Bearer", "Bearer ", f"Bearer {token[:-1]}", f"Bearer {token}x",
                f"Basic {token}", f"bearer{token}", token, f"Bearer {token.upper()}"]  # fmt: skip
    for auth in bad_auth:
        headers = {"Authorization": auth} if auth is not None else {}
        r = client.post("/command", json=body, headers=headers)
        assert r.status_code == 401, (auth, r.status_code)
    for method in ("put", "patch", "delete"):
        r = getattr(client, method)(
            "/command", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 405
    for path in ("/status", "/health", "/ready", "/metrics", "/history", "/", "/events?x=1"):
        if path.startswith("/events"):
            continue  # a stream: covered by tests/http
        client.get(path)
        client.post(path, json=body)
    assert command.calls == [], "a request without the token reached the coach"
    r = client.post("/command", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and command.calls == ["start the quick routine"]


def test_token_is_compared_in_constant_time() -> None:
    source = (ROOT / "voice" / "http" / "auth.py").read_text(encoding="utf-8")
    assert "hmac.compare_digest" in source
    assert not re.search(r"==\s*token|token\s*==", source)


def test_token_file_is_private(exposed: Any, tmp_path: Path) -> None:
    path = tmp_path / "home" / "http-token"
    assert path.stat().st_mode & 0o077 == 0
    assert (tmp_path / "home").stat().st_mode & 0o077 == 0


def test_history_database_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRETCH_COACH_HOME", str(tmp_path / "home"))
    from voice.store import HistoryStore

    store = HistoryStore()
    try:
        files = [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
        assert files
        parent = files[0].parent
        assert parent.stat().st_mode & 0o077 == 0, oct(parent.stat().st_mode)
    finally:
        store.close()


def test_history_database_file_itself_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRETCH_COACH_HOME", str(tmp_path / "home"))
    old = os.umask(0o022)
    try:
        from voice.store import HistoryStore

        store = HistoryStore()
        store.close()
    finally:
        os.umask(old)
    for p in (tmp_path / "home").rglob("*"):
        if p.is_file():
            assert p.stat().st_mode & 0o077 == 0, (p, oct(p.stat().st_mode))


def test_loopback_service_refuses_foreign_host_headers(live: Any) -> None:
    server, _ = live
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost.evil", "0.0.0.0"):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.putrequest("POST", "/command", skip_host=True)
        conn.putheader("Host", host)
        body = b'{"text": "start the quick routine"}'
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        assert conn.getresponse().status == 400, host
        conn.close()
    assert live[1].status()["state"] == "idle"


TRAVERSALS = ["/static/../../etc/passwd", "/static/..%2f..%2f..%2fetc%2fpasswd",
              "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/static/....//....//etc/passwd",
              "/static//etc/passwd", "/static/%00", "/static/dashboard.js%00.txt",
              "/static/..\\..\\app.py", "/static/../app.py", "/static/%2e%2e/app.py",
              "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", "/static/%c0%ae%c0%ae/app.py"]  # fmt: skip


def test_no_path_from_a_request_is_opened_outside_static(
    exposed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, _ = exposed
    static = (ROOT / "voice" / "http" / "static").resolve()
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy(file: Any, *a: Any, **k: Any) -> Any:
        opened.append(os.fspath(file) if not isinstance(file, int) else str(file))
        return real_open(file, *a, **k)

    def spy_os(path: Any, *a: Any, **k: Any) -> Any:
        opened.append(os.fspath(path))
        return real_os_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)
    monkeypatch.setattr(os, "open", spy_os)
    for path in TRAVERSALS:
        r = client.get(path)
        assert r.status_code in (308, 400, 404, 405), (path, r.status_code)
        if r.status_code == 308:  # Flask merging slashes: same host, a path under /static
            assert r.headers["Location"].startswith(("/static/", "http://localhost/static/"))
        assert b"root:" not in r.data
    for name in opened:
        if not name.isdigit():
            assert Path(name).resolve().is_relative_to(static), name


HTTP_SOURCES = sorted((ROOT / "voice" / "http").glob("*.py"))


def test_http_code_opens_no_file_named_by_a_request() -> None:
    """Static scan: the only file access in voice/http is the static folder (safe_join by
    Flask) and the token file (a fixed name in the config dir)."""
    risky = re.compile(
        r"\bopen\(|send_file\(|send_from_directory\(|read_text\(|read_bytes\(|os\.open\("
    )
    allowed = {"auth.py"}  # token file: path from config_dir(), never from a request
    for path in HTTP_SOURCES:
        text = path.read_text(encoding="utf-8")
        hits = [m.group(0) for m in risky.finditer(text)]
        if path.name in allowed:
            continue
        assert not hits, f"{path.name}: {hits}"
        if "request." in text:
            assert not re.search(r"Path\([^)]*request", text), path.name


PY_SOURCES = [p for d in ("voice", "intents", "content", "bench", "scripts", "tests")
              for p in sorted((ROOT / d).rglob("*.py"))]  # fmt: skip


def test_yaml_is_only_ever_safe_loaded() -> None:
    unsafe = re.compile(
        r"yaml\.(load|load_all|unsafe_load|unsafe_load_all|full_load|full_load_all)\(|Loader\s*=|yaml\.(Unsafe|Full)?Loader\b"
    )
    offenders = []
    for path in PY_SOURCES:
        if path == Path(__file__):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if unsafe.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_vosk_is_never_asked_to_download() -> None:
    source = (ROOT / "voice" / "hearing" / "vosk_engine.py").read_text(encoding="utf-8")
    calls = re.findall(r"(?<!`)vosk\.Model\(([^)]*)\)", source)
    assert calls and all("lang" not in c and "model_name" not in c for c in calls), calls


def test_nothing_at_run_time_opens_the_network() -> None:
    """Only `models download`/`models list --remote` may fetch; nothing else imports a client."""
    net = re.compile(
        r"urllib\.request|urlopen|http\.client|^import requests|socket\.create_connection", re.M
    )
    for path in [
        p for d in ("voice", "intents", "content") for p in sorted((ROOT / d).rglob("*.py"))
    ]:
        text = path.read_text(encoding="utf-8")
        if net.search(text):
            assert path.name == "models.py", path


def test_command_body_limit_and_json_errors(exposed: Any) -> None:
    client, command, token = exposed
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post(
        "/command", data=b"x" * 10_000, headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.is_json
    r = client.post("/command", data=b"{", headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.is_json and "Traceback" not in r.get_data(as_text=True)
    r = client.post(
        "/command",
        data=json.dumps({"text": "a" * 501}),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert command.calls == []
