"""A fan-out of coach events to HTTP subscribers (Server-Sent Events).

Pure Python, no Flask: the runtime calls `publish` from the coach's thread for every status
change ("status"), every heard utterance ("heard") and every spoken line ("said"). Each
subscriber has its own bounded queue; when a client is slow its oldest events are dropped,
so `publish` never blocks the coach on the network.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

# Event kinds the runtime publishes; others are allowed but the dashboard ignores them.
KINDS: tuple[str, ...] = ("status", "heard", "said")


@dataclass(frozen=True)
class Event:
    """One published event; `id` increases by one per publish across the hub."""

    id: int
    kind: str
    data: dict[str, Any]
    at: float  # wall clock (time.time()) so browsers and logs can show it

    def to_sse(self) -> str:
        """The event as one Server-Sent Events message."""
        payload = json.dumps(self.data, separators=(",", ":"), default=str)
        # json.dumps never emits a raw newline, so one `data:` line is always enough.
        return f"id: {self.id}\nevent: {self.kind}\ndata: {payload}\n\n"


class HubFull(RuntimeError):
    """Raised by `subscribe` when max_subscribers streams are already open."""


class HubClosed(RuntimeError):
    """Raised by `subscribe` after `close`."""


class Subscription:
    """One subscriber's bounded queue. Use as a context manager so it always unsubscribes."""

    def __init__(self, hub: EventHub, maxlen: int) -> None:
        self._hub = hub
        self._queue: deque[Event] = deque(maxlen=maxlen)
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self.dropped = 0

    def _put(self, event: Event) -> None:
        with self._cond:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1  # deque(maxlen) drops the oldest on append
            self._queue.append(event)
            self._cond.notify()

    def _close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def get(self, timeout: float) -> Event | None:
        """The next event, or None when `timeout` passes (or the hub closed) with none."""
        with self._cond:
            if not self._queue and not self._closed:
                self._cond.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def stream(self, heartbeat: float, max_seconds: float) -> Iterator[Event | None]:
        """Events as they come; None after each `heartbeat` seconds of silence.

        Ends when the hub closes or after `max_seconds`, so a long-lived stream gives its
        server thread back now and then (EventSource reconnects by itself).
        """
        deadline = time.monotonic() + max_seconds
        while not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            yield self.get(min(heartbeat, left))

    def close(self) -> None:
        self._hub.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventHub:
    """Thread-safe publish/subscribe with bounded per-subscriber queues (drop oldest)."""

    def __init__(self, queue_size: int = 256, max_subscribers: int = 8) -> None:
        # max_subscribers bounds open SSE streams: each holds one server thread.
        self.queue_size = queue_size
        self.max_subscribers = max_subscribers
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._ids = itertools.count(1)
        self._closed = False
        self.published = 0

    def publish(self, kind: str, data: dict[str, Any]) -> Event:
        """Queue an event for every subscriber. Never blocks on a subscriber."""
        with self._lock:
            event = Event(next(self._ids), kind, dict(data), time.time())
            self.published += 1
            subs = list(self._subs)
        for sub in subs:
            sub._put(event)
        return event

    def subscribe(self) -> Subscription:
        with self._lock:
            if self._closed:
                raise HubClosed("event hub is closed")
            if len(self._subs) >= self.max_subscribers:
                raise HubFull(f"{self.max_subscribers} event streams already open")
            sub = Subscription(self, self.queue_size)
            self._subs.append(sub)
            return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
        sub._close()

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)

    @property
    def dropped(self) -> int:
        """Events dropped across current subscribers because they fell behind."""
        with self._lock:
            return sum(sub.dropped for sub in self._subs)

    def close(self) -> None:
        """End every stream (server shutdown); later subscribes raise HubClosed."""
        with self._lock:
            self._closed = True
            subs, self._subs = self._subs, []
        for sub in subs:
            sub._close()
