"""Fixtures for the HTTP service: the real coach (idle, silent) behind the real app.

No __init__.py in this folder on purpose: as a package it would be named `http` and shadow
the standard library's http module for every test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from http_fakes import TOKEN, RecordedCoach

from voice.http import EventHub, Metrics, create_app


@pytest.fixture
def hub() -> Iterator[EventHub]:
    hub = EventHub(queue_size=16, max_subscribers=2)
    yield hub
    hub.close()


@pytest.fixture
def coach(hub: EventHub) -> Iterator[RecordedCoach]:
    coach = RecordedCoach(hub)
    yield coach
    coach.close()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def app(coach: RecordedCoach, hub: EventHub, metrics: Metrics) -> Flask:
    app = create_app(coach.status, coach.command, hub, metrics=metrics)
    app.config["SSE_HEARTBEAT_SECONDS"] = 0.05  # fast heartbeats so stream tests finish fast
    app.config["SSE_MAX_SECONDS"] = 2.0
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token_app(coach: RecordedCoach, hub: EventHub, metrics: Metrics) -> Flask:
    """The app as served beyond localhost: POST /command needs the bearer token."""
    return create_app(coach.status, coach.command, hub, token=TOKEN, require_token=True)


@pytest.fixture
def token_client(token_app: Flask) -> FlaskClient:
    return token_app.test_client()
