"""Wires a running coach to the HTTP service (the coach itself never imports Flask)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from voice.errors import UserError
from voice.runtime.session import RunningCoach, build_coach


class _Binding:
    """The HTTP app is built before the coach; requests reach the coach once it is bound."""

    def __init__(self) -> None:
        self.running: RunningCoach | None = None
        self.server: Any = None
        self.metrics: Any = None

    def bind(self, running: RunningCoach) -> None:
        self.running = running
        if self.metrics is not None:
            attach_metrics(running, self.metrics)

    def status(self) -> dict[str, Any]:
        if self.running is None:
            return {"state": "starting"}
        return self.running.status()

    def command(self, text: str) -> dict[str, Any]:
        if self.running is None:
            raise RuntimeError("the coach is still starting")
        return self.running.loop.command(text)

    def history(self) -> dict[str, Any]:
        if self.running is None or self.running.history is None:
            return {"sessions": [], "streak_days": 0}
        return self.running.history()

    def ready(self) -> dict[str, bool]:
        if self.running is None:
            return {"coach": False}
        return self.running.ready()

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


class MetricsLink:
    """Counts what the coach hears by voice or keyboard (the app counts its own commands)."""

    def __init__(self, metrics: Any) -> None:
        self.metrics = metrics

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "heard" and data.get("source") != "http":
            self.metrics.observe_heard(data.get("intent"), command_seconds=data.get("seconds"))

    def session_ended(self, ended: Any) -> None:
        if ended.completed:
            self.metrics.observe_session_completed()


def attach_metrics(running: RunningCoach, metrics: Any) -> None:
    link = MetricsLink(metrics)
    running.loop.add_publisher(link)
    running.loop.session_listeners.append(link.session_ended)


def attach_http(args: argparse.Namespace) -> tuple[Any, _Binding]:
    from voice.http import EventHub, Metrics, ServiceParts, app_for, start_server
    from voice.http.server import BindError, parse_bind

    host, port = parse_bind(args.http)
    hub, binding = EventHub(), _Binding()
    binding.metrics = Metrics()
    parts = ServiceParts(
        binding.status,
        binding.command,
        hub,
        ready=binding.ready,
        metrics=binding.metrics,
        history=binding.history,
    )
    try:
        binding.server = start_server(app_for(parts, host), host, port)
    except BindError as exc:
        raise UserError(str(exc)) from None
    print(f"stretch-coach: dashboard at {binding.server.url}", file=sys.stderr)
    return hub, binding


def build_service(args: argparse.Namespace) -> Any:
    """For `stretch-coach serve`: a coach driven by HTTP commands only."""
    from voice.http import EventHub, Metrics
    from voice.http.context import ServiceParts
    from voice.runtime.session import add_session_args

    defaults = argparse.ArgumentParser(add_help=False)
    add_session_args(defaults)
    for key, value in vars(defaults.parse_args([])).items():
        if not hasattr(args, key):
            setattr(args, key, value)
    hub, metrics = EventHub(), Metrics()
    running = build_coach(args, hub)
    attach_metrics(running, metrics)
    return ServiceParts(
        running.status,
        running.loop.command,
        hub,
        ready=running.ready,
        metrics=metrics,
        history=running.history,
        close=running.close,
    )
