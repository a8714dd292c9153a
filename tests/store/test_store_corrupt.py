"""A damaged history file: one warning line, the old bytes kept aside, a fresh database."""

from __future__ import annotations

import io
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from voice.store.db import is_corruption, move_aside
from voice.store.history import HistoryStore

SUMMARY = {"routine": "daily", "completed": True, "held": {"kneeling_lunge:left": 30.0}}
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def corrupt_files(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob("history.sqlite3.corrupt-*"))


def test_random_bytes_are_kept_aside_and_a_fresh_database_made(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    junk = random.Random(7).randbytes(8192)
    path.write_bytes(junk)
    warn = io.StringIO()
    with HistoryStore(path, tz=UTC, warn=warn, now=lambda: NOW) as store:
        assert store.sessions() == []
        store.record_session(SUMMARY, NOW, NOW)  # the fresh one works
        assert len(store.sessions()) == 1
    lines = warn.getvalue().splitlines()
    assert len(lines) == 1
    [kept] = corrupt_files(tmp_path)
    assert kept.read_bytes() == junk  # nothing lost
    assert "damaged" in lines[0] and kept.name in lines[0] and str(path) in lines[0]
    assert kept.name.startswith("history.sqlite3.corrupt-")


def test_warning_goes_to_stderr_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"not a database at all, just text" * 100)
    HistoryStore(path, tz=UTC).close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert captured.err.startswith("stretch-coach: warning:")


def test_damaged_pages_behind_a_good_header(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path, tz=UTC, now=lambda: NOW) as store:
        for _ in range(50):
            store.record_session(SUMMARY, NOW, NOW)
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    data[4096:] = random.Random(1).randbytes(len(data) - 4096)  # keep page 1, wreck the rest
    path.write_bytes(bytes(data))
    warn = io.StringIO()
    with HistoryStore(path, tz=UTC, warn=warn) as store:
        assert store.sessions() == []
    assert len(warn.getvalue().splitlines()) == 1
    assert len(corrupt_files(tmp_path)) == 1


def test_a_second_corruption_in_the_same_second_keeps_both(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    for n in range(2):
        path.write_bytes(bytes([n]) * 4096)
        move_aside(path, NOW)
    kept = corrupt_files(tmp_path)
    assert [k.read_bytes()[0] for k in kept] == [0, 1]
    assert not path.exists()


def test_wal_companions_move_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"x" * 4096)
    (tmp_path / "history.sqlite3-wal").write_bytes(b"wal")
    target = move_aside(path, NOW)
    assert (tmp_path / f"{target.name}-wal").read_bytes() == b"wal"
    assert not (tmp_path / "history.sqlite3-wal").exists()


def test_only_damage_counts_as_corruption() -> None:
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = sqlite3.SQLITE_BUSY
    assert not is_corruption(locked)
    assert not is_corruption(OSError("disk full"))
    bad = sqlite3.DatabaseError("file is not a database")
    bad.sqlite_errorcode = sqlite3.SQLITE_NOTADB
    assert is_corruption(bad)
