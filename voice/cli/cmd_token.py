"""`stretch-coach token`: the bearer token POST /command needs when served beyond localhost."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "token",
        help="print the HTTP API token (made on first use)",
        description=(
            "Print the token that guards POST /command when `serve` or `run --http` binds "
            "beyond localhost. Stored with mode 0600 in the user config dir "
            "(STRETCH_COACH_HOME overrides the dir)."
        ),
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--path", action="store_true", help="print where the token is stored")
    group.add_argument("--new", action="store_true", help="replace the token with a new one")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voice.http.auth import load_or_create_token, new_token, token_path

    if args.path:
        print(token_path())
    elif args.new:
        print(new_token())
    else:
        print(load_or_create_token())
    return 0
