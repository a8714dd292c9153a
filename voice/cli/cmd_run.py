"""`stretch-coach run`: a real session on the wall clock, by microphone or typed commands."""

from __future__ import annotations

import argparse
import logging
import sys

from voice.hearing.cli_options import add_engine_options
from voice.runtime.session import RunningCoach, add_session_args, build_coach
from voice.runtime.text_input import read_commands

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("run", help="run a coaching session (microphone, or --text)")
    p.add_argument("--text", action="store_true", help="type commands instead of speaking them")
    p.add_argument(
        "--http",
        nargs="?",
        const="127.0.0.1:8765",
        default=None,
        metavar="HOST:PORT",
        help="also serve status, events and the dashboard (default 127.0.0.1:8765)",
    )
    add_session_args(p)
    add_engine_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voice.runtime.service import attach_http

    hub, stop_http = attach_http(args) if args.http else (None, None)
    running = build_coach(args, hub)
    if stop_http is not None:
        stop_http.bind(running)
    try:
        if not args.text and _listen(args, running):
            return 0
        read_commands(running.loop, sys.stdin, prompt=sys.stdin.isatty())
    except KeyboardInterrupt:
        pass
    finally:
        running.close()
        if stop_http is not None:
            stop_http.close()
    return 0


def _listen(args: argparse.Namespace, running: RunningCoach) -> bool:
    """Listen on the microphone; False (after one line saying why) when there is none."""
    from voice.runtime.microphone import listen_forever

    return listen_forever(args, running)
