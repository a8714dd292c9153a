"""Running the app under waitress: blocking (`stretch-coach serve`) or in a background thread
(`stretch-coach run --http`, where the coach and the service share one process)."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Any

import waitress.server
from flask import Flask

from voice.http.context import Service
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


def make_server(app: Flask, host: str, port: int, threads: int | None = None) -> Any:
    """A bound, not yet running waitress server (port 0 picks a free port)."""
    return waitress.server.create_server(
        app,
        host=host,
        port=port,
        threads=threads or default_threads(app),
        ident="stretch-coach",
        max_request_body_size=MAX_REQUEST_BODY,
    )


@dataclass
class ServerHandle:
    """A waitress server running in a daemon thread; stop() ends it."""

    app: Flask
    server: Any
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        # Close the event streams first: each holds a worker thread that waitress's
        # shutdown would otherwise wait on.
        hub = _hub(self.app)
        if hub is not None:
            hub.close()
        self.server.close()
        self.thread.join(timeout)


def start_server(
    app: Flask, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, threads: int | None = None
) -> ServerHandle:
    """Serve `app` in a background thread; returns once the socket is listening."""
    server = make_server(app, host, port, threads)
    bound_host, bound_port = _bound_address(server)
    thread = threading.Thread(target=server.run, name="stretch-coach-http", daemon=True)
    thread.start()
    return ServerHandle(app, server, thread, bound_host, bound_port)


def serve_forever(
    app: Flask, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, threads: int | None = None
) -> None:
    """Serve `app` in this (main) thread until SIGINT or SIGTERM."""
    server = make_server(app, host, port, threads)
    bound_host, bound_port = _bound_address(server)
    hub = _hub(app)

    def stop(signum: int, frame: FrameType | None) -> None:
        # End the event streams before waitress waits for its worker threads to finish.
        if hub is not None:
            hub.close()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop)
    print(f"stretch-coach: serving on http://{bound_host}:{bound_port}", flush=True)
    try:
        server.run()  # returns after closing itself on KeyboardInterrupt
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def _hub(app: Flask) -> EventHub | None:
    svc: Service | None = app.extensions.get("stretch_coach")
    return svc.hub if svc is not None else None


def _bound_address(server: Any) -> tuple[str, int]:
    # A host like "localhost" can bind several sockets (a MultiSocketServer); report the first.
    if hasattr(server, "effective_port"):
        return str(server.effective_host), int(server.effective_port)
    host, port = server.effective_listen[0]
    return str(host), int(port)
