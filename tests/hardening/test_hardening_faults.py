"""Component faults (issue 9, part 3): the TTS worker or the recognizer raising or dying
mid-session is logged and restarted with backoff, and the session keeps its clock and place.

Run against the real CoachLoop and coach on a fast clock (the quick routine takes under
three seconds of wall time at x200), with faulty speakers and recognizers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from content.model import Content
from intents.matcher import IntentMatcher
from voice.coach.machine import Coach, CoachSettings
from voice.fakes import ClockedSource, FakeClock, FaultyRecognizer, RecordingSpeaker
from voice.ports import Transcript, Utterance
from voice.runtime.clock import ScaledClock
from voice.runtime.loop import CoachLoop
from voice.speech.speaker import SilentSpeaker

SCALE = 200.0


def make_loop(content: Content, matcher: IntentMatcher) -> CoachLoop:
    coach = Coach(content, CoachSettings(first_session=False))
    return CoachLoop(coach, matcher, ScaledClock(SCALE))


def wait_for_end(loop: CoachLoop, ended: list[Any], timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ended:
        time.sleep(0.02)
    return loop.status()


class FlakySpeaker(RecordingSpeaker):
    """Raises from say() on the first count cue: a TTS worker failing mid-hold."""

    def __init__(self, fail_times: int = 1) -> None:
        super().__init__()
        self.fail_times = fail_times
        self.failures = 0

    def say(self, utterance: Utterance) -> None:
        if utterance.kind == "count" and self.failures < self.fail_times:
            self.failures += 1
            raise RuntimeError("TTS engine crashed")
        super().say(utterance)


@pytest.fixture
def quick_session(
    content: Content, matcher: IntentMatcher
) -> Iterator[tuple[CoachLoop, list[Any]]]:
    loop = make_loop(content, matcher)
    ended: list[Any] = []
    loop.session_listeners.append(ended.append)
    yield loop, ended
    loop.stop()


def test_baseline_quick_routine_finishes_on_the_fast_clock(
    quick_session: tuple[CoachLoop, list[Any]],
) -> None:
    loop, ended = quick_session
    speaker = RecordingSpeaker(listener=loop.on_speech)
    loop.speaker = speaker
    loop.start()
    loop.command("start the quick routine")
    wait_for_end(loop, ended)
    assert ended and ended[0].summary["held"], loop.status()


def test_speaker_raising_mid_hold_keeps_clock_and_place(
    quick_session: tuple[CoachLoop, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    loop, ended = quick_session
    speaker = FlakySpeaker()
    speaker.listener = loop.on_speech
    loop.speaker = speaker
    loop.start()
    with caplog.at_level(logging.ERROR):
        loop.command("start the quick routine")
        status = wait_for_end(loop, ended, timeout=3)
    assert speaker.failures == 1
    assert any("TTS engine crashed" in r.getMessage() or r.exc_info for r in caplog.records)
    assert ended, f"session stalled after one TTS error: {status}"
    held = ended[0].summary["held"]
    assert len(held) == 4 and all(v >= 30 for v in held.values()), held  # 2 stretches x 2 sides


class DyingScheduler:
    """Wraps the speaker's scheduler: add() raises once, killing the render thread."""

    def __init__(self, inner: Any, fail_at: int) -> None:
        self.inner, self.fail_at, self.calls = inner, fail_at, 0

    def add(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("render worker died")
        return self.inner.add(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __len__(self) -> int:
        return len(self.inner)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_tts_worker_dying_is_restarted_and_the_session_finishes(
    quick_session: tuple[CoachLoop, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    loop, ended = quick_session
    speaker = SilentSpeaker(loop.clock, loop.on_speech)
    speaker._sched = DyingScheduler(speaker._sched, fail_at=4)  # type: ignore[assignment]
    loop.speaker = speaker
    loop.start()
    try:
        with caplog.at_level(logging.WARNING):
            loop.command("start the quick routine")
            status = wait_for_end(loop, ended, timeout=4)
        assert ended, f"session stalled after the TTS worker died: {status}"
        assert any("restart" in r.getMessage().lower() for r in caplog.records)
    finally:
        speaker.close()


# -- the recognizer --------------------------------------------------------------------------


class ChunkSource:
    """An endless microphone: one silent 100 ms chunk at a time, until closed."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def chunks(self) -> Iterator[bytes]:
        while not self.closed.is_set():
            time.sleep(0.005)
            yield b"\x00\x00" * 1600

    def close(self) -> None:
        self.closed.set()


class FlakyRecognizer:
    """Says "pause" now and then; raises once on the 5th chunk, as a decoder bug would."""

    def __init__(self) -> None:
        self.chunks = 0
        self.grammar = "idle"

    def set_grammar(self, name: str) -> None:
        self.grammar = name

    def accept(self, pcm: bytes) -> Transcript | None:
        self.chunks += 1
        if self.chunks == 5:
            raise AttributeError("'NoneType' object has no attribute 'hypstr'")
        return Transcript("pause", 0.99) if self.chunks % 10 == 0 else None

    def partial(self) -> str:
        return ""

    def flush(self) -> Transcript | None:
        return None


class AcceptAll:
    def check(self, transcript: Transcript, allowed: Any) -> Any:
        from voice.hearing.verify import Verdict

        return Verdict(True, transcript.text, "Pause", {}, transcript.confidence, "")


def test_recognizer_raising_is_restarted_and_keeps_hearing() -> None:
    from voice.hearing.listener import DEFAULT_STATE_INTENTS, Listener

    heard: list[str] = []
    source = ChunkSource()
    listener = Listener(
        source, FlakyRecognizer(), DEFAULT_STATE_INTENTS, lambda t, c, e: heard.append(t),
        verifier=AcceptAll(),  # type: ignore[arg-type]
    )  # fmt: skip
    listener.start()
    try:
        time.sleep(1.0)
        assert listener.running, f"listener died: {listener.error!r}"
        assert len(heard) >= 3, heard
    finally:
        listener.stop()


def test_listener_failure_of_the_audio_source_is_recorded_and_ends_the_thread() -> None:
    """Only the microphone failing ends listening; the runtime reads `error` and says so."""
    from voice.hearing.listener import DEFAULT_STATE_INTENTS, Listener

    clock = FakeClock()
    lost = OSError("device unplugged")
    rec = FaultyRecognizer()
    listener = Listener(
        ClockedSource(clock, 20, CHUNK_S, error=lost), rec, DEFAULT_STATE_INTENTS,
        lambda t, c, e: None, verifier=AcceptAll(), clock=clock.now,  # type: ignore[arg-type]
    )  # fmt: skip
    listener.start()
    listener.join(5)
    assert not listener.running and listener.error is lost
    assert rec.chunks == 20 and listener.restarts == 0


CHUNK_S = 0.125  # exact in binary, so clock sums and backoff deadlines compare exactly


def _listen(
    recognizer: FaultyRecognizer,
    chunks: int,
    rebuild: Any = None,
    policy: Any = None,
    state: str = "idle",
    clock: FakeClock | None = None,
) -> tuple[Any, list[float]]:
    """Run a listener over `chunks` chunks on a fake clock; (listener, times heard)."""
    from voice.hearing.listener import DEFAULT_STATE_INTENTS, Listener

    clock = clock or FakeClock()
    heard: list[float] = []
    listener = Listener(
        ClockedSource(clock, chunks, CHUNK_S), recognizer, DEFAULT_STATE_INTENTS,
        lambda t, c, e: heard.append(clock.now()), verifier=AcceptAll(),  # type: ignore[arg-type]
        clock=clock.now, rebuild=rebuild, restart=policy, initial_state=state,
    )  # fmt: skip
    listener.start()
    listener.join(10)
    assert not listener.running and listener.error is None, listener.error
    return listener, heard


def test_failed_recognizer_is_rebuilt_on_the_current_grammar_after_the_first_delay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = FaultyRecognizer([None, None, RuntimeError("decoder died")], then=RuntimeError("dead"))
    fresh: list[FaultyRecognizer] = []

    def rebuild() -> FaultyRecognizer:
        fresh.append(FaultyRecognizer([None, "pause"]))
        return fresh[-1]

    with caplog.at_level(logging.WARNING):
        listener, heard = _listen(broken, 20, rebuild=rebuild, state="hold")
    # Fails on chunk 3 (t=0.375); chunks 4-6 are read and dropped during the 0.5 s delay;
    # chunk 7 (t=0.875) goes to the rebuilt recognizer, which hears "pause" on chunk 8.
    assert broken.chunks == 3 and broken.closed
    assert len(fresh) == 1 and listener.recognizer is fresh[0]
    assert fresh[0].grammars[0] == "hold"  # the state survives the restart
    assert fresh[0].chunks == 20 - 6
    assert heard == [1.0]
    assert listener.restarts == 1 and listener.recognizer_errors == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info and "decoder died" in str(errors[0].exc_info[1])
    assert any("restarted" in r.getMessage() for r in caplog.records)


def test_restart_delays_double_up_to_the_cap_and_failed_rebuilds_back_off_too() -> None:
    from voice.hearing.listener import RestartPolicy

    clock = FakeClock()
    attempts: list[float] = []

    def rebuild() -> FaultyRecognizer:
        attempts.append(clock.now())
        if len(attempts) == 2:
            raise OSError("model file vanished")
        return FaultyRecognizer(then=RuntimeError("still broken"))

    policy = RestartPolicy(first_delay_s=0.5, max_delay_s=2.0, healthy_s=60.0)
    first = FaultyRecognizer(then=RuntimeError("broken"))
    listener, heard = _listen(first, 60, rebuild, policy, clock=clock)
    # First failure at t=0.125; then 0.5, 1, 2 (that rebuild raises), 2 (capped), ...
    assert attempts == [0.625, 1.625, 3.625, 5.625], attempts
    assert listener.recognizer_errors == 5  # four decoder failures and one failed rebuild
    assert listener.restarts == 3 and heard == []


def test_restart_delay_is_forgiven_after_a_healthy_spell() -> None:
    from voice.hearing.listener import RestartPolicy

    script: list[Any] = [RuntimeError("a"), None, RuntimeError("b")] + [None] * 30
    rec = FaultyRecognizer([*script, RuntimeError("c")], then="pause")
    policy = RestartPolicy(first_delay_s=0.25, max_delay_s=10.0, healthy_s=2.0)
    listener, heard = _listen(rec, 48, policy=policy)
    # a at t=0.125 (wait 0.25), b at t=0.5 right after that restart (wait 0.5), then 3.75 s
    # healthy, so c at t=4.75 waits the first delay again: hearing resumes at t=5.0, not 5.75.
    assert listener.recognizer_errors == 3 and listener.restarts == 3
    assert rec.resets == 3  # no rebuild given: the same recognizer is reset and reused
    assert heard[0] == 5.0, heard


def test_typed_command_failure_does_not_end_a_text_session(
    content: Content, matcher: IntentMatcher
) -> None:
    """A coach error on one line is logged and the next line is still handled."""
    loop = make_loop(content, matcher)
    loop.speaker = RecordingSpeaker(listener=loop.on_speech)
    calls = {"n": 0}
    real = matcher.match

    def flaky(text: str, allowed: Any = None) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("matcher bug")
        return real(text, allowed)

    loop.matcher = type("M", (), {"match": staticmethod(flaky)})()
    loop.start()
    try:
        with pytest.raises(RuntimeError):
            loop.command("pause")
        assert loop.running()
        assert loop.command("help")["intent"] == "Help"
    finally:
        loop.stop()


def test_read_commands_survives_a_failing_line(content: Content, matcher: IntentMatcher) -> None:
    import io

    from voice.runtime.text_input import read_commands

    loop = make_loop(content, matcher)
    loop.speaker = RecordingSpeaker(listener=loop.on_speech)
    real = matcher.match

    def flaky(text: str, allowed: Any = None) -> Any:
        if text == "boom":
            raise RuntimeError("matcher bug")
        return real(text, allowed)

    loop.matcher = type("M", (), {"match": staticmethod(flaky)})()
    loop.start()
    try:
        read_commands(loop, io.StringIO("boom\nhelp\n"))
        assert loop.coach.last_intent == "Help"
    finally:
        loop.stop()
