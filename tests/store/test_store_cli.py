"""`stretch-coach history` as a real process, with STRETCH_COACH_HOME in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from voice.store.history import HistoryStore

ROOT = Path(__file__).resolve().parents[2]


def history(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STRETCH_COACH_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "voice", "history", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip


def seed(home: Path, n: int) -> None:
    # Real "now" here: the CLI counts against today. A minute back stays inside the 7-day
    # window and keeps the streak alive (yesterday counts) even just after midnight.
    at = datetime.now(UTC) - timedelta(minutes=1)
    with HistoryStore(home / "history.sqlite3") as store:
        for i in range(n):
            summary = {"routine": "quick", "completed": True, "stretches_done": 2,
                       "stretch_count": 2, "held": {"kneeling_lunge:left": 30.0}, "pauses": i}  # fmt: skip
            store.record_session(summary, at - timedelta(seconds=n - i), at, "quick routine")


def test_json_output(tmp_path: Path) -> None:
    seed(tmp_path, 3)
    result = history(tmp_path, "--json", "--limit", "2")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"sessions", "streak_days", "this_week", "last"} <= set(data)
    assert len(data["sessions"]) == 2
    assert data["this_week"] == 3
    assert data["streak_days"] == 1
    assert data["last"]["pauses"] == 2  # the newest
    assert data["sessions"][0] == data["last"]
    assert data["last"]["routine_name"] == "quick routine"


def test_json_on_an_empty_home_creates_the_database(tmp_path: Path) -> None:
    home = tmp_path / "new-home"
    result = history(home, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sessions"] == []
    assert (home / "history.sqlite3").exists()


def test_human_table(tmp_path: Path) -> None:
    seed(tmp_path, 1)
    result = history(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Streak: 1 day(s)" in result.stdout
    assert "quick routine" in result.stdout and "completed" in result.stdout


def test_corrupt_file_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "history.sqlite3").write_bytes(os.urandom(4096))
    result = history(tmp_path, "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["sessions"] == []
    assert len(result.stderr.strip().splitlines()) == 1
    assert "kept it as history.sqlite3.corrupt-" in result.stderr
    assert len(list(tmp_path.glob("history.sqlite3.corrupt-*"))) == 1


def test_bad_limit_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = history(tmp_path, "--limit", "0")
    assert result.returncode == 2
    assert "--limit" in result.stderr


def test_unusable_home_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "a-file"
    home.write_text("not a directory")
    result = history(home, "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("stretch-coach: cannot read the session history")
    assert len(result.stderr.splitlines()) == 1
