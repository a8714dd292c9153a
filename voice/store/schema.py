"""The schema as an ordered list of migrations; PRAGMA user_version counts those applied.

Migration N (1-based) takes a database at version N-1 to version N. Never edit a released
migration: add a new one, so every existing file walks the same path to the current shape.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

Migration = Callable[[sqlite3.Connection], None]


def _v1_sessions(conn: sqlite3.Connection) -> None:
    # Times are wall-clock ISO 8601 in UTC: the coach's own clock is monotonic and means
    # nothing after the process ends. Days for streaks are worked out in local time on read.
    conn.execute(
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT NOT NULL,
            routine TEXT NOT NULL,
            routine_name TEXT,
            completed INTEGER NOT NULL CHECK (completed IN (0, 1)),
            stretches_done INTEGER NOT NULL DEFAULT 0,
            stretch_count INTEGER NOT NULL DEFAULT 0,
            pauses INTEGER NOT NULL DEFAULT 0,
            pain_reports INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    conn.execute("CREATE INDEX sessions_started_at ON sessions (started_at)")
    conn.execute(
        """
        CREATE TABLE session_holds (
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            stretch TEXT NOT NULL,
            side TEXT NOT NULL,
            seconds REAL NOT NULL,
            PRIMARY KEY (session_id, stretch, side)
        )
        """
    )


def _v2_position(conn: sqlite3.Connection) -> None:
    # One row at most (id = 1): where the running session is, so a crash can be resumed.
    conn.execute(
        """
        CREATE TABLE position (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            routine TEXT NOT NULL,
            routine_name TEXT,
            stretch_index INTEGER,
            stretch TEXT,
            side TEXT,
            step INTEGER,
            state TEXT NOT NULL,
            remaining_seconds REAL,
            paused INTEGER NOT NULL DEFAULT 0,
            session_started_at TEXT,
            updated_at TEXT NOT NULL
        )
        """
    )


MIGRATIONS: Sequence[Migration] = (_v1_sessions, _v2_position)
LATEST = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> int:
    """Apply the missing migrations up to target, each in its own transaction; the version.

    conn must be in autocommit mode (isolation_level=None) so BEGIN here is the real one.
    BEGIN IMMEDIATE takes the write lock before re-reading the version, so two processes
    opening a fresh file at once do not both run the same migration.
    """
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)
            if version >= target:
                conn.execute("COMMIT")
                return version
            MIGRATIONS[version](conn)
            # user_version lives in the file header and is part of the transaction.
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
