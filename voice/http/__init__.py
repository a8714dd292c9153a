"""The status service: a Flask API, a live event stream and a dashboard, served by waitress.

The coach never imports this package; a runtime wires the coach to it through plain
callables (`create_app`), an `EventHub` it publishes to, and a `Metrics` it feeds.
"""

from voice.http.app import app_for, create_app
from voice.http.auth import is_loopback, load_or_create_token, token_path
from voice.http.context import ServiceParts
from voice.http.hub import Event, EventHub
from voice.http.metrics import Metrics
from voice.http.server import ServerHandle, parse_bind, serve_forever, start_server

__all__ = [
    "app_for",
    "create_app",
    "Event",
    "EventHub",
    "is_loopback",
    "load_or_create_token",
    "Metrics",
    "parse_bind",
    "serve_forever",
    "ServerHandle",
    "ServiceParts",
    "start_server",
    "token_path",
]
