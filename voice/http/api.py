"""JSON endpoints: /status, /health, /ready, /events, /command, /metrics, /history."""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.wrappers import Response
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import (
    BadRequest,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)

from voice.http.auth import bearer_matches
from voice.http.context import Service, service
from voice.http.hub import HubClosed, HubFull, Subscription
from voice.http.metrics import CONTENT_TYPE

api = Blueprint("api", __name__)

MAX_COMMAND_CHARS = 500  # longer than anything a person says in one breath


def status_payload(svc: Service) -> dict[str, Any]:
    """The coach status plus what the service knows: engine and TTS keys always present."""
    payload = dict(svc.status())
    payload.setdefault("engine", None)
    payload.setdefault("tts", None)
    payload["uptime_seconds"] = round(time.monotonic() - svc.started, 1)
    return payload


@api.get("/status")
def get_status() -> Response:
    return jsonify(status_payload(service()))


@api.get("/health")
def get_health() -> Response:
    # Alive means this thread answered; it deliberately calls nothing in the coach.
    return jsonify({"status": "ok"})


@api.get("/ready")
def get_ready() -> tuple[Response, int]:
    svc = service()
    checks = {name: bool(ok) for name, ok in (svc.ready() if svc.ready else {}).items()}
    ready = all(checks.values())
    return jsonify({"ready": ready, "checks": checks}), 200 if ready else 503


@api.get("/history")
def get_history() -> Response:
    # 200 either way, so the dashboard can ask without a 404 in every browser console.
    svc = service()
    if svc.history is None:
        return jsonify({"kept": False, "sessions": [], "streak_days": 0})
    return jsonify({"kept": True, **svc.history()})


@api.get("/metrics")
def get_metrics() -> Response:
    svc = service()
    svc.metrics.event_streams.set(svc.hub.subscriber_count)
    return Response(svc.metrics.render(), content_type=CONTENT_TYPE)


@api.post("/command")
def post_command() -> Response:
    svc = service()
    _check_token(svc)
    text = _command_text()
    started = time.perf_counter()
    result = svc.command(text)
    svc.metrics.observe_command(time.perf_counter() - started, result.get("intent"))
    return jsonify(result)


def _check_token(svc: Service) -> None:
    if not svc.require_token:
        return
    assert svc.token is not None  # create_app refuses require_token without one
    if not bearer_matches(request.headers.get("Authorization"), svc.token):
        raise Unauthorized(
            "POST /command needs 'Authorization: Bearer <token>' (see `stretch-coach token`).",
            www_authenticate=WWWAuthenticate("Bearer"),
        )


def _command_text() -> str:
    # Requiring application/json also means a cross-site page cannot POST here without a
    # CORS preflight, which this service never answers.
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the command as application/json.")
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Body is not valid JSON: {exc}") from None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise BadRequest('Expected a JSON object like {"text": "pause"}.')
    if len(text) > MAX_COMMAND_CHARS:
        raise BadRequest(f"text is longer than {MAX_COMMAND_CHARS} characters.")
    return text.strip()


@api.get("/events")
def get_events() -> Response:
    svc = service()
    try:
        sub = svc.hub.subscribe()  # before the snapshot, so no change falls between them
    except (HubFull, HubClosed) as exc:
        raise ServiceUnavailable(str(exc), retry_after=5) from None
    try:
        snapshot = status_payload(svc)
    except BaseException:
        sub.close()
        raise
    cfg = current_app.config
    stream = _SSEStream(sub, snapshot, cfg["SSE_HEARTBEAT_SECONDS"], cfg["SSE_MAX_SECONDS"])
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream, mimetype="text/event-stream", headers=headers)


class _SSEStream:
    """The SSE body: retry hint, the current status, then events and heartbeat comments.

    A class rather than a bare generator because the server calls close() when the client
    goes away (its next write fails, at the latest one heartbeat later) even if iteration
    never started, and the subscriber slot must be freed in both cases.
    """

    def __init__(
        self, sub: Subscription, snapshot: dict[str, Any], heartbeat: float, max_seconds: float
    ) -> None:
        self._sub = sub
        self._gen = self._lines(snapshot, heartbeat, max_seconds)

    def _lines(
        self, snapshot: dict[str, Any], heartbeat: float, max_seconds: float
    ) -> Generator[str, None, None]:
        yield "retry: 2000\n\n"
        yield f"event: status\ndata: {json.dumps(snapshot, default=str)}\n\n"
        for event in self._sub.stream(heartbeat, max_seconds):
            yield ": ping\n\n" if event is None else event.to_sse()

    def __iter__(self) -> Iterator[str]:
        return self._gen

    def close(self) -> None:
        self._gen.close()
        self._sub.close()
