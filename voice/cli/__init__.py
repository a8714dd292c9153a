"""The `stretch-coach` command line: one module per subcommand, listed in COMMANDS.

Logs go to stderr, data to stdout. A command returns its exit code; bad input is one clear
line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from voice import __version__
from voice.errors import UserError

# Each module exposes register(subparsers); listed here rather than discovered so that
# start-up imports only what it names.
COMMANDS: tuple[str, ...] = (
    "voice.cli.cmd_intent",
    "voice.cli.cmd_ask",
    "voice.cli.cmd_content",
    "voice.cli.cmd_simulate",
    "voice.cli.cmd_run",
    "voice.cli.cmd_transcribe",
    "voice.cli.cmd_eval",
    "voice.cli.cmd_adapt",
    "voice.cli.cmd_devices",
    "voice.cli.cmd_models",
    "voice.cli.cmd_serve",
    "voice.cli.cmd_token",
    "voice.cli.cmd_history",
    "voice.cli.cmd_bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stretch-coach", description="Offline voice coach for psoas and hip-flexor stretches."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command that is not built yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.func(args)
    except UserError as exc:
        print(f"stretch-coach: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
