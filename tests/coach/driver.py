"""Drives a Coach by hand in tests: say things at given times, let the simulator run between."""

from __future__ import annotations

from content.model import Content
from intents.matcher import IntentMatcher
from voice.coach.machine import Coach, CoachSettings
from voice.simulate import Record, ScriptLine, simulate


def run_script(
    content: Content,
    matcher: IntentMatcher,
    lines: list[tuple[float, str]],
    until: float | None = None,
    **settings: object,
) -> tuple[Coach, list[Record]]:
    coach = Coach(content, CoachSettings(**settings))  # type: ignore[arg-type]
    records = simulate(coach, matcher, [ScriptLine(t, text) for t, text in lines], until)
    return coach, records


def said(records: list[Record]) -> list[tuple[float, str]]:
    return [(round(r.t, 2), r.data) for r in records if r.kind == "say"]


def statuses(records: list[Record]) -> list[tuple[float, dict[str, object]]]:
    return [(r.t, r.data) for r in records if r.kind == "status"]
