"""`stretch-coach serve`: the coach, driven over HTTP only: status API, event stream, dashboard
(waitress). Takes the same session options as `stretch-coach run` (--silent, --time-scale...)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from voice.errors import UserError


def register(subparsers: Any) -> None:
    from voice.http.server import DEFAULT_HOST, DEFAULT_PORT
    from voice.runtime.session import add_session_args

    parser = subparsers.add_parser(
        "serve",
        help="run the coach and serve its status, events and dashboard over HTTP",
        description=(
            "Run a coaching session driven by POST /command and the dashboard at /, and serve "
            "/status, /events and /metrics with waitress. Bound beyond localhost, POST /command "
            "needs the token `stretch-coach token` shows."
        ),
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument("--threads", type=int, default=None, help="waitress worker threads")
    add_session_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voice.http import app_for, is_loopback, serve_forever
    from voice.http.server import BindError
    from voice.runtime.service import build_service

    if not 0 <= args.port <= 65535:
        raise UserError(f"port out of range: {args.port}")
    parts = build_service(args)
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
