"""`stretch-coach adapt`: an MLLR transform of PocketSphinx's model from labelled recordings."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from voice.cli.common import add_labelled_recordings, check_labelled_recordings

_LOG = logging.getLogger("stretch-coach.adapt")


def register(subparsers: Any) -> None:
    from voice.hearing.adaptation.adapt import ADAPT_SEED
    from voice.hearing.cli_options import add_engine_options

    p = subparsers.add_parser(
        "adapt",
        help="adapt PocketSphinx's acoustic model to labelled recordings (MLLR)",
        description=(
            "Decode labelled recordings with the built-in engine, align the ones it gets "
            "right to their words (clean and mixed with noise at each SNR), and write the "
            "global MLLR transform that fits them best. It starts from the model as shipped "
            "(--mllr is not applied). Use the result with --mllr FILE."
        ),
    )
    add_labelled_recordings(
        p, snr_help="also adapt on each recording mixed with the noise at these SNRs"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=ADAPT_SEED,
        help="noise offset seed (default %(default)s; eval's is 1234)",
    )
    p.add_argument(
        "--holdout",
        metavar="K/N",
        help="leave fold K of N out (measure on it with eval --fold K/N)",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=1,
        help="decode-align-estimate rounds (default 1: a second one changed nothing)",
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--out", type=Path, required=True, help="where to write the transform")
    add_engine_options(p)
    p.set_defaults(func=run)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from voice.errors import UserError
    from voice.hearing.adaptation.adapt import AdaptJob, adapt
    from voice.hearing.adaptation.statistics import MllrStats
    from voice.hearing.audio_files import AudioError, read_audio
    from voice.hearing.cli_options import engine_spec
    from voice.hearing.evaluate import load_labels
    from voice.hearing.folds import parse_fold
    from voice.hearing.grammar import GrammarError

    check_labelled_recordings(args)
    if args.iterations < 1:
        raise UserError("--iterations must be 1 or more")
    if args.engine == "vosk":
        raise UserError("adapt works on the built-in engine (PocketSphinx) only")

    def report(n: int, stats: MllrStats) -> None:
        _LOG.info("iteration %d: %d takes aligned, %d frames", n + 1, stats.utterances,
                  stats.frames)  # fmt: skip

    try:
        items = load_labels(args.labels, args.audio)
        if args.holdout:
            items = parse_fold(args.holdout).leave(items)
        if not items:
            raise UserError(f"no labelled recordings found in {args.audio}")
        if args.noise is not None:
            read_audio(args.noise)  # a bad noise file fails now, not in a worker
        job = AdaptJob(
            items=tuple(items),
            spec=engine_spec(args),
            sentences=tuple(str(s) for s in args.sentences),
            noise=str(args.noise) if args.noise else None,
            snrs=tuple(args.snr),
            seed=args.seed,
        )
        _LOG.info("adapting on %d recordings, %d take(s) each", len(items), 1 + len(args.snr))
        transform = adapt(job, iterations=args.iterations, jobs=args.jobs, report=report)
        transform.write(args.out)
    except (AudioError, GrammarError, ValueError) as err:
        raise UserError(str(err)) from err
    except OSError as err:
        raise UserError(f"{args.out}: {err.strerror or err}") from err
    print(args.out)
    return 0
