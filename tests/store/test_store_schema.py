"""Migrations: a fresh or empty file reaches the latest version; a version-1 file keeps its
sessions and gains the position table; a file from a newer release is left alone."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from voice.store.db import NewerSchemaError, connect
from voice.store.history import HistoryStore
from voice.store.schema import LATEST, MIGRATIONS, migrate, user_version


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return user_version(conn)
    finally:
        conn.close()


def test_latest_is_the_number_of_migrations() -> None:
    assert LATEST == len(MIGRATIONS) >= 2


def test_missing_file_is_created_at_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "history.sqlite3"
    HistoryStore(path, tz=UTC).close()
    assert version_of(path) == LATEST
    assert {"sessions", "session_holds", "position"} <= tables(path)


def test_empty_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.touch()  # zero bytes: a valid, empty SQLite database
    HistoryStore(path, tz=UTC).close()
    assert version_of(path) == LATEST


def test_wal_mode_is_on(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    HistoryStore(path, tz=UTC).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_version_1_file_keeps_its_sessions(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    conn = connect(path)
    assert migrate(conn, target=1) == 1
    conn.execute(
        "INSERT INTO sessions (started_at, ended_at, routine, completed, stretches_done,"
        " stretch_count) VALUES ('2024-03-01T08:00:00+00:00', '2024-03-01T08:10:00+00:00',"
        " 'daily', 1, 4, 4)"
    )
    conn.execute("INSERT INTO session_holds VALUES (1, 'kneeling_lunge', 'left', 30.0)")
    conn.close()
    assert "position" not in tables(path)

    today = datetime(2024, 3, 1, 20, 0, tzinfo=UTC)
    with HistoryStore(path, tz=UTC, now=lambda: today) as store:
        [session] = store.sessions()
        assert session["routine"] == "daily" and session["completed"] is True
        assert session["held"] == {"kneeling_lunge:left": 30.0}
        assert store.streak_days() == 1
        assert store.load_position() is None  # the new table exists and is empty
    assert version_of(path) == LATEST


def test_migrations_are_idempotent_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    for _ in range(3):
        HistoryStore(path, tz=UTC).close()
    assert version_of(path) == LATEST


def test_a_failed_migration_leaves_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    conn = connect(path)
    migrate(conn, target=1)
    conn.execute("CREATE TABLE position (x)")  # makes migration 2 fail half-way
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn)
    assert user_version(conn) == 1
    conn.close()


def test_newer_schema_is_refused_and_left_in_place(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    before = path.read_bytes()
    with pytest.raises(NewerSchemaError, match="newer"):
        HistoryStore(path, tz=UTC)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]
