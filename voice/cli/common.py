"""Arguments and helpers several commands share."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_content_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--content",
        type=Path,
        default=None,
        metavar="DIR",
        help="content directory (default: the shipped English content)",
    )


def add_labelled_recordings(parser: argparse.ArgumentParser, snr_help: str) -> None:
    """The labelled set and its noise, as eval and adapt take them."""
    parser.add_argument(
        "--sentences",
        type=Path,
        required=True,
        action="append",
        help="hassil sentence file that defines the grammar (repeatable)",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        required=True,
        help='JSON {"file.flac": {"intent": ..., "slots": {...}}}',
    )
    parser.add_argument("--audio", type=Path, required=True, help="directory of the recordings")
    parser.add_argument("--noise", type=Path, help="noise recording to mix in")
    parser.add_argument("--snr", type=float, nargs="+", default=[], metavar="DB", help=snr_help)


def check_labelled_recordings(args: argparse.Namespace) -> None:
    from voice.errors import UserError

    if not args.audio.is_dir():
        raise UserError(f"{args.audio}: not a directory of recordings")
    if args.snr and args.noise is None:
        raise UserError("--snr needs --noise NOISE")


def inputs(items: list[str]) -> list[str]:
    """The arguments, or stdin lines when there are none."""
    if items:
        return items
    return [line.rstrip("\n") for line in sys.stdin if line.strip()]


def emit_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)
