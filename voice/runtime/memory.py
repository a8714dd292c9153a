"""Connects the session store to a running coach: history is recorded, the coach gets the
facts it may speak about, and a session cut short by a crash is offered for continuing."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from voice.coach.events import ResumeOffered
from voice.runtime.session import RunningCoach

log = logging.getLogger(__name__)


class _ResumeLink:
    """Before the Recorder sees a continued session, give it the original start time."""

    def __init__(self, recorder: Any, position: dict[str, Any]) -> None:
        self.recorder = recorder
        self.position: dict[str, Any] | None = position

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "status" and data.get("resumed") and self.position is not None:
            self.recorder.resume_from(self.position)
            self.position = None


def attach_memory(running: RunningCoach) -> Any | None:
    """Open the store and wire it in; None (after one warning) when it cannot be opened."""
    from voice.store import HistoryStore, Recorder

    try:
        store = HistoryStore()
    except (sqlite3.Error, OSError, RuntimeError) as exc:
        log.warning("session history is off: %s", exc)
        return None
    recorder = Recorder(store)
    loop = running.loop
    position = store.load_position()
    if position is not None:
        loop.add_publisher(_ResumeLink(recorder, position))
    loop.add_publisher(recorder)
    loop.session_listeners.append(recorder.on_session_end)
    loop.session_listeners.append(lambda ended: refresh_facts(running, store))
    loop.call(lambda: refresh_facts(running, store))
    if position is not None:
        loop.post(ResumeOffered(running.clock.now(), position))
    running.closers.append(store.close)
    return store


def refresh_facts(running: RunningCoach, store: Any) -> None:
    """Hand the coach what the store knows, as lines it can say. Runs on the loop thread."""
    from voice.store import answers

    settings = running.loop.coach.settings
    try:
        today = store.today()
        settings.history = {
            "week": answers.week_count_line(store, today),
            "streak": answers.streak_line(store, today),
            "last": answers.last_session_line(store, today),
        }
        settings.opening_note = answers.behind_nudge(store, today)
        settings.first_session = store.last_session() is None and settings.first_session
    except (sqlite3.Error, OSError) as exc:
        log.warning("could not read the session history: %s", exc)
