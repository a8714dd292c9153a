"""The cue scheduler's rules, driven with plain numbers for time (no real clock)."""

from __future__ import annotations

import pytest

from voice.ports import Utterance
from voice.speech.scheduler import CueScheduler, Start, Wait


def u(i: int, text: str = "x", kind: str = "instruction", at: float | None = None) -> Utterance:
    return Utterance(id=i, text=text, kind=kind, at=at)


def test_cue_waits_for_its_deadline_then_starts() -> None:
    s = CueScheduler()
    s.add(u(1, "five", "count", at=10.0), 0.4)
    assert s.next(9.0) == Wait(10.0)
    d = s.next(10.0)
    assert isinstance(d, Start) and d.item.utterance.id == 1 and not d.shortened


def test_asap_lines_play_in_priority_order_fifo_within_priority() -> None:
    s = CueScheduler()
    s.add(u(1, kind="info"), 1.0)
    s.add(u(2, kind="instruction"), 1.0)
    s.add(u(3, kind="instruction"), 1.0)
    s.add(u(4, kind="safety"), 1.0)
    order = []
    while True:
        d = s.next(0.0)
        if not isinstance(d, Start):
            break
        order.append(d.item.utterance.id)
    assert order == [4, 2, 3, 1]


def test_cue_that_would_overlap_next_is_shortened_not_pushed() -> None:
    s = CueScheduler(gap=0.05)
    s.add(u(1, "twenty-seven", "count", at=1.0), 1.3)
    s.add(u(2, "twenty-eight", "count", at=2.0), 1.3)
    d1 = s.next(1.0)
    assert isinstance(d1, Start) and d1.shortened
    assert d1.max_duration == pytest.approx(0.95)
    # The next count still starts exactly on its own deadline.
    assert s.next(1.0 + d1.max_duration) == Wait(2.0)
    d2 = s.next(2.0)
    assert isinstance(d2, Start) and d2.item.utterance.id == 2 and not d2.shortened


def test_cue_with_no_room_left_is_dropped() -> None:
    s = CueScheduler(min_play=0.2, gap=0.05, max_count_late=10.0)
    s.add(u(1, "five", "count", at=1.0), 0.4)
    s.add(u(2, "four", "count", at=2.0), 0.4)
    # We only get to ask at 1.9 (the previous line ran long): 1 has 0.05 s of room left.
    d = s.next(1.9)
    assert isinstance(d, Wait)
    dropped = s.drain_dropped()
    assert [(x.item.utterance.id, x.reason) for x in dropped] == [(1, "no-room")]
    d = s.next(2.0)
    assert isinstance(d, Start) and d.item.utterance.id == 2


def test_late_count_is_dropped_rather_than_heard_on_the_wrong_second() -> None:
    s = CueScheduler(max_count_late=0.25)
    s.add(u(1, "five", "count", at=1.0), 0.4)
    assert isinstance(s.next(1.5), Wait)
    assert [x.reason for x in s.drain_dropped()] == ["late"]


def test_instruction_waits_for_a_gap_between_counts() -> None:
    s = CueScheduler(gap=0.05)
    for i in range(3):
        s.add(u(10 + i, "n", "count", at=1.0 + i), 0.4)
    s.add(u(1, "a long instruction", "instruction"), 1.5)
    # 0.0: the instruction would run into the count at 1.0, so it waits.
    assert s.next(0.0) == Wait(1.0)
    t = 1.0
    for i in range(3):
        d = s.next(t)
        assert isinstance(d, Start) and d.item.utterance.id == 10 + i
        t += d.max_duration
        if i < 2:
            assert s.next(t) == Wait(2.0 + i)  # still no room for 1.5 s before the next count
            t = 2.0 + i
    d = s.next(t)
    assert isinstance(d, Start) and d.item.utterance.id == 1


def test_short_instruction_fits_between_cues() -> None:
    s = CueScheduler(gap=0.05)
    s.add(u(10, "n", "count", at=5.0), 0.4)
    s.add(u(1, "ok", "instruction"), 1.0)
    d = s.next(0.0)
    assert isinstance(d, Start) and d.item.utterance.id == 1


