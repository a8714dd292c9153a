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


def inputs(items: list[str]) -> list[str]:
    """The arguments, or stdin lines when there are none."""
    if items:
        return items
    return [line.rstrip("\n") for line in sys.stdin if line.strip()]


def emit_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)
