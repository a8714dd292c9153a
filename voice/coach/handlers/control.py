"""Handlers that pause, resume and stop a session, and the safety stop on pain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voice.coach import commands as c
from voice.coach import resuming
from voice.coach.events import Heard
from voice.coach.lines import Line
from voice.coach.registry import handles
from voice.coach.session import WAITING

if TYPE_CHECKING:
    from voice.coach.machine import Coach


@handles("Pause")
def pause(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None:
        coach.say(Line("no_session", kind="info"))
        return
    if s.paused_by == "user":
        coach.say(Line("already_paused", kind="info"))
        return
    coach.pause_clock("user")
    if s.segment.state == "hold" and s.remaining is not None:
        coach.say(Line("paused_hold", {"seconds": s.spoken_seconds_left(coach.now)}))
    else:
        coach.say(Line("paused"))


@handles("Resume")
def resume(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None and coach.offer is not None:
        resuming.continue_offer(coach)
    elif s is None:
        coach.say(Line("no_session", kind="info"))
    elif s.paused_by == "confirm":
        coach.say(Line("stop_cancelled"))
        coach.resume_after_line()
    elif s.paused_by is None:
        coach.say(Line("not_paused", kind="info"))
    else:
        coach.resume_request()


@handles("Stop")
def stop(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None:
        coach.out.append(c.Interrupt())
        return
    if s.paused_by != "confirm" and s.remaining_share(coach.now) > 0.5:
        coach.pause_clock("confirm")
        coach.say(Line("confirm_stop"))
        return
    coach.hush()
    coach.end(completed=False)


@handles("Yes")
def yes(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None and coach.offer is not None:
        resuming.continue_offer(coach)
        return
    if s is not None and s.paused_by == "confirm":
        coach.hush()
        coach.end(completed=False)


@handles("No")
def no(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None and coach.offer is not None:
        coach.offer = None
        coach.say(Line("resume_declined", kind="info"))
        return
    if s is not None and s.paused_by == "confirm":
        coach.say(Line("stop_cancelled"))
        coach.resume_after_line()


@handles("ReportPain")
def report_pain(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None:
        coach.out += [c.Interrupt(), c.CancelCues()]
        coach.say(Line("pain", kind="safety"))
        return
    coach.hush()
    coach.say(Line("pain", kind="safety"))
    if s.paused_by == "pain":
        return  # already stopped and waiting; the guidance is enough
    s.pain_reports += 1
    current = s.stretch_index
    last = len(s.plan.segments) - 1
    s.index = s.plan.stretch_start(current + 1) if current is not None else min(s.index + 1, last)
    s.phase, s.remaining, s.deadline, s.paused_by = WAITING, None, None, "pain"
    coach.say(Line("after_pain"))
