"""Drift-free cue scheduling: pure decisions, no audio, no threads, no real time.

Every method takes `now` explicitly, so tests drive it with plain numbers. Times are
*audible* times on the runtime's monotonic clock: the speaker adds its output latency before
asking, so "start now" means "sound reaches the ear at `now`".

Rules (priorities from voice.ports.PRIORITIES: safety > count > instruction > info):

* A cue (utterance with `at`) is due at its deadline and never starts before it. Its slot runs
  until the next pending cue of equal or higher priority (minus a small gap). If it does not fit,
  it is shortened to the slot; if too little of the slot is left, or a count is already too
  late to mean anything, it is dropped. It is never pushed past its slot, so lateness cannot
  accumulate: each cue is anchored to its own absolute deadline.
* An as-soon-as-possible line (`at=None`) plays in priority order, FIFO within a priority.
  If it would run into a pending cue of higher or equal priority it waits for a gap that fits;
  lines behind it wait too, so the coach's lines are never reordered within the queue.
  Safety lines never wait: lower-priority cues yield to them.
* While something plays, a ready item of strictly higher priority cuts it. A cut
  as-soon-as-possible line is put back at the front of its queue and replayed whole later
  (the coach's instruction is not lost); a cut cue is gone (its moment has passed).
* After a line ends, the next as-soon-as-possible line leaves a short pause (a breath); cues
  ignore it, they keep their deadlines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from voice.ports import Utterance


def _due(at: float, now: float, lookahead: float) -> bool:
    """A cue is due once `now` reaches `at - lookahead`.

    Written as the very expression `wake_time` returns, so that at its own wake-up time a cue
    is due to the last bit: `now + lookahead >= at` is not the same test in floats, because
    `(at - lookahead) + lookahead` can round below `at`, and then the wake time would be `now`
    again and the player would spin (hypothesis found at=0.40320181271812644, lookahead=0.1).
    """
    return at - lookahead <= now


@dataclass
class Item:
    """An utterance whose rendered duration is known."""

    utterance: Utterance
    duration: float
    seq: int = 0
    replays: int = 0

    @property
    def priority(self) -> int:
        return self.utterance.priority

    @property
    def at(self) -> float | None:
        return self.utterance.at

    @property
    def is_cue(self) -> bool:
        return self.utterance.at is not None

    @property
    def is_safety(self) -> bool:
        return self.utterance.priority == 0

    def order(self) -> tuple[int, int, float, int]:
        # Within a priority a due cue goes before a waiting ASAP line: it is bound to a time.
        return (self.priority, 0 if self.is_cue else 1, self.at or 0.0, self.seq)


@dataclass(frozen=True)
class Start:
    """Play `item` from audible time `start` (now, or a cue's deadline within the lookahead);
    stop after `max_duration` seconds (shorter than the item: shortened)."""

    item: Item
    max_duration: float
    start: float = 0.0

    @property
    def shortened(self) -> bool:
        return self.max_duration < self.item.duration


@dataclass(frozen=True)
class Wait:
    """Nothing to start; ask again at `until` (None: only when something new is queued)."""

    until: float | None


Decision = Start | Wait


@dataclass(frozen=True)
class Dropped:
    item: Item
    reason: str  # "late" | "no-room" | "interrupted" | "cancelled"


@dataclass
class CueScheduler:
    """Holds queued items and decides what plays when. Not thread-safe: the caller locks."""

    gap: float = 0.05  # silence kept before the next cue so two lines never touch
    max_count_late: float = 0.25  # a count this late would be heard on the wrong second: drop
    min_play: float = 0.2  # a shortened cue needs at least this much room to be worth saying
    max_replays: int = 3  # an ASAP line cut more often than this is dropped, not replayed
    pause: float = 0.2  # breath between two lines; rendering trims espeak's own end pause
    _quiet_until: float = -math.inf
    _items: list[Item] = field(default_factory=list)
    _seq: int = 0
    dropped: list[Dropped] = field(default_factory=list)  # drained by the caller for reporting

    # --- queue management -------------------------------------------------------------------

    def add(self, utterance: Utterance, duration: float) -> Item:
        self._seq += 1
        item = Item(utterance, max(0.0, duration), self._seq)
        self._items.append(item)
        return item

    def requeue(self, item: Item) -> bool:
        """Put back an ASAP line that was cut by a higher priority item. False: dropped."""
        if item.is_cue or item.replays >= self.max_replays:
            return False
        item.replays += 1
        self._items.append(item)  # keeps its original seq, so it is first again in its queue
        return True

    def played(self, end: float) -> None:
        """The line that was playing ended at `end`: the next ASAP line leaves a pause."""
        self._quiet_until = end + self.pause

    def pending(self) -> list[Item]:
        return sorted(self._items, key=Item.order)

    def __len__(self) -> int:
        return len(self._items)

    def interrupt(self) -> list[Dropped]:
        """Drop everything queued except safety lines."""
        return self._drop_where(lambda it: not it.is_safety, "interrupted")

    def cancel_cues(self) -> list[Dropped]:
        """Drop every queued cue (utterance with a deadline)."""
        return self._drop_where(lambda it: it.is_cue, "cancelled")

    def _drop_where(self, pred: Callable[[Item], bool], reason: str) -> list[Dropped]:
        gone = [Dropped(it, reason) for it in self._items if pred(it)]
        self._items = [it for it in self._items if not pred(it)]
        self.dropped.extend(gone)
        return gone

    def drain_dropped(self) -> list[Dropped]:
        out, self.dropped = self.dropped, []
        return out

    # --- decisions --------------------------------------------------------------------------

    def _blocking_deadline(self, item: Item, now: float) -> float:
        """When the next cue that `item` must not run into is due (inf: none)."""
        limit = math.inf
        for other in self._items:
            if other is item or other.at is None:
                continue
            if other.priority > item.priority:
                continue  # lower priority cues yield to this item
            if item.at is not None and other.at <= item.at:
                continue  # an earlier cue is not the *next* one for this cue
            if other.at <= now and item.at is None:
                # A due cue of equal/higher priority is ahead of this ASAP item in the
                # order, so it blocks from now.
                return now
            limit = min(limit, other.at)
        return limit

    def _expire(self, now: float) -> None:
        for it in list(self._items):
            if it.at is None or it.at > now or it.is_safety:
                continue
            if it.utterance.kind == "count" and now - it.at > self.max_count_late:
                self._items.remove(it)
                self.dropped.append(Dropped(it, "late"))

    def next(self, now: float, lookahead: float = 0.0) -> Decision:
        """What to start at audible time `now`, if anything.

        With `lookahead`, a cue due within that many seconds is started already, to be heard
        from its deadline (`Start.start`): the caller hands it to the output early so a late
        wake-up of its thread does not make the cue late.
        """
        self._expire(now)
        asap_waiting = False
        for item in self.pending():
            if item.at is not None and not _due(item.at, now, lookahead):
                continue  # not due yet
            if item.at is None and asap_waiting:
                continue  # never jump a waiting line of the coach's queue
            if item.at is None and not item.is_safety and now < self._quiet_until:
                asap_waiting = True  # a breath after the previous line (cues keep their time)
                continue
            start = now if item.at is None else max(now, item.at)
            room = self._blocking_deadline(item, now) - self.gap - start
            if item.duration <= room:
                self._items.remove(item)
                return Start(item, item.duration, start)
            if item.is_cue:
                if room >= self.min_play or item.is_safety:
                    self._items.remove(item)
                    return Start(item, max(room, self.min_play), start)
                self._items.remove(item)
                self.dropped.append(Dropped(item, "no-room"))
                return self.next(now, lookahead)
            if item.is_safety:
                self._items.remove(item)
                return Start(item, item.duration, start)
            asap_waiting = True  # wait for a gap wide enough
        return Wait(self.wake_time(now, lookahead))

    def previous_cue(self, at: float, priority: int) -> Item | None:
        """The latest queued cue before `at` whose slot a cue (at, priority) would end."""
        before = [
            it for it in self._items if it.at is not None and it.at < at and it.priority >= priority
        ]
        return max(before, key=lambda it: it.at or 0.0, default=None)

    def update_duration(self, item: Item, duration: float) -> bool:
        """Give a queued item a new rendered length; False if it already left the queue."""
        if not any(it is item for it in self._items):
            return False
        item.duration = max(0.0, duration)
        return True

    def room(self, at: float, priority: int, also: Iterable[tuple[float, int]] = ()) -> float:
        """Seconds a cue due at `at` may last before the next cue it must not run into.

        `also` adds (deadline, priority) pairs of cues the caller knows of but has not added yet
        (still rendering), so a count can be rendered to fit its slot before it is queued.
        """
        nxt = math.inf
        known = [(it.at, it.priority) for it in self._items if it.at is not None]
        for other_at, other_priority in [*known, *also]:
            if other_at > at and other_priority <= priority:
                nxt = min(nxt, other_at)
        return nxt - self.gap - at

    def wake_time(self, now: float, lookahead: float = 0.0) -> float | None:
        """Earliest future time at which `next` could answer differently without new input
        (a cue's deadline minus the lookahead, a breath ending, a count going stale)."""
        times: list[float] = []
        for it in self._items:
            if it.at is None:
                continue
            if not _due(it.at, now, lookahead):
                times.append(it.at - lookahead)
            elif it.utterance.kind == "count" and not it.is_safety:
                times.append(it.at + self.max_count_late)
        if self._quiet_until > now and any(it.at is None for it in self._items):
            times.append(self._quiet_until)
        # Otherwise a waiting ASAP line can only start after some cue played, which wakes us.
        return min(times) if times else None

    def should_cut(self, playing: Item, now: float, lookahead: float = 0.0) -> bool:
        """True when an item of strictly higher priority than `playing` is queued and ready,
        or (a cue) due within `lookahead`."""
        for it in self._items:
            if it.priority >= playing.priority:
                continue
            if it.at is None or _due(it.at, now, lookahead):
                return True
        return False

    def next_preempt_time(self, playing: Item, now: float) -> float | None:
        """When a queued higher-priority cue will become due during `playing` (None: never)."""
        times = [
            it.at
            for it in self._items
            if it.at is not None and it.at > now and it.priority < playing.priority
        ]
        return min(times) if times else None
