"""The coach's event loop on a real clock.

One thread owns the coach: heard text, speech events and timers all arrive as events on one
queue, so the pure core never sees two things at once. Commands come back and are carried
out by a small registry of executors.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from intents.matcher import IntentMatcher
from voice.coach import commands as c
from voice.coach.events import Event, Heard, SpeechFinished, SpeechStarted, TimerFired
from voice.coach.machine import Coach
from voice.ports import Clock, Speaker, SpeechEvent

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, kind: str, data: dict[str, Any]) -> Any: ...


@dataclass
class _Request:
    """Heard text waiting for the loop, with a future for the caller that wants the reply."""

    text: str
    reply: Future[dict[str, Any]] = field(default_factory=Future)
    confidence: float = 1.0
    source: str = "voice"  # "voice", "text" or "http"
    received: float = field(default_factory=time.monotonic)


@dataclass
class _Call:
    fn: Callable[[], None]


SessionListener = Callable[[c.SessionEnded], None]
TIMER_COMMANDS = (c.StartTimer, c.CancelTimer)


class CoachLoop:
    def __init__(
        self,
        coach: Coach,
        matcher: IntentMatcher,
        clock: Clock,
        publisher: Publisher | None = None,
        on_session_end: SessionListener | None = None,
    ) -> None:
        """`publisher` gets "status", "heard", "said" and "speaking" events; see add_publisher."""
        self.coach = coach
        self.matcher = matcher
        self.clock = clock
        self.speaker: Speaker | None = None
        self.publishers: list[Publisher] = [publisher] if publisher is not None else []
        self.session_listeners: list[SessionListener] = [on_session_end] if on_session_end else []
        self._texts: dict[int, str] = {}  # utterance id -> text, until it has been spoken
        self._events: queue.Queue[Event | _Request | _Call | None] = queue.Queue()
        self._timers: dict[str, float] = {}
        self._lock = threading.Lock()
        self._replies: list[str] = []
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self.supervisor = SpeakerSupervisor(self)
        self._executors: dict[type, Callable[[Any], None]] = {
            c.Say: self._exec_say,
            c.StartTimer: self._exec_start_timer,
            c.CancelTimer: self._exec_cancel_timer,
            c.Interrupt: lambda _: self._speaker_call("interrupt"),
            c.CancelCues: lambda _: self._speaker_call("cancel_cues"),
            c.SetSpeechRate: self._exec_rate,
            c.StatusChanged: self._exec_status,
            c.SessionEnded: self._exec_session_ended,
        }

    # -- inputs, from any thread ----------------------------------------------------------

    def hear(
        self, text: str, confidence: float = 1.0, source: str = "voice"
    ) -> Future[dict[str, Any]]:
        request = _Request(text, confidence=confidence, source=source)
        self._events.put(request)
        return request.reply

    def command(self, text: str, timeout: float = 5.0) -> dict[str, Any]:
        """Handle text as if spoken; the reply names the intent and what the coach said."""
        return self.hear(text, source="http").result(timeout)

    def post(self, event: Event) -> None:
        """Queue an event for the coach (from any thread)."""
        self._events.put(event)

    def call(self, fn: Callable[[], None]) -> None:
        """Run fn on the loop thread, between events, so it may touch the coach."""
        self._events.put(_Call(fn))

    def add_publisher(self, publisher: Publisher) -> None:
        self.publishers.append(publisher)

    def on_speech(self, event: SpeechEvent) -> None:
        """Called from the speaker's thread when an utterance starts or ends."""
        if event.phase == "started":
            self._events.put(SpeechStarted(event.at, event.utterance_id))
            text = self._texts.get(event.utterance_id)
        else:
            self._events.put(SpeechFinished(event.at, event.utterance_id, event.interrupted))
            self._texts.pop(event.utterance_id, None)
            text = None
        # The listener needs this at once (self-hearing guard), not after the queue drains.
        self._publish("speaking", {"text": text, "utterance_id": event.utterance_id})

    def _publish(self, kind: str, data: dict[str, Any]) -> None:
        for publisher in self.publishers:
            try:
                publisher.publish(kind, data)
            except Exception:  # a broken observer must not stop the coach
                log.exception("publisher %r failed on %s", publisher, kind)

    def busy(self) -> bool:
        """True while events wait to be handled."""
        return not self._events.empty()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return self.coach.status(self.clock.now())

    # -- the loop ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="coach-loop", daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stopped.set()
        self._events.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def run(self) -> None:
        while not self._stopped.is_set():
            self.supervisor.check()
            item = self._next_item()
            if item is None:
                continue
            try:
                self._process(item)
            except Exception:  # one bad event must not end the session on the floor
                log.exception("coach failed to handle %r", item)
                if isinstance(item, _Request) and not item.reply.done():
                    item.reply.set_exception(RuntimeError("the coach could not handle that"))

    def _next_item(self) -> Event | _Request | _Call | None:
        now = self.clock.now()
        due = [name for name, t in self._timers.items() if t <= now]
        if due:
            name = min(due, key=self._timers.__getitem__)
            deadline = self._timers.pop(name)
            # The ideal deadline, not the late wake-up time, so nothing downstream drifts.
            return TimerFired(deadline, name)
        # Wake at least every half second so the speaker supervisor runs even when idle.
        timeout = min(min(self._timers.values()) - now, 0.5) if self._timers else 0.5
        try:
            return self._events.get(timeout=self._real_seconds(max(0.0, timeout)))
        except queue.Empty:
            return None

    def _real_seconds(self, clock_seconds: float) -> float:
        convert = getattr(self.clock, "real_seconds", None)
        return float(convert(clock_seconds)) if convert else clock_seconds

    def _process(self, item: Event | _Request | _Call) -> None:
        if isinstance(item, _Request):
            self._process_request(item)
        elif isinstance(item, _Call):
            with self._lock:
                item.fn()
        else:
            self._feed(item)

    def _process_request(self, request: _Request) -> None:
        result = self.matcher.match(request.text)
        event = Heard(self.clock.now(), request.text, result.intent, dict(result.slots))
        self._replies = []
        self._feed(event)
        reply = {**result.to_dict(), "response": " ".join(self._replies) or None}
        request.reply.set_result(reply)
        heard = {**result.to_dict(), "confidence": request.confidence, "source": request.source}
        self._publish("heard", {**heard, "seconds": time.monotonic() - request.received})

    def _feed(self, event: Event) -> None:
        with self._lock:
            commands = self.coach.handle(event)
        # Timers first: if a speaker call fails below, the session's clock still runs.
        for command in sorted(commands, key=lambda x: not isinstance(x, TIMER_COMMANDS)):
            try:
                self._executors[type(command)](command)
            except Exception:  # a failing adapter must never stall the session
                log.exception("could not carry out %s", type(command).__name__)
                self._after_failure(command)

    def _after_failure(self, command: c.Command) -> None:
        """A line that could not be spoken counts as spoken, or the coach would wait for it."""
        if isinstance(command, c.Say) and command.utterance.at is None:
            u = command.utterance
            self._texts.pop(u.id, None)
            self._events.put(SpeechFinished(self.clock.now(), u.id, interrupted=True))

    def finish_pending_speech(self) -> None:
        """After the speaker was replaced: release the coach from lines it will never hear end."""
        now = self.clock.now()
        for utterance_id in list(self._texts):
            self._texts.pop(utterance_id, None)
            self._events.put(SpeechFinished(now, utterance_id, interrupted=True))

    # -- executors ----------------------------------------------------------------------------

    def _speaker_call(self, method: str, *args: Any) -> None:
        if self.speaker is not None:
            getattr(self.speaker, method)(*args)

    def _exec_say(self, command: c.Say) -> None:
        u = command.utterance
        if u.at is None:
            self._replies.append(u.text)
        self._texts[u.id] = u.text
        self._speaker_call("say", u)
        self._publish("said", u.to_dict())

    def _exec_start_timer(self, command: c.StartTimer) -> None:
        self._timers[command.name] = command.deadline

    def _exec_cancel_timer(self, command: c.CancelTimer) -> None:
        self._timers.pop(command.name, None)

    def _exec_rate(self, command: c.SetSpeechRate) -> None:
        self._speaker_call("set_rate", command.delta_wpm)

    def _exec_status(self, command: c.StatusChanged) -> None:
        self._publish("status", command.status)

    def _exec_session_ended(self, command: c.SessionEnded) -> None:
        for listener in self.session_listeners:
            listener(command)


