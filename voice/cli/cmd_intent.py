"""`stretch-coach intent [TEXT...]`: text to intent and slots, one line per input."""

from __future__ import annotations

import argparse

from voice.appcontent import get_matcher
from voice.cli.common import add_content_arg, emit_json, inputs


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("intent", help="recognize the intent of text (stdin lines if none)")
    p.add_argument("text", nargs="*")
    p.add_argument("--json", action="store_true", help="JSON lines (the default output)")
    add_content_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    matcher = get_matcher(args.content)
    for text in inputs(args.text):
        emit_json(matcher.match(text).to_dict())
    return 0
