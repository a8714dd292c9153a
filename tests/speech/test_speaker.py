"""The threaded speakers end to end: real espeak-ng rendering, WAV and print outputs.

These run in real time (a few seconds) but assert only on order and content, never on speed.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voice.ports import SpeechEvent, Utterance
from voice.speech.factory import make_speaker
from voice.speech.outputs import NullOutput, PrintOutput, WavDirOutput
from voice.speech.render import Pcm, Voice
from voice.speech.scheduler import CueScheduler, Item
from voice.speech.speaker import PrintSpeaker, QueuedSpeaker, TtsSpeaker

WAIT = 30.0  # generous: only a hang should ever reach it


class MonoClock:
    def now(self) -> float:
        return time.monotonic()


class Recorder:
    def __init__(self) -> None:
        self.events: list[SpeechEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: SpeechEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[list[SpeechEvent]], bool]) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: pred(self.events), WAIT), self.events

    def has(self, uid: int, phase: str) -> Callable[[list[SpeechEvent]], bool]:
        return lambda evs: any(e.utterance_id == uid and e.phase == phase for e in evs)

    def sequence(self) -> list[tuple[int, str]]:
        with self._cond:
            return [(e.utterance_id, e.phase) for e in self.events]


LONG = " ".join(["Keep breathing slowly and let the front of the hip open."] * 6)


@pytest.fixture
def clock() -> MonoClock:
    return MonoClock()


def test_wav_dir_gets_numbered_files_index_and_timeline(tmp_path: Path, clock: MonoClock) -> None:
    rec = Recorder()
    out = WavDirOutput(tmp_path)
    sp = TtsSpeaker(clock, rec, out, prewarm=())
    t0 = clock.now() + 0.5
    sp.say(Utterance(1, "Hold it here.", "instruction"))
    sp.say(Utterance(2, "three", "count", at=t0 + 1.0))
    sp.say(Utterance(3, "two", "count", at=t0 + 2.0))
    assert sp.wait_idle(WAIT)
    sp.close()

    index = json.loads((tmp_path / "index.json").read_text())
    entries = index["utterances"]
    assert [e["text"] for e in entries] == ["Hold it here.", "three", "two"]
    assert [e["kind"] for e in entries] == ["instruction", "count", "count"]
    assert entries[1]["scheduled"] == pytest.approx(t0 + 1.0)
    for e in entries:
        data, rate = sf.read(str(tmp_path / e["file"]))
        assert rate == 22050 and len(data) > 0
        assert {"scheduled", "started", "offset", "onset_error", "interrupted"} <= e.keys()
    # The counts sit one second apart in the timeline, as scheduled.
    assert entries[2]["offset"] - entries[1]["offset"] == pytest.approx(1.0, abs=0.05)
    timeline, rate = sf.read(str(tmp_path / "timeline.wav"))
    assert len(timeline) / rate >= entries[2]["offset"]
    assert (tmp_path / "index.jsonl").read_text().count("\n") == 3
    # Events: started then finished for each, in play order.
    assert rec.sequence() == [
        (1, "started"), (1, "finished"), (2, "started"), (2, "finished"),
        (3, "started"), (3, "finished"),
    ]  # fmt: skip


def test_interrupt_stops_a_long_utterance(tmp_path: Path, clock: MonoClock) -> None:
    rec = Recorder()
    out = WavDirOutput(tmp_path)
    sp = TtsSpeaker(clock, rec, out, prewarm=())
    sp.say(Utterance(1, LONG, "instruction"))
    sp.say(Utterance(2, "queued, never heard", "info"))
    rec.wait_for(rec.has(1, "started"))
    sp.interrupt()
    rec.wait_for(rec.has(1, "finished"))
    assert sp.wait_idle(WAIT)
    sp.close()
    finished = [e for e in rec.events if e.phase == "finished"]
    assert [(e.utterance_id, e.interrupted) for e in finished] == [(1, True)]
    entry = json.loads((tmp_path / "index.json").read_text())["utterances"][0]
    assert entry["interrupted"] is True
    assert entry["duration"] < entry["rendered_duration"]


def test_interrupt_keeps_safety_lines(clock: MonoClock) -> None:
    rec = Recorder()
    sp = PrintSpeaker(clock, rec, output=PrintOutput(io.StringIO()))
    sp.say(Utterance(1, LONG, "instruction"))
    rec.wait_for(rec.has(1, "started"))
    sp.say(Utterance(2, "next instruction", "instruction"))
    sp.say(Utterance(3, "Stop. Ease out of the stretch.", "safety"))
    sp.interrupt()
    rec.wait_for(rec.has(3, "finished"))
    assert sp.wait_idle(WAIT)
    sp.close()
    assert (2, "started") not in rec.sequence()


def test_safety_cuts_an_instruction_which_is_replayed_after(clock: MonoClock) -> None:
    rec = Recorder()
    sp = PrintSpeaker(clock, rec, output=PrintOutput(io.StringIO()))
    sp.say(Utterance(1, "one two three four five six", "instruction"))
    rec.wait_for(rec.has(1, "started"))
    sp.say(Utterance(2, "Careful", "safety"))
    assert sp.wait_idle(WAIT)
    sp.close()
    assert rec.sequence() == [
        (1, "started"), (1, "finished"), (2, "started"), (2, "finished"),
        (1, "started"), (1, "finished"),
    ]  # fmt: skip
    assert rec.events[1].interrupted and not rec.events[5].interrupted


def test_count_due_during_an_instruction_cuts_it_and_lands_on_its_deadline(
    tmp_path: Path, clock: MonoClock
) -> None:
    rec = Recorder()
    out = WavDirOutput(tmp_path)
    sp = TtsSpeaker(clock, rec, out, prewarm=())
    sp.say(Utterance(1, LONG, "instruction"))
    rec.wait_for(rec.has(1, "started"))
    at = clock.now() + 1.0
    sp.say(Utterance(2, "five", "count", at=at))
    rec.wait_for(rec.has(2, "finished"))
    sp.interrupt()
    assert sp.wait_idle(WAIT)
    sp.close()
    entries = json.loads((tmp_path / "index.json").read_text())["utterances"]
    first, count = entries[0], entries[1]
    assert (first["id"], first["interrupted"]) == (1, True)
    assert count["id"] == 2 and count["scheduled"] == pytest.approx(at)
    # The instruction's audio stops where the count begins: the two never overlap.
    assert first["offset"] + first["duration"] <= count["offset"] + 1e-3


def test_cancel_cues_drops_pending_counts(clock: MonoClock) -> None:
    rec = Recorder()
    sp = PrintSpeaker(clock, rec, output=PrintOutput(io.StringIO()))
    t0 = clock.now()
    sp.say(Utterance(1, "one", "count", at=t0 + 0.2))
    sp.say(Utterance(2, "two", "count", at=t0 + 5.0))
    rec.wait_for(rec.has(1, "finished"))
    sp.cancel_cues()
    sp.say(Utterance(3, "done", "instruction"))
    rec.wait_for(rec.has(3, "finished"))
    assert sp.wait_idle(WAIT)
    sp.close()
    assert (2, "started") not in rec.sequence()


def test_print_speaker_prints_lines_with_times(clock: MonoClock) -> None:
    buf = io.StringIO()
    rec = Recorder()
    sp = PrintSpeaker(clock, rec, output=PrintOutput(buf))
    sp.say(Utterance(1, "Kneel on your right knee.", "instruction"))
    sp.say(Utterance(2, "Breathe.", "info"))
    assert sp.wait_idle(WAIT)
    sp.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[    0.00] instruction") and lines[0].endswith("right knee.")
    assert "Breathe." in lines[1]
    start, end = (e.at for e in rec.events if e.utterance_id == 1)
    assert end - start > 0.5  # a realistic estimated duration, not zero


def test_set_rate_changes_rendered_speed(tmp_path: Path, clock: MonoClock) -> None:
    rec = Recorder()
    out = WavDirOutput(tmp_path)
    sp = TtsSpeaker(clock, rec, out, prewarm=(), rate=175)
    text = "Slowly bring your hips forward."
    sp.say(Utterance(1, text))
    assert sp.wait_idle(WAIT)
    sp.set_rate(-60)
    assert sp.rate == 115
    sp.say(Utterance(2, text))
    assert sp.wait_idle(WAIT)
    sp.close()
    first, second = json.loads((tmp_path / "index.json").read_text())["utterances"]
    assert second["rendered_duration"] > first["rendered_duration"] * 1.2


def test_slow_counts_are_rendered_faster_to_fit_their_second(
    tmp_path: Path, clock: MonoClock
) -> None:
    rec = Recorder()
    out = WavDirOutput(tmp_path)
    sp = TtsSpeaker(clock, rec, out, prewarm=(), rate=100)
    # Room for rendering on a loaded machine: the test is about fitting slots, not speed.
    t0 = clock.now() + 4.0
    words = ["twenty-seven", "twenty-eight", "twenty-nine"]
    # The first count is usually rendered before the next one is even asked for (as when a
    # coach schedules counts one by one): its slot narrows later and it is re-rendered.
    sp.say(Utterance(0, words[0], "count", at=t0))
    time.sleep(0.3)
    for i, w in enumerate(words[1:], start=1):
        sp.say(Utterance(i, w, "count", at=t0 + i))
    assert sp.wait_idle(WAIT)
    sp.close()
    entries = json.loads((tmp_path / "index.json").read_text())["utterances"]
    assert [e["text"] for e in entries] == words
    # Each fits its slot (1 s minus the gap) whole: none was cut mid-word.
    assert not any(e["shortened"] for e in entries[:2])
    assert all(e["rendered_duration"] <= 0.95 for e in entries[:2])


class FastClock:
    """A demo clock ten times faster than the wall clock, like --time-scale 10."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._origin) * 10.0

    def real_seconds(self, clock_seconds: float) -> float:
        return clock_seconds / 10.0


