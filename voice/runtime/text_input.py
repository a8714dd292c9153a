"""Typed commands: each stdin line is handled as if spoken."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from voice.runtime.loop import CoachLoop

log = logging.getLogger(__name__)


def read_commands(loop: CoachLoop, stream: TextIO = sys.stdin, prompt: bool = False) -> None:
    """Feed lines until end of input; then let a running session finish by itself."""
    if prompt:
        print(
            "Type a command (for example: start the quick routine). Ctrl-D ends.", file=sys.stderr
        )
    for line in stream:
        text = line.strip()
        if not text:
            continue
        try:
            loop.hear(text, source="text").result(timeout=10)
        except Exception as exc:  # one bad line must not end the session
            log.warning("could not handle %r: %s", text, exc)
    wait_for_session_end(loop)


def wait_for_session_end(loop: CoachLoop, poll: float = 0.2) -> None:
    """Return once no session runs and the last line has been spoken."""
    while loop.status()["state"] not in ("idle", "finished") or loop.busy():
        time.sleep(poll)
    wait_idle = getattr(loop.speaker, "wait_idle", None)
    if wait_idle is not None:
        wait_idle(30.0)
