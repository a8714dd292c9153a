"""Scenario 4 of issue 8: over a whole routine, the coach's own words never trigger an intent.

The coach runs the whole quick routine in the room with its live microphone open. Its speech
(counts, "next", "stop" inside sentences) reaches its own microphone through the air; no
"heard" event may follow the start. The holds are shortened with --time-scale (default 4,
STRETCH_E2E_ROUTINE_SCALE to change) but the speech must stay real: the test also checks that
the coach was actually audible in the room, so a silent coach cannot pass.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import record
from tests.e2e.room import Room, loud_seconds, read_wav

pytestmark = pytest.mark.e2e

SCALE = float(os.environ.get("STRETCH_E2E_ROUTINE_SCALE", "4"))
QUICK_ROUTINE_S = 290.0  # the golden quick routine, returning, at scale 1
# Its lines rendered end to end (--tts-out): a sound card plays them in real time whatever the
# clock's scale, so only the rest of the routine is shortened by --time-scale.
QUICK_SPEECH_S = 107.0


def test_4_own_words_never_trigger_an_intent(start_coach: Any, room: Room, tmp_path: Path) -> None:
    coach = start_coach("--time-scale", f"{SCALE:g}")
    with room.recording(tmp_path / "routine.wav") as wav:
        reply = coach.command("start the quick routine")
        assert reply["intent"] == "StartRoutine", reply
        t0 = time.monotonic()
        finished = coach.wait_for(
            lambda e: e.kind == "status" and e.data.get("state") == "finished",
            timeout=QUICK_SPEECH_S + QUICK_ROUTINE_S / SCALE + 90,
            since=t0,
            what="the end of the routine",
        )
        time.sleep(1.0)
    heard = coach.events_of("heard", since=t0 + 0.5)
    said = coach.events_of("said", since=t0 - 1)
    status = coach.status()
    rejected = coach.log_count("voice.hearing.listener: rejected")
    record("routine: lines said", len(said))
    record("routine: intents triggered by the coach's own words", len(heard))
    record("routine: results rejected by the listener (self-hearing caught)", rejected)
    record("routine: real seconds", finished.at - t0)
    # The coach was really speaking into the room, not silently pretending to.
    speaking = _speaking_seconds(coach.events_of("speaking", since=t0 - 1))
    samples, rate = read_wav(wav)
    audible = loud_seconds(samples, rate)
    record("routine: audible s / speaking s", f"{audible:.1f} / {speaking:.1f}")
    assert audible >= 30.0, f"the room heard only {audible:.1f} s of the coach's speech"
    assert not heard, "the coach acted on its own words: " + "; ".join(
        f"{e.data.get('text')!r} -> {e.data.get('intent')}" for e in heard
    )
    assert (
        status["last_heard"] in ("start the quick routine", None)
        or status["last_intent"] == "StartRoutine"
    ), status
    assert status["state"] == "finished"
    assert coach.alive()


def _speaking_seconds(events: list[Any]) -> float:
    started: dict[int, float] = {}
    total = 0.0
    for e in events:
        uid = e.data.get("utterance_id")
        if e.data.get("text"):
            started[uid] = e.at
        elif uid in started:
            total += e.at - started.pop(uid)
    return total