def test_lower_priority_line_does_not_jump_a_waiting_instruction() -> None:
    s = CueScheduler(gap=0.05)
    s.add(u(10, "n", "count", at=1.0), 0.4)
    s.add(u(1, "long", "instruction"), 2.0)
    s.add(u(2, "short", "info"), 0.3)
    assert isinstance(s.next(0.0), Wait)


def test_safety_never_waits_and_cuts_lower_priority() -> None:
    s = CueScheduler()
    s.add(u(10, "n", "count", at=0.5), 0.4)
    s.add(u(1, "stop now", "safety"), 2.0)
    d = s.next(0.0)
    assert isinstance(d, Start) and d.item.utterance.id == 1 and not d.shortened
    # A count never cuts a safety line.
    assert not s.should_cut(d.item, 0.6)


def test_higher_priority_due_cue_cuts_instruction_which_is_replayed() -> None:
    s = CueScheduler()
    s.add(u(1, "instr", "instruction"), 3.0)
    d = s.next(0.0)
    assert isinstance(d, Start)
    s.add(u(10, "five", "count", at=1.0), 0.4)  # arrives while the instruction plays
    assert s.next_preempt_time(d.item, 0.5) == 1.0
    assert not s.should_cut(d.item, 0.9)
    assert s.should_cut(d.item, 1.0)
    assert s.requeue(d.item)
    d2 = s.next(1.0)
    assert isinstance(d2, Start) and d2.item.utterance.id == 10
    d3 = s.next(1.4)
    assert isinstance(d3, Start) and d3.item.utterance.id == 1


def test_interrupt_keeps_only_safety() -> None:
    s = CueScheduler()
    s.add(u(1, kind="instruction"), 1.0)
    s.add(u(2, kind="count", at=3.0), 0.4)
    s.add(u(3, kind="safety"), 1.0)
    s.add(u(4, kind="info"), 1.0)
    gone = s.interrupt()
    assert sorted(x.item.utterance.id for x in gone) == [1, 2, 4]
    assert [it.utterance.id for it in s.pending()] == [3]


def test_cancel_cues_keeps_asap_lines() -> None:
    s = CueScheduler()
    s.add(u(1, kind="instruction"), 1.0)
    s.add(u(2, kind="count", at=3.0), 0.4)
    s.add(u(3, kind="safety", at=4.0), 0.4)
    gone = s.cancel_cues()
    assert sorted(x.item.utterance.id for x in gone) == [2, 3]
    assert [it.utterance.id for it in s.pending()] == [1]


def test_deadlines_do_not_drift_over_a_long_hold() -> None:
    """Each count starts on its own deadline however long the previous one took."""
    s = CueScheduler(gap=0.05)
    n = 300
    for i in range(n):
        # Alternate short and over-long counts: the long ones must be cut, never delay.
        s.add(u(i, "c", "count", at=100.0 + i), 0.4 if i % 2 else 1.7)
    t = 100.0
    starts: list[float] = []
    while len(s):
        d = s.next(t)
        if isinstance(d, Wait):
            assert d.until is not None
            t = d.until
            continue
        starts.append(t)
        assert d.item.at == pytest.approx(t)
        t += d.max_duration
    assert len(starts) == n
    assert starts[-1] == pytest.approx(100.0 + n - 1)


def test_requeue_limit() -> None:
    s = CueScheduler(max_replays=1)
    s.add(u(1), 1.0)
    d = s.next(0.0)
    assert isinstance(d, Start)
    assert s.requeue(d.item)
    d = s.next(0.0)
    assert isinstance(d, Start)
    assert not s.requeue(d.item)


def test_pause_between_lines_but_not_before_cues() -> None:
    s = CueScheduler(pause=0.2)
    s.add(u(1, kind="instruction"), 1.0)
    s.add(u(2, kind="instruction"), 1.0)
    s.add(u(3, kind="count", at=1.05), 0.3)
    d = s.next(0.0)
    assert isinstance(d, Start) and d.item.utterance.id == 1
    s.played(1.0)
    # The count keeps its deadline; the next instruction waits for its breath.
    assert s.next(1.0) == Wait(1.05)
    d = s.next(1.05)
    assert isinstance(d, Start) and d.item.utterance.id == 3
    s.played(1.35)
    d0 = s.next(1.35)
    assert isinstance(d0, Wait) and d0.until == pytest.approx(1.55)
    d = s.next(1.55)
    assert isinstance(d, Start) and d.item.utterance.id == 2


