"""Turns a routine into the ordered segments the coach walks through.

A segment speaks its lines, then waits `seconds` (a step pause, a hold, a side switch or a
rest) before the next one. Holds are segments of their own so that both sides of a stretch
get exactly the same configured time.
"""

from __future__ import annotations

from dataclasses import dataclass

from content.model import Content, Routine, RoutineItem, Stretch
from voice.coach.lines import Line

STATES = ("idle", "intro", "instruct", "hold", "switch", "rest", "finished")


@dataclass(frozen=True)
class Segment:
    state: str
    lines: tuple[Line, ...]
    seconds: float
    stretch_index: int | None = None
    step: int | None = None
    side: str | None = None
    repeat: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Plan:
    routine_id: str
    routine_name: str
    stretch_ids: tuple[str, ...]
    segments: tuple[Segment, ...]

    @property
    def hold_total(self) -> float:
        return sum(s.seconds for s in self.segments if s.state == "hold")

    def stretch_start(self, index: int) -> int:
        """Index of the first segment of stretch `index`, or of the closing segment."""
        for i, seg in enumerate(self.segments):
            if seg.stretch_index == index:
                return i
        return len(self.segments) - 1

    def estimated_seconds(self, start: int = 0) -> float:
        # Speech time is not known here; eight seconds a segment is close for our lines.
        return sum(s.seconds + 8.0 for s in self.segments[start:])


def single_stretch_routine(stretch: Stretch) -> Routine:
    return Routine(stretch.id, stretch.name, (), (RoutineItem(stretch.id),))


def build_plan(
    content: Content, routine: Routine, first_session: bool, opening: tuple[Line, ...] = ()
) -> Plan:
    timing = content.timing
    stretches = [content.stretch(item.stretch) for item in routine.items]
    segments: list[Segment] = []
    for index, (item, stretch) in enumerate(zip(routine.items, stretches, strict=True)):
        hold = item.hold_seconds or stretch.hold_seconds or timing.hold_seconds
        segments.extend(_instructions(stretch, index, len(stretches), timing.step_pause_seconds))
        segments.extend(_holds(stretch, index, hold, timing.switch_seconds))
        if index + 1 < len(stretches):
            rest = item.rest_seconds or routine.rest_seconds or timing.rest_seconds
            segments.append(_rest(rest, stretches[index + 1], index))
    body = Plan(routine.id, routine.name, tuple(s.id for s in stretches), tuple(segments))
    minutes = max(1, round(body.estimated_seconds() / 60))
    intro = _intro(routine, stretches, first_session, minutes, timing.step_pause_seconds, opening)
    closing = Segment("finished", (), 0.0, None)  # its line depends on what was done
    return Plan(routine.id, routine.name, body.stretch_ids, (intro, *segments, closing))


def _intro(
    routine: Routine,
    stretches: list[Stretch],
    first: bool,
    minutes: int,
    pause: float,
    opening: tuple[Line, ...],
) -> Segment:
    lines: list[Line] = []
    if first:
        lines.append(Line("safety_note", kind="safety"))
    lines.extend(opening)
    if len(stretches) == 1:
        lines.append(
            Line("stretch_session_intro", {"stretch": stretches[0].name, "minutes": minutes})
        )
    else:
        fields = {"routine": routine.name, "count": len(stretches), "minutes": minutes}
        lines.append(Line("routine_intro", fields))
    lines += [Line("warm_up"), Line("commands_hint")]
    return Segment("intro", tuple(lines), pause, repeat=tuple(lines))


def _instructions(stretch: Stretch, index: int, count: int, pause: float) -> list[Segment]:
    if count == 1:
        intro = Line("single_stretch_intro", {"stretch": stretch.name})
    else:
        intro = Line(
            "stretch_intro", {"number": index + 1, "count": count, "stretch": stretch.name}
        )
    first = (intro, Line.text(stretch.position))
    out = [Segment("instruct", first, pause, index, step=0, repeat=first)]
    for n, step in enumerate(stretch.steps, start=1):
        line = (Line.text(step),)
        out.append(Segment("instruct", line, pause, index, step=n, repeat=line))
    return out


def _holds(stretch: Stretch, index: int, hold: int, switch: float) -> list[Segment]:
    last_step = Line.text(stretch.steps[-1]) if stretch.steps else Line.text(stretch.position)
    start = Line("hold_start", {"seconds": hold})
    if not stretch.sides:
        return [Segment("hold", (start,), hold, index, side=None, repeat=(last_step,))]
    out: list[Segment] = []
    for n, side in enumerate(stretch.sides):
        side_line = Line(
            "side_start", {"side": side.capitalize(), "side_line": stretch.side_lines[side]}
        )
        if n > 0:
            out.append(
                Segment(
                    "switch",
                    (Line("switch_sides"),),
                    switch,
                    index,
                    side=side,
                    repeat=(Line("switch_sides"),),
                )
            )
        out.append(
            Segment(
                "hold", (side_line, start), hold, index, side=side, repeat=(side_line, last_step)
            )
        )
    return out


def _rest(seconds: float, upcoming: Stretch, index: int) -> Segment:
    line = Line("rest", {"seconds": int(seconds), "next": upcoming.name})
    return Segment("rest", (line,), seconds, index, repeat=(line,))
