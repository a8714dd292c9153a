"""HistoryStore: finished sessions, the facts the coach speaks about them, and the
running session's position for crash resume."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO

from voice.store import days as d
from voice.store.db import ConnectionPool, default_path, open_database

# A session "counts" toward streaks and weekly totals when it finished or held a stretch for
# some time; saying "start" then "stop" is not a stretch session. It is still listed.
COUNTED = (
    "(s.completed = 1 OR EXISTS (SELECT 1 FROM session_holds h "
    "WHERE h.session_id = s.id AND h.seconds > 0))"
)
NO_POSITION_STATES = frozenset({"idle", "finished"})
POSITION_FIELDS = (
    "routine",
    "routine_name",
    "stretch_index",
    "stretch",
    "side",
    "step",
    "state",
    "remaining_seconds",
    "paused",
)
DASHBOARD_SESSIONS = 5


def iso_utc(moment: datetime) -> str:
    """Sortable ISO 8601 in UTC; a naive datetime is taken as local time (as Python does)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class HistoryStore:
    def __init__(
        self,
        path: Path | None = None,
        tz: tzinfo | None = None,
        now: Callable[[], datetime] | None = None,
        warn: TextIO | None = None,
    ) -> None:
        """path defaults to $STRETCH_COACH_HOME/history.sqlite3 or the user data dir.

        tz is the zone days are counted in (None: the system's, DST included); now gives
        the wall clock (tests pass a fixed one); warn receives the corrupt-file warning.
        """
        self.path = path or default_path()
        self.tz = tz
        self._now = now or (lambda: datetime.now(UTC))
        open_database(self.path, warn)
        self._pool = ConnectionPool(self.path)
        self._last_position: dict[str, Any] | None = None
        self._position_lock = threading.Lock()

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._pool.get()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; IMMEDIATE so the lock is taken up front, not mid-way."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def today(self) -> date:
        return self._now().astimezone(self.tz).date()

    # -- sessions -------------------------------------------------------------------------

    def record_session(
        self,
        summary: Mapping[str, Any],
        wall_start: datetime,
        wall_end: datetime,
        routine_name: str | None = None,
    ) -> int:
        """Store one SessionEnded summary with its wall-clock times; the new session's id.

        summary["started_at"/"ended_at"] are the coach's monotonic clock and are not kept.
        """
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (started_at, ended_at, routine, routine_name, completed,"
                " stretches_done, stretch_count, pauses, pain_reports)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    iso_utc(wall_start),
                    iso_utc(wall_end),
                    str(summary.get("routine") or "unknown"),
                    routine_name,
                    int(bool(summary.get("completed"))),
                    int(summary.get("stretches_done") or 0),
                    int(summary.get("stretch_count") or 0),
                    int(summary.get("pauses") or 0),
                    int(summary.get("pain_reports") or 0),
                ),
            )
            session_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO session_holds (session_id, stretch, side, seconds) VALUES (?,?,?,?)",
                [(session_id, *split_held_key(k), float(v)) for k, v in _held(summary).items()],
            )
        return session_id

    def sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest sessions first, each with its holds and whether it counts."""
        rows = self._conn.execute(
            f"SELECT s.*, {COUNTED} AS counted FROM sessions s"
            " ORDER BY s.started_at DESC, s.id DESC LIMIT ?",
            (max(0, limit),),
        ).fetchall()
        return [self._session_dict(row) for row in rows]

    def last_session(self, counted_only: bool = False) -> dict[str, Any] | None:
        where = f"WHERE {COUNTED}" if counted_only else ""
        row = self._conn.execute(
            f"SELECT s.*, {COUNTED} AS counted FROM sessions s {where}"
            " ORDER BY s.started_at DESC, s.id DESC LIMIT 1"
        ).fetchone()
        return self._session_dict(row) if row is not None else None

    def _session_dict(self, row: sqlite3.Row) -> dict[str, Any]:
        out = dict(row)
        out["completed"] = bool(out["completed"])
        out["counted"] = bool(out["counted"])
        out["day"] = d.local_day(out["started_at"], self.tz).isoformat()
        start = datetime.fromisoformat(out["started_at"])
        end = datetime.fromisoformat(out["ended_at"])
        out["duration_seconds"] = max(0, round((end - start).total_seconds()))
        holds = self._conn.execute(
            "SELECT stretch, side, seconds FROM session_holds WHERE session_id = ? ORDER BY rowid",
            (out["id"],),
        ).fetchall()
        out["held"] = {f"{h['stretch']}:{h['side']}": h["seconds"] for h in holds}
        return out

    def _counted_days(self) -> list[date]:
        """The local day of every counted session (repeats kept: one entry per session)."""
        rows = self._conn.execute(f"SELECT s.started_at FROM sessions s WHERE {COUNTED}").fetchall()
        return [d.local_day(r[0], self.tz) for r in rows]

    # -- facts ----------------------------------------------------------------------------

    def count_since(self, days: int, today: date | None = None) -> int:
        """Counted sessions in the last `days` calendar days, today included."""
        return d.count_in_window(self._counted_days(), today or self.today(), days)

    def streak_days(self, today: date | None = None) -> int:
        return d.streak(self._counted_days(), today or self.today())

    def behind_schedule(self, today: date | None = None) -> bool:
        """Fewer than 3 sessions in the last 7 days (the seed's 3-4 a week); never in the
        first week of use."""
        return d.behind(self._counted_days(), today or self.today())

    def summary_for_dashboard(self, today: date | None = None) -> dict[str, Any]:
        """The HTTP history() contract: {"sessions": [...], "streak_days": n}, plus this_week."""
        day = today or self.today()
        counted = self._counted_days()
        return {
            "sessions": self.sessions(DASHBOARD_SESSIONS),
            "streak_days": d.streak(counted, day),
            "this_week": d.count_in_window(counted, day, d.WEEK),
        }

    # -- position (crash resume) ----------------------------------------------------------

    def save_position(
        self, status: Mapping[str, Any], session_started_at: datetime | None = None
    ) -> None:
        """Keep where the running session is; cleared when the coach is idle or finished.

        Called on every status change, so it writes only when a kept field changed.
        session_started_at (wall clock) lets a resumed session keep its original start.
        """
        if status.get("state") in NO_POSITION_STATES or not status.get("routine"):
            self.clear_position()
            return
        fields = {k: status.get(k) for k in POSITION_FIELDS}
        fields["paused"] = int(bool(fields["paused"]))
        fields["session_started_at"] = iso_utc(session_started_at) if session_started_at else None
        with self._position_lock:
            if fields == self._last_position:
                return
            self._upsert_position(fields)
            self._last_position = fields

    def _upsert_position(self, fields: dict[str, Any]) -> None:
        row = {**fields, "updated_at": iso_utc(self._now())}
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row)
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO position (id, {names}) VALUES (1, {marks})"
                f" ON CONFLICT (id) DO UPDATE SET {updates}",
                row,
            )

    def clear_position(self) -> None:
        with self._position_lock:
            if self._last_position == {}:
                return  # already cleared by this store: skip a write per idle status
            with self._write() as conn:
                conn.execute("DELETE FROM position")
            self._last_position = {}

    def load_position(self) -> dict[str, Any] | None:
        """The saved position of a session that did not end cleanly, or None."""
        row = self._conn.execute("SELECT * FROM position WHERE id = 1").fetchone()
        if row is None:
            return None
        out = dict(row)
        del out["id"]
        out["paused"] = bool(out["paused"])
        return out


def _held(summary: Mapping[str, Any]) -> dict[str, float]:
    held = summary.get("held") or {}
    return {str(k): float(v) for k, v in dict(held).items()}


def split_held_key(key: str) -> tuple[str, str]:
    """'stretch_id:side' -> (stretch_id, side); the coach writes 'both' when there is no side."""
    stretch, _, side = key.rpartition(":")
    return (stretch, side) if stretch else (key, "both")
