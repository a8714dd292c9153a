"""Where a running session is: the plan, the current segment and its clock."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from voice.coach.plan import Plan, Segment

# Phases of the current segment.
SPEAKING = "speaking"  # its lines (or a resume line) are being spoken
TIMING = "timing"  # its seconds are running toward `deadline`
WAITING = "waiting"  # nothing runs until the person says something (after pain)


@dataclass
class Session:
    plan: Plan
    started_at: float
    index: int = 0
    phase: str = SPEAKING
    gate_id: int | None = None  # the utterance whose end moves the session on
    deadline: float | None = None  # end of the running step pause, hold, switch or rest
    remaining: float | None = None  # seconds left when the clock was stopped (pause, answer)
    paused_by: str | None = None  # "user", "answer", "confirm" or "pain"
    generation: int = 0  # timers carry it, so a stale timer is recognised and dropped
    held: dict[str, float] = field(default_factory=dict)  # "stretch_id:side" -> seconds held
    pauses: int = 0
    pain_reports: int = 0
    stretches_done: set[int] = field(default_factory=set)
    resumed: bool = False  # continued from a session that was cut short

    @property
    def segment(self) -> Segment:
        return self.plan.segments[self.index]

    @property
    def stretch_index(self) -> int | None:
        return self.segment.stretch_index

    @property
    def paused(self) -> bool:
        return self.paused_by is not None

    def seconds_left(self, now: float) -> float:
        """Seconds left on the current segment's clock (its full length before it starts)."""
        if self.phase == TIMING and self.deadline is not None:
            return max(0.0, self.deadline - now)
        if self.remaining is not None:
            return max(0.0, self.remaining)
        return float(self.segment.seconds)

    def spoken_seconds_left(self, now: float) -> int:
        return max(1, math.ceil(self.seconds_left(now) - 1e-6))

    def timer_name(self) -> str:
        return f"segment:{self.generation}"

    def held_key(self) -> str:
        seg = self.segment
        sid = self.plan.stretch_ids[seg.stretch_index] if seg.stretch_index is not None else "-"
        return f"{sid}:{seg.side or 'both'}"

    def hold_progress(self, now: float) -> float:
        total = self.plan.hold_total
        if total <= 0:
            return 1.0
        done = sum(self.held.values())
        if self.segment.state == "hold":
            done += self.segment.seconds - self.seconds_left(now)
        return min(1.0, done / total)

    def remaining_share(self, now: float) -> float:
        return 1.0 - self.hold_progress(now)