def test_scaled_clock_keeps_counts_on_their_clock_seconds() -> None:
    fast = FastClock()
    buf = io.StringIO()
    rec = Recorder()
    sp = PrintSpeaker(fast, rec, output=PrintOutput(buf))
    t0 = fast.now() + 1.0
    for i in range(5):
        sp.say(Utterance(i, str(5 - i), "count", at=t0 + i))
    assert sp.wait_idle(WAIT)
    sp.close()
    starts = [e.at for e in rec.events if e.phase == "started"]
    assert len(starts) == 5
    # On the clock's seconds (a wake-up later than the pre-roll would show as a few ms late).
    assert all(t0 + i <= s < t0 + i + 0.25 for i, s in enumerate(starts))


class CardLike(NullOutput):
    """Plays at the wall clock's pace, as a sound card does."""

    realtime = True


class Tone:
    """A renderer whose every line is 0.3 s of sound."""

    def render(self, text: str, voice: Voice) -> Pcm:
        return Pcm(np.full(3000, 0.1, dtype=np.float32), 10_000)


def test_on_a_sound_card_a_scaled_clock_line_lasts_its_real_length() -> None:
    fast = FastClock()
    rec = Recorder()
    sp = QueuedSpeaker(fast, rec, Tone(), CardLike(), prewarm=())
    sp.say(Utterance(1, "Hold it there.", "instruction"))
    assert sp.wait_idle(WAIT)
    sp.close()
    start, end = (e.at for e in rec.events)
    # The card needs 0.3 real seconds whatever the clock does: 3 s on a clock ten times
    # faster. "Speaking" for only 0.3 clock seconds would open the microphone to the coach's
    # own words while they are still in the air.
    assert end - start >= 3.0 - 1e-6


