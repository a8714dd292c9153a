"""Replays a scripted session on a simulated clock, instantly.

A script is lines of `<seconds> <utterance>` with `#` comments. Speech takes the time a
voice at WORDS_PER_MINUTE would need, so the transcript shows when each line would be heard.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from intents.matcher import IntentMatcher
from voice.coach import commands as c
from voice.coach.events import Event, Heard, SpeechFinished, SpeechStarted, TimerFired
from voice.coach.machine import Coach
from voice.errors import UserError
from voice.ports import Utterance

WORDS_PER_MINUTE = 170.0
TAIL_SECONDS = 0.3


@dataclass(frozen=True)
class ScriptLine:
    t: float
    text: str


def parse_script(text: str, name: str = "script") -> list[ScriptLine]:
    out: list[ScriptLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        stamp, _, utterance = line.partition(" ")
        try:
            t = float(stamp)
        except ValueError:
            raise UserError(
                f"{name}:{number}: expected '<seconds> <utterance>', got {raw.strip()!r}", 2
            ) from None
        if t < 0 or not utterance.strip():
            raise UserError(f"{name}:{number}: time must be >= 0 and followed by an utterance", 2)
        out.append(ScriptLine(t, utterance.strip()))
    return sorted(out, key=lambda s: s.t)


def speech_seconds(text: str) -> float:
    return len(text.split()) * 60.0 / WORDS_PER_MINUTE + TAIL_SECONDS


@dataclass(frozen=True)
class Record:
    t: float
    kind: str  # "say", "heard", "status" or "ended"
    data: Any

    def to_dict(self) -> dict[str, Any]:
        t = round(self.t, 2)
        if self.kind == "say":
            return {"t": t, "say": self.data}
        if self.kind == "heard":
            return {"t": t, "heard": self.data["text"], "intent": self.data["intent"]}
        return {"t": t, self.kind: self.data}


@dataclass(order=True)
class _Pending:
    t: float
    seq: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False)


class Simulation:
    """A discrete-event loop: the next thing to happen is always the earliest pending one."""

    def __init__(self, coach: Coach, matcher: IntentMatcher) -> None:
        self.coach = coach
        self.matcher = matcher
        self.records: list[Record] = []
        self._queue: list[_Pending] = []
        self._seq = itertools.count()
        self._timers: dict[str, float] = {}
        self._busy_until = 0.0
        self._current: tuple[int, _Pending] | None = None  # speaking utterance and its end
        self._cancelled: set[int] = set()  # seq numbers of pending items that were dropped
        self._now = 0.0

    def _push(self, t: float, kind: str, payload: Any) -> _Pending:
        item = _Pending(t, next(self._seq), kind, payload)
        heapq.heappush(self._queue, item)
        return item

    def run(self, script: Iterable[ScriptLine], until: float | None = None) -> list[Record]:
        lines = list(script)
        for line in lines:
            self._push(line.t, "utterance", line.text)
        limit = until if until is not None else (lines[-1].t if lines else 0.0) + 4 * 3600
        while self._queue:
            item = heapq.heappop(self._queue)
            if item.seq in self._cancelled:
                continue
            if item.t > limit:
                break
            self._now = item.t
            self._dispatch(item)
        return self.records

    def _dispatch(self, item: _Pending) -> None:
        if item.kind == "utterance":
            result = self.matcher.match(item.payload)
            self.records.append(Record(item.t, "heard", result.to_dict()))
            self._feed(Heard(item.t, item.payload, result.intent, dict(result.slots)))
        elif item.kind == "timer":
            if self._timers.get(item.payload) == item.t:
                del self._timers[item.payload]
                self._feed(TimerFired(item.t, item.payload))
        elif item.kind == "start":
            self._start(item.payload)
        elif item.kind == "finish":
            utterance_id, interrupted = item.payload
            if self._current is not None and self._current[0] == utterance_id:
                self._current = None
            self._feed(SpeechFinished(item.t, utterance_id, interrupted))

    def _feed(self, event: Event) -> None:
        for command in self.coach.handle(event):
            self._execute(command)

    def _start(self, utterance: Utterance) -> None:
        self.records.append(Record(self._now, "say", utterance.text))
        end = self._now + speech_seconds(utterance.text)
        self._busy_until = max(self._busy_until, end)
        if utterance.at is None:
            finish = self._push(end, "finish", (utterance.id, False))
            self._current = (utterance.id, finish)
        self._feed(SpeechStarted(self._now, utterance.id))

    def _execute(self, command: c.Command) -> None:
        if isinstance(command, c.Say):
            u = command.utterance
            if u.at is not None:
                self._push(u.at, "start", u)
            else:
                start = max(self._now, self._busy_until)
                self._busy_until = start + speech_seconds(u.text)
                self._push(start, "start", u)
        elif isinstance(command, c.StartTimer):
            self._timers[command.name] = command.deadline
            self._push(command.deadline, "timer", command.name)
        elif isinstance(command, c.CancelTimer):
            self._timers.pop(command.name, None)
        elif isinstance(command, c.Interrupt):
            self._interrupt()
        elif isinstance(command, c.CancelCues):
            self._drop(lambda p: p.kind == "start" and p.payload.at is not None)
        elif isinstance(command, c.StatusChanged):
            self.records.append(Record(self._now, "status", command.status))
        elif isinstance(command, c.SessionEnded):
            self.records.append(Record(self._now, "ended", command.summary))

    def _interrupt(self) -> None:
        self._drop(
            lambda p: p.kind == "start" and p.payload.at is None and p.payload.kind != "safety"
        )
        if self._current is not None:
            utterance_id, finish = self._current
            self._cancelled.add(finish.seq)
            self._current = None
            self._push(self._now, "finish", (utterance_id, True))
        self._busy_until = self._now

    def _drop(self, predicate: Any) -> None:
        for item in self._queue:
            if predicate(item):
                self._cancelled.add(item.seq)


def simulate(
    coach: Coach, matcher: IntentMatcher, script: Iterable[ScriptLine], until: float | None = None
) -> list[Record]:
    return Simulation(coach, matcher).run(script, until)


def format_transcript(records: Iterable[Record], heard: bool = True) -> str:
    """The readable transcript: one line per spoken line (and heard utterance), with its time."""
    out = []
    for r in records:
        if r.kind == "say":
            out.append(f"{r.t:7.1f}  coach: {r.data}")
        elif r.kind == "heard" and heard:
            intent = r.data["intent"] or "-"
            out.append(f"{r.t:7.1f}  you:   {r.data['text']}   [{intent}]")
    return "\n".join(out)
