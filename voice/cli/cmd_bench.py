"""`stretch-coach bench`: regenerate docs/BENCHMARKS.md (issue 6)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

_LOG = logging.getLogger("stretch-coach.bench")

SECTIONS = ("commands", "barista", "false-activations", "latency", "cost")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "bench",
        help="run the benchmark suite and write docs/BENCHMARKS.md",
        description=(
            "Measure command acceptance per SNR (synthetic held-out voices, kitchen and babble "
            "noise, reverb), the barista dev set, false activations per hour, latency, CPU/RSS "
            "and start-up, and write them with the machine, versions and commands into the "
            "report. Sections by other suites in the report are kept as they are."
        ),
    )
    p.add_argument("--quick", action="store_true", help="tiny sample: a smoke test, not figures")
    p.add_argument("--only", nargs="+", choices=SECTIONS, metavar="SECTION",
                   help=f"run only these sections ({', '.join(SECTIONS)})")  # fmt: skip
    p.add_argument("--out", type=Path, help="report path (default docs/BENCHMARKS.md)")
    p.add_argument("--cache", type=Path, help="synthetic audio cache (default .bench/)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from voice.bench.common import default_cache, repo_root
    from voice.bench.corpus import check_tools
    from voice.errors import UserError

    missing = [tool for tool, path in check_tools().items() if path is None]
    if missing:
        raise UserError(f"bench needs {', '.join(missing)} (install with `make system-deps`)")
    from voice.bench.runner import run_bench

    out = args.out or repo_root() / "docs" / "BENCHMARKS.md"
    argv = (
        "stretch-coach bench"
        + "".join(f" {a}" for a in (["--quick"] if args.quick else []))
        + (f" --only {' '.join(args.only)}" if args.only else "")
    )
    run_bench(
        quick=args.quick,
        only=args.only,
        out=out,
        cache=args.cache or default_cache(),
        jobs=max(1, args.jobs),
        argv=argv,
    )
    print(f"wrote {out}", file=sys.stderr)
    return 0