def test_listener_errors_do_not_stop_the_speaker(clock: MonoClock) -> None:
    calls: list[SpeechEvent] = []

    def bad(event: SpeechEvent) -> None:
        calls.append(event)
        raise RuntimeError("listener bug")

    sp = PrintSpeaker(clock, bad, output=PrintOutput(io.StringIO()))
    sp.say(Utterance(1, "a"))
    sp.say(Utterance(2, "b"))
    assert sp.wait_idle(WAIT)
    sp.close()
    assert len(calls) == 4


def test_factory_modes(
    tmp_path: Path, clock: MonoClock, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder()
    sp = make_speaker("print", clock, rec)
    assert isinstance(sp, PrintSpeaker)
    sp.close()
    sp = make_speaker("tts", clock, rec, tts_out=tmp_path / "out")
    assert isinstance(sp, TtsSpeaker)
    assert isinstance(sp.output, WavDirOutput)
    sp.close()
    sp = make_speaker("none", clock, rec)
    assert isinstance(sp, QueuedSpeaker)
    sp.close()
    with pytest.raises(ValueError):
        make_speaker("loud", clock, rec)


def test_factory_falls_back_to_print_when_tts_fails(
    clock: MonoClock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice.speech import render

    def broken(self: object, text: str, voice: object) -> object:
        raise RuntimeError("no espeak here")

    monkeypatch.setattr(render.Pyttsx3Renderer, "render", broken)
    sp = make_speaker("tts", clock, Recorder())
    assert isinstance(sp, PrintSpeaker)
    sp.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no espeak here" in err


class _FailingOnce:
    """Wraps a scheduler so that its n-th add() raises, as a bug in a worker would."""

    def __init__(self, inner: CueScheduler, fail_at: int) -> None:
        self.inner, self.fail_at, self.calls = inner, fail_at, 0

    def add(self, utterance: Utterance, duration: float) -> Item:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("worker bug")
        return self.inner.add(utterance, duration)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __len__(self) -> int:
        return len(self.inner)


def test_a_failing_worker_is_restarted_and_the_line_reported_cut(
    clock: MonoClock, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder()
    failing = _FailingOnce(CueScheduler(), fail_at=2)
    out = PrintOutput(io.StringIO())
    sp = PrintSpeaker(clock, rec, output=out, scheduler=failing)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        for i in range(1, 4):
            sp.say(Utterance(i, f"line {i}"))
        assert sp.wait_idle(WAIT)
    sp.close()
    finished = {e.utterance_id: e.interrupted for e in rec.events if e.phase == "finished"}
    assert finished == {1: False, 2: True, 3: False}
    assert any("restarted" in r.getMessage() for r in caplog.records)


def test_alive_and_restart_for_the_runtime_supervisor(clock: MonoClock) -> None:
    rec = Recorder()
    sp = PrintSpeaker(clock, rec, output=PrintOutput(io.StringIO()))
    assert sp.alive()
    sp.restart()  # nothing dead: a no-op
    sp.say(Utterance(1, "still speaking"))
    rec.wait_for(rec.has(1, "finished"))
    sp.close()
    assert sp.alive()  # closed on purpose is not dead


def test_factory_prints_the_lines_when_there_is_no_sound_card(
    clock: MonoClock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice.speech import outputs

    def no_card(self: object, **kwargs: object) -> None:
        raise outputs.OutputUnavailable("no audio output device")

    monkeypatch.setattr(outputs.DeviceOutput, "__init__", no_card)
    sp = make_speaker("tts", clock, Recorder())
    assert isinstance(sp, PrintSpeaker)
    sp.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no audio output device" in err and "printing" in err
