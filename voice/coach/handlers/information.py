"""Handlers that answer: time left, help, questions about the stretches, history."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from voice.coach.events import Heard
from voice.coach.lines import Line
from voice.coach.registry import handles
from voice.coach.session import TIMING

if TYPE_CHECKING:
    from voice.coach.machine import Coach


@handles("TimeLeft")
def time_left(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None:
        coach.say(Line("no_session", kind="info"))
        return
    seconds = s.spoken_seconds_left(coach.now)
    state = s.segment.state
    if state == "hold" and s.paused and s.remaining is not None:
        coach.say(Line("time_left_paused", {"seconds": seconds}, "info"))
    elif state == "hold" and s.phase == TIMING:
        coach.say(Line("time_left_hold", {"seconds": seconds}, "info"))
    elif state == "rest" and s.phase == TIMING:
        coach.say(Line("time_left_rest", {"seconds": seconds}, "info"))
    else:
        minutes = max(1, math.ceil(s.plan.estimated_seconds(s.index) / 60))
        number = (s.stretch_index or 0) + 1
        fields = {"number": number, "count": len(s.plan.stretch_ids), "minutes": minutes}
        coach.say(Line("time_left_session", fields, "info"))


@handles("Help")
def help(coach: Coach, event: Heard) -> None:
    coach.say(Line("help_session" if coach.session else "help_idle", kind="info"))


@handles("AskFaq")
def ask_faq(coach: Coach, event: Heard) -> None:
    entry = coach.content.faq.get(event.slots.get("topic", ""))
    s = coach.session
    if entry is None:
        coach.say(Line("faq_unknown", kind="info"))
        return
    if s is None or s.paused_by is not None:
        coach.say(Line.text(entry.answer, "info"))
        return
    # A question in the middle of a segment stops its clock while the answer plays.
    coach.pause_clock("answer")
    s.gate_id = coach.say(Line.text(entry.answer, "info"))


@handles("AskHistory")
def ask_history(coach: Coach, event: Heard) -> None:
    line = coach.settings.history.get(event.slots.get("topic", ""))
    coach.say(line if line is not None else Line("history_never", kind="info"))
