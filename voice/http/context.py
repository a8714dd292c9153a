"""The coach-facing callables and settings one app serves, shared by its blueprints."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from voice.http.hub import EventHub
from voice.http.metrics import Metrics

StatusFn = Callable[[], dict[str, Any]]
CommandFn = Callable[[str], dict[str, Any]]
ReadyFn = Callable[[], dict[str, bool]]
HistoryFn = Callable[[], dict[str, Any]]


@dataclass
class Service:
    """What the blueprints need, kept in app.extensions["stretch_coach"]."""

    status: StatusFn
    command: CommandFn
    hub: EventHub
    metrics: Metrics
    token: str | None
    require_token: bool
    ready: ReadyFn | None = None
    history: HistoryFn | None = None
    started: float = field(default_factory=time.monotonic)


def service() -> Service:
    """The Service of the app handling the current request."""
    svc: Service = current_app.extensions["stretch_coach"]
    return svc


def _nothing() -> None:
    return None


@dataclass
class ServiceParts:
    """A coach session as the service sees it: what `create_app` takes, plus how to end it.

    `voice.runtime.service.build_service(args)` returns one for `stretch-coach serve`.
    """

    status: StatusFn
    command: CommandFn
    hub: EventHub
    ready: ReadyFn | None = None
    metrics: Metrics | None = None
    history: HistoryFn | None = None
    close: Callable[[], None] = _nothing