def test_room_counts_cues_still_rendering() -> None:
    s = CueScheduler(gap=0.05)
    s.add(u(1, "n", "count", at=3.0), 0.4)
    assert s.room(1.0, 1) == pytest.approx(1.95)
    assert s.room(1.0, 1, also=[(2.0, 1)]) == pytest.approx(0.95)
    assert s.room(1.0, 1, also=[(2.0, 3)]) == pytest.approx(1.95)  # info never limits a count
    assert s.room(5.0, 1) == float("inf")


def test_lookahead_starts_a_cue_early_at_its_deadline_with_its_full_slot() -> None:
    s = CueScheduler(gap=0.05, max_count_late=0.25)
    s.add(u(1, "one", "count", at=1.0), 0.9)
    s.add(u(2, "two", "count", at=2.0), 0.4)
    s.add(u(3, "three", "count", at=3.0), 0.4)
    assert isinstance(s.next(0.85, lookahead=0.1), Wait)  # 1.0 is not within 0.1 of 0.85
    d = s.next(0.95, lookahead=0.1)
    assert isinstance(d, Start) and d.start == 1.0 and not d.shortened  # room from 1.0, not 1.05
    # A large lookahead (a fast demo clock) never expires a count that is not late yet.
    d = s.next(1.9, lookahead=1.0)
    assert isinstance(d, Start) and d.item.utterance.id == 2 and d.start == 2.0
    assert not s.drain_dropped()


def test_previous_cue_and_update_duration() -> None:
    s = CueScheduler()
    a = s.add(u(1, "a", "count", at=1.0), 1.5)
    s.add(u(2, "b", "info", at=1.5), 0.3)
    b = s.pending()[1]
    assert s.previous_cue(1.4, 1) is a
    assert s.previous_cue(2.0, 1) is b  # a count also ends an info cue's slot
    assert s.previous_cue(2.0, 3) is b  # an info cue never ends a count's slot
    assert s.previous_cue(1.0, 1) is None
    assert s.update_duration(a, 0.8) and a.duration == 0.8
    d = s.next(1.0)
    assert isinstance(d, Start) and d.item is a
    assert not s.update_duration(a, 0.5)  # already started


# Hypothesis' counterexample: 0.40320181271812644 - 0.1 + 0.1 rounds to just below the deadline.
ROUNDS_LOW = 0.40320181271812644


def test_a_cue_is_due_at_its_own_wake_up_time_to_the_last_bit() -> None:
    assert ROUNDS_LOW - 0.1 + 0.1 < ROUNDS_LOW  # the float trap this guards against
    s = CueScheduler()
    s.add(u(1, "five", "count", at=ROUNDS_LOW), 0.4)
    wake = s.next(0.0, lookahead=0.1)
    assert isinstance(wake, Wait) and wake.until is not None
    d = s.next(wake.until, lookahead=0.1)
    assert isinstance(d, Start) and d.start == ROUNDS_LOW


def test_a_cue_due_within_the_lookahead_cuts_at_the_players_wake_up_time() -> None:
    s = CueScheduler()
    line = s.add(u(1, "a long instruction"), 5.0)
    assert s.next(0.0) == Start(line, 5.0, 0.0)
    s.add(u(2, "five", "count", at=ROUNDS_LOW), 0.4)  # asked for while the line plays
    # The player wakes at the cue's deadline minus the pre-roll (next_preempt_time - preroll).
    assert s.next_preempt_time(line, 0.0) == ROUNDS_LOW
    assert not s.should_cut(line, ROUNDS_LOW - 0.1 - 1e-6, lookahead=0.1)
    assert s.should_cut(line, ROUNDS_LOW - 0.1, lookahead=0.1)
