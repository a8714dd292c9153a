"""The Recorder fed by a real coach (through the simulator): the session lands in the
history with wall-clock times, and a crash mid-hold leaves the position to resume from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from content.model import Content
from intents.matcher import IntentMatcher
from voice.coach.commands import SessionEnded
from voice.coach.machine import Coach, CoachSettings
from voice.simulate import Record, ScriptLine, simulate
from voice.store.history import HistoryStore
from voice.store.recorder import Recorder

BASE = datetime(2024, 3, 10, 7, 0, tzinfo=UTC)


class SimWall:
    """Wall clock that follows the simulation's time."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> datetime:
        return BASE + timedelta(seconds=self.t)


def records(
    content: Content, matcher: IntentMatcher, script: list[tuple[float, str]]
) -> list[Record]:
    coach = Coach(content, CoachSettings(first_session=False))
    return simulate(coach, matcher, [ScriptLine(t, text) for t, text in script])


def replay(recorder: Recorder, wall: SimWall, recs: list[Record], until: float = 1e9) -> None:
    """What CoachLoop does with the same commands: publish statuses, report the end."""
    for r in recs:
        if r.t > until:
            return
        wall.t = r.t
        if r.kind == "status":
            recorder.publish("status", r.data)
        elif r.kind == "ended":
            recorder.on_session_end(SessionEnded(bool(r.data["completed"]), r.data))
        elif r.kind == "heard":
            recorder.publish("heard", r.data)  # ignored


def test_a_whole_routine_is_recorded(
    tmp_path: Path, content: Content, matcher: IntentMatcher
) -> None:
    wall = SimWall()
    recs = records(content, matcher, [(0, "start the quick routine")])
    with HistoryStore(tmp_path / "h.sqlite3", tz=UTC, now=wall) as store:
        replay(Recorder(store, now=wall), wall, recs)
        [s] = store.sessions()
        ended = next(r for r in recs if r.kind == "ended")
        assert s["completed"] is True and s["routine"] == "quick"
        assert s["routine_name"] == "quick routine"
        assert s["started_at"] == BASE.isoformat()
        assert s["ended_at"] == (BASE + timedelta(seconds=int(ended.t))).isoformat()
        assert s["held"] == ended.data["held"]
        assert s["stretches_done"] == ended.data["stretches_done"]
        assert store.load_position() is None  # a clean end leaves nothing to resume
        assert store.streak_days() == 1


def test_a_crash_mid_hold_leaves_the_stretch_and_side(
    tmp_path: Path, content: Content, matcher: IntentMatcher
) -> None:
    wall = SimWall()
    recs = records(content, matcher, [(0, "start the quick routine")])
    # The second side of the first stretch, part-way into its hold.
    second_hold = next(
        r for r in recs if r.kind == "status" and r.data["state"] == "hold"
        and r.data["side"] == "right"
    )  # fmt: skip
    crash_at = second_hold.t + 17
    path = tmp_path / "h.sqlite3"
    store = HistoryStore(path, tz=UTC, now=wall)
    replay(Recorder(store, now=wall), wall, recs, until=crash_at)
    # No close(), no session end: what kill -9 leaves behind. Read from a new store.
    with HistoryStore(path, tz=UTC) as after:
        pos = after.load_position()
        assert after.sessions() == []
    assert pos is not None
    assert (pos["routine"], pos["stretch"], pos["side"], pos["state"]) == (
        "quick", second_hold.data["stretch"], "right", "hold",
    )  # fmt: skip
    assert 0 < pos["remaining_seconds"] <= 30
    assert pos["session_started_at"] == BASE.isoformat()
    store.close()


def test_resume_keeps_the_interrupted_sessions_start(tmp_path: Path) -> None:
    wall = SimWall()
    with HistoryStore(tmp_path / "h.sqlite3", tz=UTC, now=wall) as store:
        recorder = Recorder(store, now=wall)
        recorder.resume_from({"session_started_at": "2024-03-10T06:00:00+00:00"})
        wall.t = 60
        recorder.publish("status", {"state": "hold", "routine": "quick", "side": "left"})
        summary = {"routine": "quick", "completed": True, "started_at": 0.0, "ended_at": 60.0}
        recorder.on_session_end(SessionEnded(True, summary))
        assert store.sessions()[0]["started_at"] == "2024-03-10T06:00:00+00:00"


def test_missed_start_falls_back_to_the_coach_duration(tmp_path: Path) -> None:
    wall = SimWall()
    with HistoryStore(tmp_path / "h.sqlite3", tz=UTC, now=wall) as store:
        wall.t = 600
        summary = {"routine": "quick", "completed": True, "started_at": 100.0, "ended_at": 400.0}
        Recorder(store, now=wall).on_session_end(SessionEnded(True, summary))
        s = store.sessions()[0]
        assert s["duration_seconds"] == 300


def test_store_failures_never_reach_the_coach(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3", tz=UTC)
    recorder = Recorder(store)
    store.close()  # every later call raises sqlite3.ProgrammingError
    with caplog.at_level("DEBUG"):
        for _ in range(3):
            recorder.publish("status", {"state": "hold", "routine": "quick"})
        recorder.on_session_end(SessionEnded(True, {"routine": "quick"}))
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1  # loud once, then quiet
