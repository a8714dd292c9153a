"""Handlers that start sessions and move through them: next, back, again, repeat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voice.coach import resuming
from voice.coach.events import Heard
from voice.coach.lines import Line
from voice.coach.plan import single_stretch_routine
from voice.coach.registry import handles
from voice.coach.session import TIMING

if TYPE_CHECKING:
    from voice.coach.machine import Coach


@handles("StartRoutine")
def start_routine(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is not None:
        if s.paused_by in ("user", "pain") and "routine" not in event.slots:
            coach.resume_request()
        else:
            coach.say(Line("already_running", {"routine": s.plan.routine_name}, "info"))
        return
    routine_id = event.slots.get("routine", coach.settings.default_routine)
    routine = coach.content.routines.get(routine_id)
    if routine is None:
        routine = next(iter(coach.content.routines.values()))
    coach.begin(routine)


@handles("StartStretch")
def start_stretch(coach: Coach, event: Heard) -> None:
    stretch = coach.content.stretches.get(event.slots.get("stretch", ""))
    if stretch is None:
        return
    s = coach.session
    if s is not None and stretch.id in s.plan.stretch_ids:
        coach.hush()
        coach.enter(s.plan.stretch_start(s.plan.stretch_ids.index(stretch.id)))
        return
    if s is not None:
        coach.hush()
        coach.end(completed=False)
    coach.begin(single_stretch_routine(stretch))


@handles("NextStretch")
def next_stretch(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None:
        coach.say(Line("no_session", kind="info"))
        return
    coach.hush()
    if s.paused_by == "pain":
        target = s.index  # pain already moved the session on to the next stretch
    else:
        current = s.stretch_index if s.stretch_index is not None else -1
        target = s.plan.stretch_start(current + 1)
    if s.plan.segments[target].state == "finished":
        coach.say(Line("last_stretch"))
    else:
        coach.say(Line("next_stretch"))
    coach.enter(target)


@handles("PreviousStretch")
def previous_stretch(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None:
        coach.say(Line("no_session", kind="info"))
        return
    coach.hush()
    current = s.stretch_index if s.stretch_index is not None else 0
    if current == 0:
        coach.say(Line("first_stretch"))
        coach.enter(s.plan.stretch_start(0))
        return
    name = coach.content.stretch(s.plan.stretch_ids[current - 1]).name
    coach.say(Line("previous_stretch", {"stretch": name}))
    coach.enter(s.plan.stretch_start(current - 1))


@handles("StartOver")
def start_over(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None and coach.offer is not None:
        routine = resuming.routine_of(coach, coach.offer)
        if routine is not None:
            coach.begin(routine)
            return
    if s is None:
        coach.say(Line("no_session", kind="info"))
        return
    coach.hush()
    if s.stretch_index is None:
        coach.enter(0)
        return
    name = coach.content.stretch(s.plan.stretch_ids[s.stretch_index]).name
    coach.say(Line("start_over", {"stretch": name}))
    coach.enter(s.plan.stretch_start(s.stretch_index))


@handles("RepeatStep")
def repeat_step(coach: Coach, event: Heard) -> None:
    s = coach.session
    if s is None or s.paused:
        lines = coach.last_instruction
        if not lines:
            coach.say(Line("nothing_to_repeat", kind="info"))
        for line in lines:
            coach.say(line)
        return
    if s.phase == TIMING and s.segment.state in ("hold", "rest", "switch"):
        for line in s.segment.repeat:
            coach.say(Line(line.key, line.fields, "info"))
        return
    coach.hush()
    coach.enter(s.index)
