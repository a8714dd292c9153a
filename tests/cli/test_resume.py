"""Kill the real coach with SIGKILL in the middle of a hold; the next run offers to continue
and picks up at the same stretch and side."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from voice.store import HistoryStore

RUN = [sys.executable, "-m", "voice", "run", "--text", "--no-tts", "--returning"]


def wait_for_hold(home: Path, timeout: float = 120.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (home / "history.sqlite3").exists():
            store = HistoryStore(home / "history.sqlite3")
            try:
                position = store.load_position()
            finally:
                store.close()
            if position and position.get("state") == "hold":
                return position
        time.sleep(0.2)
    raise AssertionError("the coach never reached a hold")


def test_kill_in_a_hold_then_continue(tmp_path: Path) -> None:
    env = {**os.environ, "STRETCH_COACH_HOME": str(tmp_path)}
    first = subprocess.Popen([*RUN, "--time-scale", "4"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, text=True)  # fmt: skip
    assert first.stdin is not None
    first.stdin.write("start the quick routine\n")
    first.stdin.flush()
    try:
        position = wait_for_hold(tmp_path)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert position["stretch"] == "kneeling_lunge" and position["side"] == "left"

    second = subprocess.run([*RUN, "--time-scale", "30"], input="continue\n", capture_output=True,
                            env=env, text=True, timeout=300)  # fmt: skip
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "Last time you stopped in the middle of the quick routine, at the kneeling lunge." in out
    assert "Picking up at the kneeling lunge, left side." in out
    assert "Stretch 1 of 2" not in out  # it did not start over
    assert "supine psoas stretch" in out

    history = subprocess.run([sys.executable, "-m", "voice", "history", "--json"], capture_output=True,
                             env=env, text=True, timeout=60)  # fmt: skip
    sessions = json.loads(history.stdout)["sessions"]
    assert len(sessions) == 1 and sessions[0]["routine"] == "quick"
