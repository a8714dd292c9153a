"""`stretch-coach ask QUESTION`: the spoken answer to a question about the stretches."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice.appcontent import get_content, get_matcher
from voice.cli.common import add_content_arg
from voice.coach.lines import Lines


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("ask", help="answer a question about the stretches")
    p.add_argument("question", nargs="+")
    add_content_arg(p)
    p.set_defaults(func=run)


def answer(question: str, content_dir: Path | None = None) -> str:
    content = get_content(content_dir)
    result = get_matcher(content_dir).match(question)
    entry = content.faq.get(result.slots.get("topic", "")) if result.intent == "AskFaq" else None
    if entry is not None:
        return entry.answer
    if result.intent == "StartStretch":
        stretch = content.stretches[result.slots["stretch"]]
        return " ".join((stretch.position, *stretch.steps, stretch.benefits))
    return Lines(content.responses).render_key("faq_unknown")


def run(args: argparse.Namespace) -> int:
    print(answer(" ".join(args.question), args.content))
    return 0
