"""Running the app under waitress: blocking (`stretch-coach serve`) or in a background thread
(`stretch-coach run --http`, where the coach and the service share one process)."""

from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Any

import waitress.server
from flask import Flask
from waitress import wasyncore

from voice.http.hub import EventHub

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Waitress buffers a whole request body before the app sees it; the app itself takes at
# most 4 KiB, so there is no reason to let a client park a large upload in memory or on disk.
MAX_REQUEST_BODY = 64 * 1024
# Worker threads beyond the open /events streams (each stream holds one thread).
SPARE_THREADS = 4


def parse_bind(value: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """'HOST:PORT', 'HOST', ':PORT' or '[::1]:PORT' -> (host, port)."""
    host, port = value, default_port
    if value.startswith("["):  # IPv6 literal
        end = value.index("]")
        host, rest = value[1:end], value[end + 1 :]
        if rest.startswith(":"):
            port = int(rest[1:])
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
        port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"port out of range: {port}")
    return host or DEFAULT_HOST, port


def default_threads(app: Flask) -> int:
    hub = _hub(app)
    return (hub.max_subscribers if hub is not None else 0) + SPARE_THREADS


class BindError(OSError):
    """The address could not be listened on (port in use, address not here, no permission)."""


def make_server(app: Flask, host: str, port: int, threads: int | None = None) -> Any:
    """A bound, not yet running waitress server (port 0 picks a free port)."""
    try:
        return waitress.server.create_server(
            app,
            host=host,
            port=port,
            threads=threads or default_threads(app),
            ident="stretch-coach",
            max_request_body_size=MAX_REQUEST_BODY,
        )
    except OSError as exc:
        raise BindError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


@dataclass
class ServerHandle:
    """A waitress server running in a daemon thread; stop() ends it."""

    app: Flask
    server: Any
    thread: threading.Thread
    host: str
    port: int
    stopping: threading.Event

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        """End the event streams, finish requests in flight, close every socket."""
        _request_stop(self.app, self.server, self.stopping)
        self.thread.join(timeout)


def start_server(
    app: Flask, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, threads: int | None = None
) -> ServerHandle:
    """Serve `app` in a background thread; returns once the socket is listening."""
    server = make_server(app, host, port, threads)
    bound_host, bound_port = _bound_address(server)
    stopping = threading.Event()
    thread = threading.Thread(
        target=_run_until, args=(server, stopping), name="stretch-coach-http", daemon=True
    )
    thread.start()
    return ServerHandle(app, server, thread, bound_host, bound_port, stopping)


def serve_forever(
    app: Flask, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, threads: int | None = None
) -> None:
    """Serve `app` in this (main) thread until SIGINT or SIGTERM."""
    server = make_server(app, host, port, threads)
    bound_host, bound_port = _bound_address(server)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        _request_stop(app, server, stopping)

    previous = signal.signal(signal.SIGTERM, on_signal), signal.signal(signal.SIGINT, on_signal)
    print(f"stretch-coach: serving on http://{bound_host}:{bound_port}", flush=True)
    try:
        _run_until(server, stopping)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def _request_stop(app: Flask, server: Any, stopping: threading.Event) -> None:
    # Close the event streams first: each holds a worker thread that shutdown waits on.
    hub = _hub(app)
    if hub is not None:
        hub.close()
    stopping.set()
    _wake(server)


def _run_until(server: Any, stopping: threading.Event, timeout: float = 5.0) -> None:
    """waitress's main loop, one poll at a time so a stop request ends it; then shut down.

    Everything is closed from this thread, the one that owns the socket map: closing it
    from another thread races the poll and the workers' wake-ups.
    """
    socket_map = _socket_map(server)
    use_poll = server.adj.asyncore_use_poll
    while socket_map and not stopping.is_set():
        wasyncore.loop(timeout=1.0, use_poll=use_poll, map=socket_map, count=1)
    server.task_dispatcher.shutdown(timeout=timeout)  # requests in flight finish
    wasyncore.close_all(socket_map)


def _wake(server: Any) -> None:
    # Pulling waitress's trigger (a socket pair in the map) ends the current poll at once.
    # A MultiSocketServer has no pull_trigger of its own; the servers in its map do.
    for owner in [server, *_socket_map(server).values()]:
        pull = getattr(owner, "pull_trigger", None)
        if callable(pull):
            # If the loop already ended it closed its trigger: there is nothing to wake.
            with contextlib.suppress(OSError):
                pull()
            return


def _socket_map(server: Any) -> dict[int, Any]:
    # A single server keeps its map in `_map`, a MultiSocketServer (several binds) in `map`.
    socket_map: dict[int, Any] = getattr(server, "_map", None) or server.map
    return socket_map


def _hub(app: Flask) -> EventHub | None:
    svc = app.extensions.get("stretch_coach")
    hub = getattr(svc, "hub", None)
    return hub if isinstance(hub, EventHub) else None


def _bound_address(server: Any) -> tuple[str, int]:
    # A host like "localhost" can bind several sockets (a MultiSocketServer); report the first.
    if hasattr(server, "effective_port"):
        return str(server.effective_host), int(server.effective_port)
    host, port = server.effective_listen[0]
    return str(host), int(port)
