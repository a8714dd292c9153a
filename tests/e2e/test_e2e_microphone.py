"""Scenario 5 of issue 8: the microphone goes away in the middle of a hold.

Two ways it goes in a real home, both made real in the room:
* it stops delivering audio (the source is suspended: a hung USB microphone, a dead driver):
  the session must keep time, the coach must say the microphone is lost, /status must show it
  is not listening, and when audio flows again the coach says so and listens again;
* it is unplugged (the virtual source is unloaded): PulseAudio moves the coach's recording
  stream to the fallback source at once, so the coach never stops hearing the room. The test
  shows that: no "lost" line, and a spoken "pause" right after still works.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import Person, record
from tests.e2e.room import Room

pytestmark = pytest.mark.e2e


def _into_a_hold(coach: Any) -> float:
    reply = coach.command("do the butterfly stretch")
    assert reply["intent"] == "StartStretch", reply
    t0 = time.monotonic()
    hold = coach.wait_for(
        lambda e: e.kind == "status" and e.data.get("state") == "hold",
        timeout=90,
        since=t0,
        what="the hold",
        fail_on=lambda e: e.kind == "heard" and e.at > t0 + 0.5,  # nobody spoke
    )
    time.sleep(max(0.0, hold.at + 3.0 - time.monotonic()))
    return hold.at


def _hears_pause(coach: Any, person: Person) -> None:
    """Say "pause" while the coach is quiet: this is about hearing again, not barge-in
    (speaking over the coach is scenarios 2 and 3)."""
    deadline = time.monotonic() + 20
    while coach.status().get("speaking") and time.monotonic() < deadline:
        time.sleep(0.05)
    t_end = person.say("pause")
    coach.wait_for(
        lambda e: e.kind == "status" and e.data.get("paused") is True,
        timeout=10,
        since=t_end - 3,
        what="a spoken pause heard",
    )


def test_5_microphone_stops_mid_hold_and_comes_back(start_coach: Any, room: Room) -> None:
    coach = start_coach()
    try:
        _into_a_hold(coach)
        before = coach.status()
        room.suspend_mic(True)
        t_gone = time.monotonic()

        lost = coach.wait_for(
            lambda e: e.kind == "said" and "microphone" in str(e.data.get("text", "")).lower(),
            timeout=6,
            since=t_gone,
            what="the coach saying the microphone is lost",
        )
        record("microphone: audio stops -> coach says so (s)", lost.at - t_gone)
        assert coach.status()["listening"] is False

        # The session keeps time while the microphone is gone.
        time.sleep(max(0.0, t_gone + 3.0 - time.monotonic()))
        during = coach.status()
        assert coach.alive(), coach.log_tail()
        assert during["state"] == "hold" and during["paused"] is False, during
        assert during["remaining_seconds"] <= before["remaining_seconds"] - 2.0, (before, during)

        room.suspend_mic(False)
        t_back = time.monotonic()
        back, _ = coach.wait_status(
            lambda s: s.get("listening") is True, timeout=15, what="listening again"
        )
        record("microphone: audio back -> listening (s)", back - t_back)
        coach.wait_for(
            lambda e: e.kind == "said" and "back" in str(e.data.get("text", "")).lower(),
            timeout=6,
            since=t_back,
            what="the coach saying the microphone is back",
        )
        # Hearing a command after the change is shown by the unplugged test below; here the
        # next count often starts as the person speaks, and commands over the coach's voice
        # are scenarios 2 and 3 (open: see the note on issue 8).
    finally:
        room.suspend_mic(False)


def test_5_unplugged_microphone_is_replaced_by_pulseaudio(
    start_coach: Any, room: Room, person: Person
) -> None:
    coach = start_coach()
    try:
        _into_a_hold(coach)
        room.remove_mic()
        t_gone = time.monotonic()
        time.sleep(2.0)
        assert coach.status()["listening"] is True
        assert "mic" not in room.source_outputs().split()  # moved off the unloaded source
        _hears_pause(coach, person)
        said = [e for e in coach.events_of("said", since=t_gone) if "microphone" in str(e.data)]
        assert not said, said
    finally:
        if room.mic_module is None:
            room.add_mic()  # the room outlives this test
