"""Offering to continue a session that a crash or a kill cut short, and continuing it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voice.coach.lines import Line
from voice.coach.plan import build_plan, single_stretch_routine
from voice.coach.session import SPEAKING, Session

if TYPE_CHECKING:
    from voice.coach.machine import Coach


def offer_resume(coach: Coach, position: dict[str, Any]) -> None:
    routine = routine_of(coach, position)
    stretch = coach.content.stretches.get(str(position.get("stretch") or ""))
    if coach.session is not None or routine is None or stretch is None:
        return
    coach.offer = dict(position)
    fields = {"routine": routine.name, "stretch": stretch.name}
    coach.say(Line("resume_offer", fields, "info"))


def routine_of(coach: Coach, position: dict[str, Any]) -> Any:
    routine_id = str(position.get("routine") or "")
    if routine_id in coach.content.routines:
        return coach.content.routines[routine_id]
    if routine_id in coach.content.stretches:  # a single-stretch session
        return single_stretch_routine(coach.content.stretches[routine_id])
    return None


def continue_offer(coach: Coach) -> None:
    offer, coach.offer = coach.offer or {}, None
    routine = routine_of(coach, offer)
    if routine is None:
        return
    plan = build_plan(coach.content, routine, first_session=False)
    index = int(offer.get("stretch_index") or 0)
    side = offer.get("side")
    target = plan.stretch_start(index)
    hold = next(
        (i for i, seg in enumerate(plan.segments)
         if seg.state == "hold" and seg.stretch_index == index and seg.side == side),
        None,
    )  # fmt: skip
    coach.finished = False
    coach.session = s = Session(plan, started_at=coach.now)
    stretch = (
        coach.content.stretch(plan.stretch_ids[index]) if index < len(plan.stretch_ids) else None
    )
    remaining = float(offer.get("remaining_seconds") or 0.0)
    if offer.get("state") == "hold" and hold is not None and remaining > 0 and stretch:
        s.index, s.remaining, s.phase = (
            hold,
            min(remaining, plan.segments[hold].seconds),
            SPEAKING,
        )
        fields = {
            "stretch": stretch.name,
            "side": side,
            "seconds": s.spoken_seconds_left(coach.now),
        }
        s.gate_id = coach.say(Line("resume_continue_hold", fields))
        return
    if stretch is not None:
        coach.say(Line("resume_continue", {"stretch": stretch.name}))
    coach.enter(target)
