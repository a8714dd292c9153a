"""Readers keep reading while a session writes: WAL, one connection per thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from voice.store.history import HistoryStore

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
SUMMARY = {"routine": "daily", "completed": True, "held": {"kneeling_lunge:left": 30.0}}
WRITES = 150


def status(i: int) -> dict[str, Any]:
    return {"state": "hold", "routine": "daily", "stretch": "lunge", "side": "left",
            "stretch_index": 0, "remaining_seconds": float(i), "paused": False}  # fmt: skip


def test_reader_threads_while_one_writer_writes(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3", tz=UTC, now=lambda: NOW)
    # A second store on the same file stands in for the HTTP service's own readers.
    other = HistoryStore(tmp_path / "history.sqlite3", tz=UTC, now=lambda: NOW)
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[list[int]] = [[] for _ in range(4)]

    def write() -> None:
        try:
            for i in range(WRITES):
                store.save_position(status(i))
                at = NOW - timedelta(minutes=i)
                store.record_session(SUMMARY, at, at)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            done.set()

    def read(k: int, reader: HistoryStore) -> None:
        try:
            while not done.is_set():
                summary = reader.summary_for_dashboard()
                seen[k].append(reader.count_since(1))
                assert len(summary["sessions"]) <= 5
                reader.load_position()
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read, args=(k, store if k % 2 else other)) for k in range(4)]
    writer = threading.Thread(target=write)
    for t in [*readers, writer]:
        t.start()
    for t in [writer, *readers]:
        t.join(timeout=60)
    try:
        assert not errors, errors
        assert store.count_since(1) == WRITES
        for counts in seen:
            assert counts, "a reader never got to read"
            assert counts == sorted(counts)  # each reader sees history only grow
    finally:
        store.close()
        other.close()


def test_a_reader_is_not_blocked_by_an_open_write(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with (
        HistoryStore(path, tz=UTC, now=lambda: NOW) as writer_store,
        HistoryStore(path, tz=UTC, now=lambda: NOW) as reader_store,
    ):
        writer_store.record_session(SUMMARY, NOW, NOW)
        with writer_store._write() as conn:  # a write transaction held open
            conn.execute(
                "INSERT INTO sessions (started_at, ended_at, routine, completed)"
                " VALUES ('2024-03-10T12:00:00+00:00', '2024-03-10T12:00:00+00:00', 'x', 1)"
            )
            result: list[int] = []
            t = threading.Thread(target=lambda: result.append(len(reader_store.sessions())))
            t.start()
            t.join(timeout=2)  # under a rollback journal this would wait for the writer
            assert result == [1]  # the last committed snapshot
        assert len(reader_store.sessions()) == 2