class SpeakerSupervisor:
    """Restarts a speech worker that died, with backoff; the coach's clock never waits on it.

    A speaker tells it is dead through `alive() -> False`. It is rebuilt by `factory` when
    one is set, else through its own `restart()`.
    """

    BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)

    def __init__(self, loop: CoachLoop) -> None:
        self.loop = loop
        self.factory: Callable[[], Speaker] | None = None
        self.restarts = 0
        self._next_try = 0.0
        self._failures = 0

    def check(self) -> None:
        speaker = self.loop.speaker
        alive = getattr(speaker, "alive", None)
        if speaker is None or not callable(alive) or alive():
            return
        now = time.monotonic()
        if now < self._next_try:
            return
        delay = self.BACKOFF[min(self._failures, len(self.BACKOFF) - 1)]
        self._next_try = now + delay
        log.warning(
            "the speech worker died; restarting it (next try in %.1f s if this fails)", delay
        )
        try:
            self._replace(speaker)
        except Exception:
            self._failures += 1
            log.exception("could not restart the speech worker")
            return
        self._failures = 0
        self.restarts += 1
        self.loop.finish_pending_speech()

    def _replace(self, speaker: Speaker) -> None:
        if self.factory is None:
            restart = getattr(speaker, "restart", None)
            if not callable(restart):
                raise RuntimeError("the speaker can neither be rebuilt nor restarted")
            restart()
            return
        try:
            speaker.close()
        except Exception:  # it is already broken; closing is best effort
            log.debug("closing the dead speaker failed", exc_info=True)
        self.loop.speaker = self.factory()
