"""Recording sessions, reading them back, the dashboard summary and the resume position."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from voice.store.history import HistoryStore, split_held_key

START = datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
SUMMARY: dict[str, Any] = {
    "routine": "daily_psoas",
    "completed": True,
    "started_at": 1234.5,  # the coach's monotonic clock: not stored
    "ended_at": 1834.5,
    "stretch_count": 2,
    "stretches_done": 2,
    "held": {"kneeling_lunge:left": 30.0, "kneeling_lunge:right": 30.0, "bridge:both": 45.0},
    "pauses": 1,
    "pain_reports": 0,
}

HOLD = {
    "state": "hold",
    "routine": "daily_psoas",
    "routine_name": "Daily psoas routine",
    "stretch": "kneeling_lunge",
    "stretch_index": 0,
    "side": "left",
    "step": None,
    "remaining_seconds": 21.4,
    "paused": False,
    "speaking": True,  # not kept
}


def test_record_and_read_back(store: HistoryStore) -> None:
    end = START + timedelta(minutes=10)
    sid = store.record_session(SUMMARY, START, end, "Daily psoas routine")
    [s] = store.sessions()
    assert s["id"] == sid
    assert s["started_at"] == "2024-03-10T07:30:00+00:00"
    assert s["ended_at"] == "2024-03-10T07:40:00+00:00"
    assert s["duration_seconds"] == 600
    assert (s["routine"], s["routine_name"]) == ("daily_psoas", "Daily psoas routine")
    assert (s["completed"], s["counted"]) == (True, True)
    assert (s["stretches_done"], s["stretch_count"], s["pauses"], s["pain_reports"]) == (
        2, 2, 1, 0,
    )  # fmt: skip
    assert s["held"] == SUMMARY["held"]
    assert s["day"] == "2024-03-10"
    assert store.last_session() == s


def test_holds_are_rows_per_stretch_and_side(store: HistoryStore, db_path: Any) -> None:
    store.record_session(SUMMARY, START, START)
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT stretch, side, seconds FROM session_holds ORDER BY 1, 2")
        assert rows.fetchall() == [
            ("bridge", "both", 45.0),
            ("kneeling_lunge", "left", 30.0),
            ("kneeling_lunge", "right", 30.0),
        ]


def test_split_held_key() -> None:
    assert split_held_key("kneeling_lunge:left") == ("kneeling_lunge", "left")
    assert split_held_key("odd") == ("odd", "both")


def test_naive_wall_times_are_taken_as_local(store: HistoryStore) -> None:
    naive = datetime(2024, 3, 10, 7, 30)
    store.record_session(SUMMARY, naive, naive)
    assert store.sessions()[0]["started_at"] == naive.astimezone(UTC).isoformat()


def test_sessions_newest_first_with_limit(store: HistoryStore) -> None:
    for i in range(7):
        at = START + timedelta(hours=i)
        store.record_session({**SUMMARY, "pauses": i}, at, at)
    got = store.sessions(limit=3)
    assert [s["pauses"] for s in got] == [6, 5, 4]
    assert store.sessions(limit=0) == []


def test_empty_store(store: HistoryStore) -> None:
    assert store.sessions() == []
    assert store.last_session() is None
    assert store.streak_days() == 0
    assert store.count_since(7) == 0
    assert store.behind_schedule() is False
    assert store.summary_for_dashboard() == {"sessions": [], "streak_days": 0, "this_week": 0}


def test_dashboard_summary_matches_the_http_contract(store: HistoryStore) -> None:
    for i in range(8):  # one a day for 8 days, ending today (the wall clock is 2024-03-10)
        at = START - timedelta(days=i)
        store.record_session(SUMMARY, at, at + timedelta(minutes=10))
    summary = store.summary_for_dashboard()
    assert set(summary) == {"sessions", "streak_days", "this_week"}
    assert len(summary["sessions"]) == 5
    assert summary["streak_days"] == 8
    assert summary["this_week"] == 7
    first = summary["sessions"][0]
    assert {"routine", "completed", "started_at", "ended_at", "routine_name"} <= set(first)


def test_position_save_load_clear(store: HistoryStore) -> None:
    assert store.load_position() is None
    store.save_position(HOLD, session_started_at=START)
    pos = store.load_position()
    assert pos == {
        "routine": "daily_psoas",
        "routine_name": "Daily psoas routine",
        "stretch_index": 0,
        "stretch": "kneeling_lunge",
        "side": "left",
        "step": None,
        "state": "hold",
        "remaining_seconds": 21.4,
        "paused": False,
        "session_started_at": "2024-03-10T07:30:00+00:00",
        "updated_at": "2024-03-10T12:00:00+00:00",
    }
    store.save_position({**HOLD, "side": "right", "remaining_seconds": 30.0, "paused": True})
    pos = store.load_position()
    assert pos is not None
    assert (pos["side"], pos["remaining_seconds"], pos["paused"]) == ("right", 30.0, True)
    store.save_position({**HOLD, "state": "finished"})
    assert store.load_position() is None


def test_idle_status_clears_the_position(store: HistoryStore) -> None:
    store.save_position(HOLD)
    store.save_position({"state": "idle", "routine": None})
    assert store.load_position() is None


def test_position_survives_reopening(db_path: Any, store: HistoryStore) -> None:
    store.save_position(HOLD)
    # Another process, after this one died: a fresh store on the same file.
    with HistoryStore(db_path, tz=UTC) as other:
        pos = other.load_position()
    assert pos is not None and pos["stretch"] == "kneeling_lunge" and pos["side"] == "left"


def test_unchanged_position_is_not_rewritten(store: HistoryStore, db_path: Any) -> None:
    store.save_position(HOLD)
    conn = sqlite3.connect(db_path)
    changes = conn.execute("PRAGMA data_version").fetchone()[0]
    for _ in range(20):
        store.save_position(dict(HOLD))
    assert conn.execute("PRAGMA data_version").fetchone()[0] == changes
    store.save_position({**HOLD, "remaining_seconds": 10.0})
    assert conn.execute("PRAGMA data_version").fetchone()[0] != changes
    conn.close()
