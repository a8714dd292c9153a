"""`stretch-coach simulate SCRIPT`: replay a scripted session on a simulated clock."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voice.appcontent import get_content, get_matcher
from voice.cli.common import add_content_arg, emit_json
from voice.coach.counting import COUNT_STYLES
from voice.coach.machine import Coach, CoachSettings
from voice.errors import UserError
from voice.simulate import format_transcript, parse_script, simulate


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("simulate", help="replay '<seconds> <utterance>' lines instantly")
    p.add_argument("script", help="script file, or - for stdin")
    p.add_argument("--json", action="store_true", help="JSON lines of spoken lines and status")
    p.add_argument("--count-style", choices=COUNT_STYLES, default="marks")
    p.add_argument("--returning", action="store_true", help="not the first session: no safety note")
    p.add_argument("--until", type=float, default=None, help="stop the clock at this second")
    p.add_argument("--show-heard", action="store_true", help="also print what was heard")
    add_content_arg(p)
    p.set_defaults(func=run)


def read_script(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{name}: no such script file", 2) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{name}: cannot read script: {exc}", 2) from None


def run(args: argparse.Namespace) -> int:
    script = parse_script(read_script(args.script), args.script)
    content = get_content(args.content)
    settings = CoachSettings(count_style=args.count_style, first_session=not args.returning)
    records = simulate(Coach(content, settings), get_matcher(args.content), script, args.until)
    if args.json:
        for record in records:
            if record.kind in ("say", "status", "ended") or args.show_heard:
                emit_json(record.to_dict())
    else:
        print(format_transcript(records, heard=args.show_heard))
    return 0
