"""The Flask app factory. The coach is reached only through the callables passed in."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask.wrappers import Response
from werkzeug.exceptions import BadRequest

from voice.http.api import api
from voice.http.auth import is_loopback, load_or_create_token
from voice.http.context import CommandFn, HistoryFn, ReadyFn, Service, ServiceParts, StatusFn
from voice.http.dashboard import dashboard
from voice.http.errors import register_error_handlers
from voice.http.hub import EventHub
from voice.http.metrics import Metrics

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 4096
# Host names accepted while the service is localhost-only: refusing any other Host header
# stops DNS-rebinding pages from driving POST /command from a browser on this machine.
# (Checked here, not with Flask's TRUSTED_HOSTS, which cannot match an IPv6 literal.)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

# Content-Security-Policy for every response: the dashboard loads only its own files.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def create_app(
    status: StatusFn,
    command: CommandFn,
    hub: EventHub,
    *,
    token: str | None = None,
    require_token: bool = False,
    ready: ReadyFn | None = None,
    metrics: Metrics | None = None,
    history: HistoryFn | None = None,
) -> Flask:
    """Build the HTTP service around a coach.

    status: the coach status dict (as `simulate --json`), including "engine" and "tts";
        the app adds "uptime_seconds". Called from server threads: must be thread-safe.
    command: runs text as if spoken; returns {"text", "intent", "slots", "response"}.
    hub: where the runtime publishes "status", "heard" and "said" events for /events.
    token / require_token: when require_token, POST /command needs "Authorization:
        Bearer <token>". Set require_token when bound beyond localhost; while it is off,
        only loopback Host headers are accepted.
    ready: named readiness checks, e.g. {"recognizer": True, "audio": False}; /ready is
        200 only when all are true. None: always ready.
    metrics: the runtime's Metrics, so /metrics shows what it observed; None makes one.
    history: {"sessions": [...], "streak_days": n} for the dashboard; /history adds
        "kept" (False, with no sessions, when history is None).
    """
    if require_token and not token:
        raise ValueError("require_token needs a token")
    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        PROPAGATE_EXCEPTIONS=False,  # errors go to our JSON handlers, never a traceback
        SSE_HEARTBEAT_SECONDS=15.0,
        SSE_MAX_SECONDS=300.0,  # then the browser reconnects and the thread is freed
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the coach's key order
    app.extensions["stretch_coach"] = Service(
        status=status,
        command=command,
        hub=hub,
        metrics=metrics if metrics is not None else Metrics(),
        token=token,
        require_token=require_token,
        ready=ready,
        history=history,
    )
    app.register_blueprint(api)
    app.register_blueprint(dashboard)
    register_error_handlers(app)
    if not require_token:
        app.before_request(_loopback_host_only)
    app.after_request(_security_headers)
    return app


def _loopback_host_only() -> None:
    raw = request.environ.get("HTTP_HOST") or request.environ.get("SERVER_NAME", "")
    if host_name(raw) not in LOOPBACK_HOSTS:
        raise BadRequest(f"Host {raw!r} is not allowed while the coach serves localhost only.")


def host_name(host_header: str) -> str:
    """'Name:port' -> 'name'; an IPv6 literal keeps its brackets: '[::1]:80' -> '[::1]'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def app_for(parts: ServiceParts, host: str) -> Flask:
    """create_app for a coach session served on `host`: the token is required (and made on
    first use) exactly when `host` is not a loopback address."""
    exposed = not is_loopback(host)
    return create_app(
        parts.status,
        parts.command,
        parts.hub,
        token=load_or_create_token() if exposed else None,
        require_token=exposed,
        ready=parts.ready,
        metrics=parts.metrics,
        history=parts.history,
    )
