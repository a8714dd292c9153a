"""A stand-in coach session for the HTTP service: a short routine that counts down by the clock.

Used by `stretch-coach serve` until the real runtime provides `voice.runtime.service`, by the
browser test and by the latency benchmark. It speaks nothing and hears nothing: commands are
matched by keyword. It has the same shape as the real thing: a status dict, a command
function, and events published to an EventHub.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voice.http.context import ServiceParts
from voice.http.hub import EventHub


@dataclass(frozen=True)
class Step:
    stretch: str
    stretch_name: str
    text: str
    side: str | None
    hold: bool


_ROUTINE: tuple[Step, ...] = (
    Step(
        "kneeling_lunge",
        "Kneeling lunge",
        "Kneel on your right knee, left foot forward.",
        "left",
        False,
    ),
    Step(
        "kneeling_lunge", "Kneeling lunge", "Tuck your pelvis under and stand tall.", "left", False
    ),
    Step(
        "kneeling_lunge",
        "Kneeling lunge",
        "Shift your weight forward until you feel the front of the right hip open.",
        "left",
        True,
    ),
    Step(
        "standing_psoas",
        "Standing psoas stretch",
        "Step your left foot back and squeeze the left glute.",
        "right",
        False,
    ),
    Step(
        "standing_psoas",
        "Standing psoas stretch",
        "Reach your left arm up and lean gently to the right.",
        "right",
        True,
    ),
)

# Keyword -> action, first match wins; the real coach uses its intent grammar instead.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("stop", "Stop"),
    ("pause", "Pause"),
    ("resume", "Resume"),
    ("continue", "Resume"),
    ("next", "Next"),
    ("skip", "Next"),
    ("repeat", "Repeat"),
    ("start", "StartRoutine"),
)


class DemoSession:
    """Thread-safe: status() and command() are called from server threads, tick() from one."""

    def __init__(
        self,
        hub: EventHub | None = None,
        hold_seconds: float = 30.0,
        step_seconds: float = 6.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.hold_seconds = hold_seconds
        self.step_seconds = step_seconds
        self._clock = clock
        self._lock = threading.RLock()
        self._index: int | None = None  # None: idle
        self._step_started = 0.0
        self._paused_at: float | None = None
        self._done = False
        self._last_heard: str | None = None
        self._last_intent: str | None = None
        self._last_said: str | None = None
        self.sessions_completed = 0

    # --- what the HTTP service calls -------------------------------------------------------
    def status(self) -> dict[str, Any]:
        with self._lock:
            return self._status(self._clock())

    def command(self, text: str) -> dict[str, Any]:
        intent = next((name for word, name in _KEYWORDS if word in text.lower()), None)
        with self._lock:
            self._last_heard, self._last_intent = text, intent
            self._publish("heard", {"text": text, "intent": intent})
            response = self._apply(intent, self._clock())
            if response:
                self._say(response)
            self._publish_status()
        return {"text": text, "intent": intent, "slots": {}, "response": response}

    # --- the clock ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Advance past finished steps; publish the status (the countdown moves every tick)."""
        with self._lock:
            now = self._clock()
            running = self._index is not None and self._paused_at is None
            if running and self._elapsed(now) >= self._duration(_ROUTINE[self._index or 0]):
                self._advance(now)
            self._publish_status()

    def run_ticker(self, stop: threading.Event, period: float = 1.0) -> threading.Thread:
        def loop() -> None:
            while not stop.wait(period):
                self.tick()

        thread = threading.Thread(target=loop, name="demo-ticker", daemon=True)
        thread.start()
        return thread

    # --- internals ----------------------------------------------------------------------------
    def _apply(self, intent: str | None, now: float) -> str | None:
        if intent == "StartRoutine":
            self._done = False
            self._enter(0, now)
            return "Starting the quick routine. " + _ROUTINE[0].text
        if self._index is None:
            return "Say start the quick routine to begin." if intent else None
        if intent == "Pause" and self._paused_at is None:
            self._paused_at = now
            return "Paused. Say resume when you are ready."
        if intent == "Resume" and self._paused_at is not None:
            self._step_started += now - self._paused_at
            self._paused_at = None
            return "Resuming."
        if intent == "Next":
            self._advance(now)
            return self._current_text()
        if intent == "Repeat":
            return self._current_text()
        if intent == "Stop":
            self._index, self._paused_at = None, None
            return "Stopped. Well done."
        return None

    def _current_text(self) -> str | None:
        return _ROUTINE[self._index].text if self._index is not None else None

    def _enter(self, index: int, now: float) -> None:
        self._index, self._step_started, self._paused_at = index, now, None

    def _advance(self, now: float) -> None:
        assert self._index is not None
        if self._index + 1 < len(_ROUTINE):
            self._enter(self._index + 1, now)
            self._say(_ROUTINE[self._index].text)
        else:
            self._index, self._paused_at, self._done = None, None, True
            self.sessions_completed += 1
            self._say("That's the routine. Well done.")

    def _say(self, text: str) -> None:
        self._last_said = text
        self._publish("said", {"text": text, "kind": "instruction"})

    def _duration(self, step: Step) -> float:
        return self.hold_seconds if step.hold else self.step_seconds

    def _elapsed(self, now: float) -> float:
        end = self._paused_at if self._paused_at is not None else now
        return end - self._step_started

    def _status(self, now: float) -> dict[str, Any]:
        base: dict[str, Any] = {
            "state": "done" if self._done else "idle",
            "routine": None,
            "routine_name": None,
            "stretch": None,
            "stretch_name": None,
            "stretch_index": None,
            "stretch_count": 2,
            "step": None,
            "step_count": None,
            "step_text": None,
            "side": None,
            "hold_seconds": None,
            "remaining_seconds": None,
            "paused": False,
            "speaking": False,
            "listening": True,
            "last_heard": self._last_heard,
            "last_intent": self._last_intent,
            "last_said": self._last_said,
            "count_style": "marks",
            "progress": 1.0 if self._done else 0.0,
            "engine": "demo",
            "tts": "silent",
        }
        if self._index is None:
            return base
        step = _ROUTINE[self._index]
        same = [s for s in _ROUTINE if s.stretch == step.stretch]
        remaining = max(0.0, self._duration(step) - self._elapsed(now))
        done_fraction = 1.0 - remaining / self._duration(step)
        base.update(
            state="hold" if step.hold else "instruction",
            routine="quick",
            routine_name="Quick routine",
            stretch=step.stretch,
            stretch_name=step.stretch_name,
            stretch_index=0 if step.stretch == _ROUTINE[0].stretch else 1,
            step=same.index(step) + 1,
            step_count=len(same),
            step_text=step.text,
            side=step.side,
            hold_seconds=self.hold_seconds if step.hold else None,
            remaining_seconds=round(remaining, 1) if step.hold else None,
            paused=self._paused_at is not None,
            progress=round((self._index + done_fraction) / len(_ROUTINE), 3),
        )
        return base

    def _publish(self, kind: str, data: dict[str, Any]) -> None:
        if self.hub is not None:
            self.hub.publish(kind, data)

    def _publish_status(self) -> None:
        self._publish("status", self._status(self._clock()))


def demo_parts(hold_seconds: float = 30.0, start: bool = False) -> ServiceParts:
    """A ticking demo session wired for `create_app`; close() stops its ticker."""
    hub = EventHub()
    session = DemoSession(hub, hold_seconds=hold_seconds)
    if start:
        session.command("start the quick routine")
    stop = threading.Event()
    session.run_ticker(stop)
    return ServiceParts(status=session.status, command=session.command, hub=hub, close=stop.set)


def main(argv: list[str] | None = None) -> int:
    """`python -m voice.http.demo --port N`: the service against a demo session."""
    from voice.http.app import create_app
    from voice.http.server import DEFAULT_HOST, DEFAULT_PORT, serve_forever

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--start", action="store_true", help="start the routine at once")
    args = parser.parse_args(argv)
    parts = demo_parts(start=args.start)
    try:
        serve_forever(create_app(parts.status, parts.command, parts.hub), args.host, args.port)
    finally:
        parts.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
