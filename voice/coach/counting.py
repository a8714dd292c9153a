"""Which count cues a hold gets, by count style. Pure: seconds remaining in, cues out."""

from __future__ import annotations

from dataclasses import dataclass

COUNT_STYLES = ("every-second", "marks", "quiet")
COUNTDOWN_FROM = 5
MIN_GAP = 1.5  # seconds between two marks, so one cue never runs into the next


@dataclass(frozen=True)
class Cue:
    remaining: float  # seconds before the hold ends
    key: str
    seconds: int


def _marks(hold: float) -> dict[float, str]:
    marks: dict[float, str] = {}
    for r in range(1, min(COUNTDOWN_FROM, int(hold) - 1) + 1):
        marks[float(r)] = "cue_count"
    for r in range(10, int(hold), 10):
        if hold - r >= MIN_GAP:
            marks[float(r)] = "cue_remaining"
    half = hold / 2
    if hold >= 10:
        close = [r for r in marks if abs(r - half) < MIN_GAP and r > COUNTDOWN_FROM]
        if close:
            marks[close[0]] = "cue_halfway_remaining" if close[0] == half else marks[close[0]]
        else:
            marks[half] = "cue_halfway"
    return marks


def cues_for(style: str, hold: float) -> list[Cue]:
    """Cues for a whole hold of `hold` seconds, latest-remaining first."""
    if style == "quiet":
        marks: dict[float, str] = {}
    elif style == "every-second":
        marks = {float(r): "cue_count" for r in range(1, int(hold))}
    else:
        marks = _marks(hold)
    return [Cue(r, key, round(r)) for r, key in sorted(marks.items(), reverse=True)]


def cues_within(style: str, hold: float, remaining: float) -> list[Cue]:
    """The cues still ahead when `remaining` seconds of the hold are left."""
    return [c for c in cues_for(style, hold) if c.remaining < remaining - 0.05]


def shift_style(current: str, request: str) -> str:
    """Resolve "less" and "more" relative to the current style; absolute styles pass through."""
    order = ("quiet", "marks", "every-second")
    if request == "less":
        return order[max(order.index(current) - 1, 0)]
    if request == "more":
        return order[min(order.index(current) + 1, len(order) - 1)]
    return request if request in COUNT_STYLES else current
