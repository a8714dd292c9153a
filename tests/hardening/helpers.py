"""Helpers shared by the hardening tests: running the CLI in-process or in a child, with a
timeout and a memory cap, and checking that a failure is a clean message, not a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import resource
import subprocess
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    code: int | None  # None: the command raised (a traceback) or timed out
    stdout: str
    stderr: str
    raised: str | None = None

    @property
    def clean(self) -> bool:
        return self.raised is None and "Traceback" not in self.stderr


def cli_inprocess(argv: Sequence[str], stdin: str = "") -> Outcome:
    """voice.cli.main(argv) in this process; an escaping exception is recorded, not raised."""
    from voice.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:
                code = int(exc.code or 0)
            except BaseException:  # noqa: BLE001 - exactly what the test looks for
                return Outcome(None, out.getvalue(), err.getvalue(), traceback.format_exc())
    finally:
        sys.stdin = old_stdin
    return Outcome(code, out.getvalue(), err.getvalue())


def _limit_memory(max_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def cli_child(
    argv: Sequence[str],
    stdin: str = "",
    timeout: float = 60.0,
    max_memory: int | None = None,
    env: dict[str, str] | None = None,
) -> Outcome:
    """`python -m voice argv` in a child process, killed after `timeout` seconds."""
    preexec = (lambda: _limit_memory(max_memory)) if max_memory else None
    try:
        done = subprocess.run(
            [sys.executable, "-m", "voice", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=preexec,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        return Outcome(None, "", err, f"timed out after {timeout} s")
    return Outcome(done.returncode, done.stdout, done.stderr)


def describe(o: Outcome) -> str:
    return f"exit={o.code}\nstderr:\n{o.stderr[-2000:]}\nraised:\n{(o.raised or '')[-2000:]}"
