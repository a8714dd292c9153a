"""Handlers that change how the coach counts and speaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voice.coach import commands as c
from voice.coach.counting import shift_style
from voice.coach.events import Heard
from voice.coach.lines import Line
from voice.coach.registry import handles
from voice.coach.session import TIMING

if TYPE_CHECKING:
    from voice.coach.machine import Coach

RATE_STEP_WPM = 25
COUNT_STYLE_LINES = {
    "every-second": "count_every_second",
    "marks": "count_marks",
    "quiet": "count_quiet",
}


@handles("SetCountStyle")
def set_count_style(coach: Coach, event: Heard) -> None:
    style = shift_style(coach.settings.count_style, event.slots.get("style", ""))
    if style == coach.settings.count_style:
        coach.say(Line("count_unchanged", kind="info"))
        return
    coach.settings.count_style = style
    s = coach.session
    if s is not None and s.segment.state == "hold" and s.phase == TIMING and s.deadline:
        coach.out.append(c.CancelCues())
        coach.schedule_cues(s.deadline, s.deadline - coach.now)
    coach.say(Line(COUNT_STYLE_LINES[style], kind="info"))


@handles("SetSpeechRate")
def set_speech_rate(coach: Coach, event: Heard) -> None:
    slower = event.slots.get("direction") == "slower"
    coach.out.append(c.SetSpeechRate(-RATE_STEP_WPM if slower else RATE_STEP_WPM))
    coach.say(Line("rate_slower" if slower else "rate_faster", kind="info"))
