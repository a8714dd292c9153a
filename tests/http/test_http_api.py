"""Every endpoint and every error path, through the Flask test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from http_fakes import TOKEN, RecordedCoach
from werkzeug.test import TestResponse

from voice.http import EventHub, Metrics, create_app


def assert_json_error(resp: TestResponse, code: int) -> dict[str, Any]:
    assert resp.status_code == code
    assert resp.mimetype == "application/json"
    body: dict[str, Any] = resp.get_json()
    assert body["status"] == code
    assert body["error"] and isinstance(body["message"], str)
    assert b"Traceback" not in resp.data and b"<html" not in resp.data.lower()
    return body


# --- /status, /health, /ready, /history, /metrics --------------------------------------------


def test_status_is_the_coach_status_plus_service_fields(client: FlaskClient) -> None:
    resp = client.get("/status")
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["state"], body["routine"], body["remaining_seconds"]) == ("idle", None, None)
    assert body["tts"] == "none" and body["input"] == "text" and body["engine"] is None
    assert isinstance(body["uptime_seconds"], float) and body["uptime_seconds"] >= 0
    assert list(body)[:2] == ["state", "routine"]  # the coach's order is kept


def test_status_always_has_engine_and_tts_keys(hub: EventHub) -> None:
    app = create_app(lambda: {"state": "idle"}, lambda t: {}, hub)
    body = app.test_client().get("/status").get_json()
    assert body["engine"] is None and body["tts"] is None and body["state"] == "idle"


def test_health(client: FlaskClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_ready_without_checks_is_ready(client: FlaskClient) -> None:
    resp = client.get("/ready")
    assert resp.status_code == 200 and resp.get_json() == {"ready": True, "checks": {}}


@pytest.mark.parametrize(
    ("checks", "code"),
    [({"recognizer": True, "audio": True}, 200), ({"recognizer": True, "audio": False}, 503)],
)
def test_ready_reports_each_check(
    coach: RecordedCoach, hub: EventHub, checks: dict[str, bool], code: int
) -> None:
    app = create_app(coach.status, coach.command, hub, ready=lambda: checks)
    resp = app.test_client().get("/ready")
    assert resp.status_code == code
    assert resp.get_json() == {"ready": code == 200, "checks": checks}


def test_history_when_not_kept(client: FlaskClient) -> None:
    resp = client.get("/history")
    assert resp.status_code == 200
    assert resp.get_json() == {"kept": False, "sessions": [], "streak_days": 0}


def test_history_when_given(coach: RecordedCoach, hub: EventHub) -> None:
    history = {"sessions": [{"routine_name": "Quick routine", "completed": True}], "streak_days": 3}
    app = create_app(coach.status, coach.command, hub, history=lambda: history)
    assert app.test_client().get("/history").get_json() == {"kept": True, **history}


def test_metrics_prometheus_text(client: FlaskClient, metrics: Metrics) -> None:
    metrics.observe_heard("Pause", recognition_seconds=0.3, command_seconds=0.002)
    metrics.observe_heard(None)
    metrics.observe_rejected()
    metrics.observe_session_completed()
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    assert "stretch_coach_utterances_heard_total 2.0" in text
    assert 'stretch_coach_intents_total{intent="Pause",source="voice"} 1.0' in text
    assert 'stretch_coach_intents_total{intent="none",source="voice"} 1.0' in text
    assert "stretch_coach_rejected_results_total 1.0" in text
    assert "stretch_coach_sessions_completed_total 1.0" in text
    assert "stretch_coach_recognition_latency_seconds_count 1.0" in text
    assert "stretch_coach_event_streams 0.0" in text


def test_app_makes_its_own_metrics_when_none_given(coach: RecordedCoach, hub: EventHub) -> None:
    app = create_app(coach.status, coach.command, hub)
    assert b"stretch_coach_command_latency_seconds" in app.test_client().get("/metrics").data


# --- POST /command ------------------------------------------------------------------------------


def test_command_runs_text_and_returns_intent(
    client: FlaskClient, coach: RecordedCoach, metrics: Metrics
) -> None:
    resp = client.post("/command", json={"text": "  start the quick routine  "})
    assert resp.status_code == 200
    reply = resp.get_json()
    assert (reply["text"], reply["intent"], reply["slots"]) == (
        "start the quick routine",
        "StartRoutine",
        {"routine": "quick"},
    )
    assert reply["response"].startswith("Let's start the quick routine. 2 stretches")
    assert coach.commands == ["start the quick routine"]
    assert client.get("/status").get_json()["routine"] == "quick"
    resp = client.post("/command", json={"text": "pause"})
    assert resp.get_json()["intent"] == "Pause"
    assert client.get("/status").get_json()["paused"] is True
    text = client.get("/metrics").get_data(as_text=True)
    assert 'stretch_coach_intents_total{intent="StartRoutine",source="http"} 1.0' in text
    assert 'stretch_coach_intents_total{intent="Pause",source="http"} 1.0' in text
    assert "stretch_coach_command_latency_seconds_count 2.0" in text


def test_command_accepts_json_with_charset(client: FlaskClient) -> None:
    resp = client.post(
        "/command", data=b'{"text": "pause"}', content_type="application/json; charset=utf-8"
    )
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_command_needs_json_content_type(client: FlaskClient, content_type: str | None) -> None:
    resp = client.post("/command", data=b'{"text": "pause"}', content_type=content_type)
    assert_json_error(resp, 415)


@pytest.mark.parametrize(
    "body",
    [b"{bad json", b"", b"\xff\xfe", b"[]", b'"pause"', b"{}", b'{"text": 3}', b'{"text": "  "}'],
)
def test_command_bad_body_is_400(client: FlaskClient, coach: RecordedCoach, body: bytes) -> None:
    assert_json_error(client.post("/command", data=body, content_type="application/json"), 400)
    assert coach.commands == []


def test_command_text_too_long_is_400(client: FlaskClient) -> None:
    resp = client.post("/command", json={"text": "a" * 501})
    assert "longer than" in assert_json_error(resp, 400)["message"]


def test_command_body_over_limit_is_413(client: FlaskClient, coach: RecordedCoach) -> None:
    resp = client.post("/command", json={"text": "pause", "pad": "x" * 5000})
    assert_json_error(resp, 413)
    assert coach.commands == []


def test_command_get_is_405_with_allow(client: FlaskClient) -> None:
    resp = client.get("/command")
    assert_json_error(resp, 405)
    assert "POST" in resp.headers["Allow"]


@pytest.mark.parametrize("path", ["/status", "/health", "/metrics", "/events"])
def test_post_to_read_only_endpoints_is_405(client: FlaskClient, path: str) -> None:
    assert_json_error(client.post(path, json={}), 405)


def test_unknown_path_is_404_json(client: FlaskClient) -> None:
    assert_json_error(client.get("/nope"), 404)
    assert_json_error(client.get("/static/nope.js"), 404)


def test_coach_failure_is_500_json_without_traceback(hub: EventHub) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("secret internals")

    app = create_app(broken, lambda t: {}, hub)
    body = assert_json_error(app.test_client().get("/status"), 500)
    assert "secret" not in json.dumps(body)


# --- the token -------------------------------------------------------------------------------


def test_token_mode_refuses_command_without_token(
    token_client: FlaskClient, coach: RecordedCoach
) -> None:
    resp = token_client.post("/command", json={"text": "pause"})
    assert_json_error(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert coach.commands == []


@pytest.mark.parametrize(
    "header", [f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer ", f"Bearer {TOKEN[:-1]}"]
)
def test_token_mode_refuses_wrong_token(token_client: FlaskClient, header: str) -> None:
    resp = token_client.post("/command", json={"text": "pause"}, headers={"Authorization": header})
    assert_json_error(resp, 401)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_token_mode_accepts_right_token(token_client: FlaskClient, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} {TOKEN}"}
    resp = token_client.post("/command", json={"text": "pause"}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["intent"] == "Pause"


def test_token_is_checked_before_the_body(token_client: FlaskClient) -> None:
    # An unauthenticated client learns nothing about what the endpoint accepts.
    assert_json_error(token_client.post("/command", data=b"x", content_type="text/plain"), 401)


def test_token_mode_leaves_reads_open_and_accepts_any_host(token_client: FlaskClient) -> None:
    resp = token_client.get("/status", headers={"Host": "coach.local:8765"})
    assert resp.status_code == 200


def test_require_token_without_token_is_refused(coach: RecordedCoach, hub: EventHub) -> None:
    with pytest.raises(ValueError):
        create_app(coach.status, coach.command, hub, require_token=True)


@pytest.mark.parametrize("host", ["localhost:8765", "127.0.0.1:8765", "[::1]:8765", "localhost"])
def test_localhost_mode_accepts_loopback_hosts(client: FlaskClient, host: str) -> None:
    assert client.get("/status", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "192.168.1.20:8765"])
def test_localhost_mode_refuses_other_hosts(
    client: FlaskClient, coach: RecordedCoach, host: str
) -> None:
    # A DNS-rebinding page would arrive with its own host name.
    resp = client.post("/command", json={"text": "pause"}, headers={"Host": host})
    assert_json_error(resp, 400)
    assert coach.commands == []


# --- headers and the dashboard -----------------------------------------------------------------


def test_security_headers(client: FlaskClient) -> None:
    resp = client.get("/status")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]


def test_dashboard_page_and_assets(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for needle in ('id="countdown"', 'id="ring-bar"', 'data-command="pause"', "dashboard.js"):
        assert needle in html
    page.close()
    for asset, mimetype in [("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")]:
        resp = client.get(f"/static/{asset}")
        assert resp.status_code == 200 and resp.mimetype == mimetype
        resp.close()


def test_app_runs_with_debug_off(app: Flask) -> None:
    assert app.debug is False and app.config["PROPAGATE_EXCEPTIONS"] is False


# --- /events ---------------------------------------------------------------------------------


def sse_messages(resp: TestResponse) -> Iterator[str]:
    """SSE messages (blank-line separated) from a streamed test response."""
    buffer = ""
    for chunk in resp.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            message, buffer = buffer.split("\n\n", 1)
            yield message


def test_events_stream_snapshot_then_events_and_heartbeats(
    client: FlaskClient, hub: EventHub
) -> None:
    resp = client.get("/events", buffered=False)
    try:
        assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
        assert resp.headers["Cache-Control"] == "no-cache"
        messages = sse_messages(resp)
        assert next(messages) == "retry: 2000"
        kind, data = next(messages).split("\n")
        assert kind == "event: status"
        snapshot = json.loads(data.removeprefix("data: "))
        assert snapshot["state"] == "idle" and "uptime_seconds" in snapshot
        assert hub.subscriber_count == 1
        hub.publish("heard", {"text": "pause", "intent": "Pause"})
        event = next(messages).split("\n")
        assert event[0].startswith("id: ")
        assert event[1:] == ["event: heard", 'data: {"text":"pause","intent":"Pause"}']
        assert next(messages) == ": ping"  # nothing published: a heartbeat comment
    finally:
        resp.close()
    assert hub.subscriber_count == 0


def test_events_stream_ends_after_max_seconds(app: Flask, hub: EventHub) -> None:
    app.config["SSE_MAX_SECONDS"] = 0.2
    resp = app.test_client().get("/events", buffered=False)
    assert sum(1 for _ in sse_messages(resp)) >= 2  # finishes by itself
    resp.close()
    assert hub.subscriber_count == 0


def test_events_closed_before_reading_frees_the_slot(client: FlaskClient, hub: EventHub) -> None:
    resp = client.get("/events", buffered=False)
    assert hub.subscriber_count == 1
    resp.close()
    assert hub.subscriber_count == 0


def test_events_refuses_past_max_subscribers(client: FlaskClient, hub: EventHub) -> None:
    open_streams = [client.get("/events", buffered=False) for _ in range(hub.max_subscribers)]
    try:
        resp = client.get("/events")
        assert_json_error(resp, 503)
        assert resp.headers["Retry-After"] == "5"
    finally:
        for stream in open_streams:
            stream.close()
    assert client.get("/events", buffered=False).status_code == 200


def test_events_after_hub_closed_is_503(client: FlaskClient, hub: EventHub) -> None:
    hub.close()
    assert_json_error(client.get("/events"), 503)


def test_events_snapshot_failure_frees_the_slot(hub: EventHub) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    app = create_app(broken, lambda t: {}, hub)
    assert_json_error(app.test_client().get("/events"), 500)
    assert hub.subscriber_count == 0
