"""`stretch-coach eval`: command acceptance rate on labelled recordings, clean and in noise."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from voice.cli.common import add_labelled_recordings, check_labelled_recordings

_LOG = logging.getLogger("stretch-coach.eval")


def register(subparsers: Any) -> None:
    from voice.hearing.cli_options import add_engine_options
    from voice.hearing.evaluate import DEFAULT_SEED

    p = subparsers.add_parser(
        "eval",
        help="command acceptance rate on labelled recordings",
        description=(
            "Decode labelled recordings and print the command acceptance rate (intent and "
            "every labelled slot exact), clean first, then one row per SNR of mixed noise "
            "(Picovoice speech-to-intent benchmark method)."
        ),
    )
    add_labelled_recordings(p, snr_help="SNRs in dB, e.g. 24 21 18 15 12 9 6")
    p.add_argument("--no-clean", action="store_true", help="skip the clean row")
    p.add_argument("--limit", type=int, help="use N recordings spread over the set")
    p.add_argument(
        "--fold",
        metavar="K/N",
        help="only fold K of N (every N-th recording from the K-th; see adapt --holdout)",
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="noise offset seed (default %(default)s)"
    )
    p.add_argument("--failures", type=Path, help="write mis-recognitions as JSON lines here")
    p.add_argument("--json", action="store_true", help="print rows as JSON lines, not a table")
    p.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        help="also reject results below this confidence (default 0: the benchmark's rule; "
        "above 0 turns on PocketSphinx's phone-loop confidence pass)",
    )
    add_engine_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voice.errors import UserError
    from voice.hearing.audio_files import AudioError
    from voice.hearing.cli_options import engine_spec
    from voice.hearing.engines import resolve
    from voice.hearing.evaluate import evaluate, format_table, load_labels
    from voice.hearing.folds import parse_fold
    from voice.hearing.grammar import GrammarError
    from voice.hearing.models import ModelError

    check_labelled_recordings(args)
    try:
        spec = engine_spec(args)
        if args.min_confidence <= 0.0:
            # The acceptance rate does not use confidence: skip the phone-loop pass.
            spec = replace(spec, decoder=replace(spec.decoder, phone_loop_confidence=False))
        engine, _ = resolve(spec)
        items = load_labels(args.labels, args.audio, args.limit)
        if args.fold:
            items = parse_fold(args.fold).take(items)
        if not items:
            raise UserError(f"no labelled recordings found in {args.audio}")
        _LOG.info(
            "engine %s, %d recordings, %d condition(s)",
            engine,
            len(items),
            (0 if args.no_clean else 1) + len(args.snr),
        )
        rows = []
        started = time.monotonic()
        for row in evaluate(
            items,
            spec,
            args.sentences,
            args.noise,
            args.snr,
            args.seed,
            args.jobs,
            clean=not args.no_clean,
            min_confidence=args.min_confidence,
        ):
            rows.append(row)
            if args.json:
                print(
                    json.dumps(
                        {
                            "condition": row.condition,
                            "correct": row.correct,
                            "total": row.total,
                            "rate": round(row.rate, 4),
                            "cpu_per_audio_s": round(row.cpu_per_audio_s, 4),
                        }
                    ),
                    flush=True,
                )
            else:
                _LOG.info(
                    "%s: %.1f%% (%d/%d), %.3f s CPU per audio s",
                    row.condition,
                    100 * row.rate,
                    row.correct,
                    row.total,
                    row.cpu_per_audio_s,
                )
        if args.failures:
            with open(args.failures, "w", encoding="utf-8") as fh:
                for row in rows:
                    for fail in row.failures:
                        fh.write(json.dumps({"condition": row.condition, **fail}) + "\n")
    except (AudioError, GrammarError, ModelError, ValueError) as err:
        raise UserError(str(err)) from err
    if not args.json:
        print(
            f"engine: {engine}   recordings: {len(items)}   "
            f"wall: {time.monotonic() - started:.0f} s"
        )
        print(format_table(rows))
    sys.stdout.flush()
    return 0
