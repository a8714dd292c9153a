"""Recorder: the CoachLoop's publisher and session listener that keeps the history.

    store = HistoryStore()
    recorder = Recorder(store)
    loop.add_publisher(recorder)
    loop.session_listeners.append(recorder.on_session_end)

It runs on the coach thread, so it must never raise into it: a failed write is logged and
the session goes on (coaching matters more than the record of it).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from voice.coach.commands import SessionEnded
from voice.store.history import NO_POSITION_STATES, HistoryStore

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, store: HistoryStore, now: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self._now = now or (lambda: datetime.now(UTC))
        self._started: datetime | None = None  # wall-clock start of the running session
        self._routine_name: str | None = None
        self._failed = False

    def publish(self, kind: str, data: Mapping[str, Any]) -> None:
        if kind != "status":
            return
        if _active(data) and self._started is None:
            # The first status of a session is emitted in the same step that starts it.
            self._started = self._now()
        if _active(data) and data.get("routine_name"):
            self._routine_name = str(data["routine_name"])
        self._guard("save the session position", self.store.save_position, data, self._started)

    def on_session_end(self, ended: SessionEnded) -> None:
        end = self._now()
        start = self._started or _start_from_clock(ended.summary, end)
        self._guard(
            "record the session",
            self.store.record_session,
            ended.summary,
            start,
            end,
            self._routine_name,
        )
        # The finished status that follows clears it too; do it now so a crash in between
        # does not offer to resume a session that ended.
        self._guard("clear the session position", self.store.clear_position)
        self._started = None
        self._routine_name = None

    def resume_from(self, position: Mapping[str, Any]) -> None:
        """Before resuming a saved position: keep the interrupted session's wall start."""
        started = position.get("session_started_at")
        if started:
            self._started = datetime.fromisoformat(str(started))

    def _guard(self, what: str, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except (sqlite3.Error, OSError) as exc:
            # Loud once, then quiet: a full disk would otherwise log on every status change.
            level = logging.DEBUG if self._failed else logging.WARNING
            log.log(level, "could not %s in %s: %s", what, self.store.path, exc)
            self._failed = True


def _active(status: Mapping[str, Any]) -> bool:
    return bool(status.get("routine")) and status.get("state") not in NO_POSITION_STATES


def _start_from_clock(summary: Mapping[str, Any], end: datetime) -> datetime:
    """When the Recorder missed the start: the coach's own duration, back from the end."""
    try:
        seconds = float(summary["ended_at"]) - float(summary["started_at"])
    except (KeyError, TypeError, ValueError):
        seconds = 0.0
    return end - timedelta(seconds=max(0.0, seconds))
