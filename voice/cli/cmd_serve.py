"""`stretch-coach serve`: the status API, event stream and dashboard over HTTP (waitress)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import TYPE_CHECKING, Any

from voice.errors import UserError

if TYPE_CHECKING:
    from voice.http.context import ServiceParts

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    from voice.http.server import DEFAULT_HOST, DEFAULT_PORT

    parser = subparsers.add_parser(
        "serve",
        help="serve the coach's status, events and dashboard over HTTP",
        description=(
            "Serve /status, /events, /command, /metrics and the dashboard at / with waitress. "
            "Bound beyond localhost, POST /command needs the token `stretch-coach token` shows."
        ),
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument("--threads", type=int, default=None, help="waitress worker threads")
    parser.add_argument(
        "--demo", action="store_true", help="serve a simulated session instead of the coach"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voice.http import app_for, is_loopback, serve_forever
    from voice.http.server import BindError

    if not 0 <= args.port <= 65535:
        raise UserError(f"port out of range: {args.port}")
    parts = _session(args)
    try:
        app = app_for(parts, args.host)
        if not is_loopback(args.host):
            print(
                f"stretch-coach: listening beyond localhost on {args.host}; POST /command needs "
                "'Authorization: Bearer <token>' (run `stretch-coach token`).",
                file=sys.stderr,
            )
        serve_forever(app, args.host, args.port, args.threads)
    except BindError as exc:  # port in use, address not on this machine, no permission
        raise UserError(str(exc)) from None
    finally:
        parts.close()
    return 0


def _session(args: argparse.Namespace) -> ServiceParts:
    """The coach session to serve: the runtime's when it provides one, else the demo."""
    from voice.http.demo import demo_parts

    if not args.demo:
        try:
            service = importlib.import_module("voice.runtime.service")
        except ModuleNotFoundError as exc:
            if exc.name not in ("voice.runtime", "voice.runtime.service"):
                raise
        else:
            parts: ServiceParts = service.build_service(args)
            return parts
    log.warning("no coach runtime to serve yet: serving a simulated demo session")
    return demo_parts(start=False)
