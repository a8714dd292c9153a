"""The real coach behind the app for endpoint tests, recording the commands that reach it.

Named for what it used to hold (a fake coach); the coach here is the real one from
`voice.runtime.session.build_coach`, idle until a test starts a routine, speaking silently.
"""

from __future__ import annotations

import threading
from typing import Any

from live_coach import session_args

from voice.runtime.loop import Publisher
from voice.runtime.session import RunningCoach, build_coach

TOKEN = "test-token-0123456789"


class RecordedCoach:
    """A running real coach; `commands` lists the texts the app handed to it."""

    def __init__(self, publisher: Publisher | None = None) -> None:
        self.running: RunningCoach = build_coach(session_args(), publisher)
        self.lock = threading.Lock()
        self.commands: list[str] = []

    def status(self) -> dict[str, Any]:
        return self.running.status()

    def command(self, text: str) -> dict[str, Any]:
        with self.lock:
            self.commands.append(text)
        return self.running.loop.command(text)

    def ready(self) -> dict[str, bool]:
        return self.running.ready()

    def close(self) -> None:
        self.running.close()
