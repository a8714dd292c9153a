"""`stretch-coach content check [DIR]`: validate the content and its cross-references."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from content.check import check_all
from content.errors import ContentError
from content.loader import load_content
from voice.coach.keys import PLACEHOLDERS, RESPONSE_KEYS
from voice.coach.machine import handled_intents


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("content", help="work with the coach's content")
    sub = p.add_subparsers(dest="content_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate schema, cross-references and sentence tests")
    check.add_argument("dir", nargs="?", type=Path, default=None)
    check.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        content = load_content(args.dir)
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    problems = check_all(content, handled_intents(), RESPONSE_KEYS, PLACEHOLDERS)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 2
    tests = len(content.test_files)
    print(
        f"content ok: {len(content.stretches)} stretches, {len(content.routines)} routines, "
        f"{len(content.faq)} FAQ entries, {len(content.responses)} responses, "
        f"{len(content.sentence_files)} sentence files, {tests} test files"
    )
    return 0
