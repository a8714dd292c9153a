"""`stretch-coach transcribe FILE...`: text and intent of recordings, one JSON line per file."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_LOG = logging.getLogger("stretch-coach.transcribe")


def register(subparsers: Any) -> None:
    from voice.hearing.cli_options import add_engine_options

    p = subparsers.add_parser(
        "transcribe",
        help="recognize commands in audio files (WAV/FLAC, or '-' for raw PCM on stdin)",
        description=(
            "Decode each file with the grammar compiled from the sentence templates and "
            'print one JSON line per file: {"file", "text", "intent", "slots", "confidence"}. '
            "'-' reads raw 16 kHz mono 16-bit little-endian PCM from stdin."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--sentences",
        type=Path,
        action="append",
        help="hassil sentence file (repeatable; default: the coach's own templates)",
    )
    p.add_argument(
        "--intents",
        nargs="+",
        metavar="NAME",
        help="only these intents in the grammar (e.g. the ones of one coach state)",
    )
    p.add_argument(
        "--stream",
        action="store_true",
        help="decode as a live stream with endpointing: one line per utterance",
    )
    add_engine_options(p)
    p.set_defaults(func=run)


def _load_intents(sentences: list[Path] | None) -> Any:
    from voice.hearing.cli_options import default_sentences
    from voice.hearing.grammar import load_intents

    if sentences:
        return load_intents(sentences)
    try:  # the coach's own intents, with the content's lists filled in
        from content.loader import load_content
        from intents.templates import build_intents

        return build_intents(load_content())
    except ImportError:
        return load_intents(default_sentences())


def run(args: argparse.Namespace) -> int:
    from voice.errors import UserError
    from voice.hearing.audio_files import AudioError
    from voice.hearing.cli_options import engine_spec
    from voice.hearing.engines import create
    from voice.hearing.grammar import GrammarError, compile_grammar
    from voice.hearing.models import ModelError
    from voice.hearing.verify import Verifier

    if args.files.count("-") > 1:
        raise UserError("stdin ('-') can be read only once")
    try:
        intents = _load_intents(args.sentences)
        grammar = compile_grammar(intents, args.intents, name="transcribe")
        recognizer = create(engine_spec(args), {"transcribe": grammar})
    except (GrammarError, ModelError, ValueError, OSError) as err:
        raise UserError(str(err)) from err
    verifier = Verifier(intents)
    failed = 0
    for name in args.files:
        try:
            heard = list(
                _heard(recognizer, name, args.stream, lambda t: verifier.check(t, args.intents))
            )
        except AudioError as err:
            print(f"stretch-coach: {err}", file=sys.stderr)
            failed += 1
            continue
        for transcript, verdict in heard:
            line: dict[str, Any] = {
                "file": name,
                "text": verdict.text if verdict.accepted else transcript.text,
                "intent": verdict.intent if verdict.accepted else None,
                "slots": verdict.slots if verdict.accepted else {},
                "confidence": round(verdict.confidence, 3),
            }
            if args.stream:
                line["start"] = round(transcript.start, 2)
                line["end"] = round(transcript.end, 2)
            if not verdict.accepted:
                line["rejected"] = verdict.reason
            print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def _heard(recognizer: Any, name: str, stream: bool, check: Any) -> Iterator[tuple[Any, Any]]:
    """Each result of one file with its verdict, checked as it comes (a rejected one may get
    a second look at its audio, voice.hearing.second_look, which only the newest has)."""
    from voice.hearing.audio_files import FileAudioSource, read_audio
    from voice.hearing.second_look import with_second_look

    if not stream:
        yield with_second_look(recognizer.decode(read_audio(name)), check, recognizer)
        return
    recognizer.reset()
    for chunk in FileAudioSource(name).chunks():
        result = recognizer.accept(chunk)
        if result is not None:
            yield with_second_look(result, check, recognizer)
    tail = recognizer.flush()
    if tail is not None:
        yield with_second_look(tail, check, recognizer)
