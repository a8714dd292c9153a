"""Output details that need no sound card: sample placement and the print format."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from voice.ports import Clock, Utterance
from voice.speech.outputs import DeviceOutput, PlayInfo, fill_block
from voice.speech.render import Pcm


def test_fill_block_places_first_sample_on_its_deadline() -> None:
    rate = 1000
    buf = np.arange(1, 11, dtype=np.float32)
    out = np.full(8, 9.0, dtype=np.float32)
    # Block covers t=1.000..1.007; the line is due at 1.005 -> 5 frames of silence first.
    pos, target = fill_block(out, buf, 0, 1.005, 1.000, rate)
    assert list(out) == [0, 0, 0, 0, 0, 1, 2, 3]
    assert (pos, target) == (3, None)
    pos, target = fill_block(out, buf, pos, target, 1.008, rate)
    assert list(out) == [4, 5, 6, 7, 8, 9, 10, 0]
    assert pos == 10


def test_fill_block_waits_for_a_later_block_and_starts_late_targets_at_once() -> None:
    rate = 1000
    buf = np.ones(4, dtype=np.float32)
    out = np.zeros(8, dtype=np.float32)
    pos, target = fill_block(out, buf, 0, 2.0, 1.0, rate)
    assert (pos, target) == (0, 2.0) and not out.any()
    pos, target = fill_block(out, buf, 0, 0.5, 1.0, rate)  # late: no skipping
    assert list(out[:5]) == [1, 1, 1, 1, 0] and target is None
    pos, target = fill_block(out, buf, 0, 5.0, None, rate)  # DAC time unknown: start now
    assert out[0] == 1 and target is None


class Wall:
    """Real seconds, moved by hand: what time.monotonic() and the card's clock both follow."""

    def __init__(self) -> None:
        self.real = 1000.0


class ScaledClock:
    """A session clock four times faster than the wall, like --time-scale 4."""

    def __init__(self, wall: Wall) -> None:
        self.wall = wall

    def now(self) -> float:
        return 500.0 + (self.wall.real - 1000.0) * 4.0

    def real_seconds(self, clock_seconds: float) -> float:
        return clock_seconds / 4.0


class FakeStream:
    """sounddevice.OutputStream without a card: stream time on its own base (as PortAudio's)."""

    latency = 0.02

    def __init__(self, wall: Wall, callback: Callable[..., None], blocksize: int) -> None:
        self.wall = wall
        self.callback = callback
        self.blocksize = blocksize

    @property
    def time(self) -> float:
        return self.wall.real - 900.0

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def play(self, blocks: int) -> npt.NDArray[np.float32]:
        """Run the callback for `blocks` blocks, the first reaching the DAC now."""
        out = []
        for k in range(blocks):
            data = np.full((self.blocksize, 1), 9.0, dtype=np.float32)
            dac = self.time + k * self.blocksize / RATE
            self.callback(data, self.blocksize, SimpleNamespace(outputBufferDacTime=dac), None)
            out.append(data[:, 0])
        return np.concatenate(out)


RATE = 1000


def device(monkeypatch: pytest.MonkeyPatch, clock: Clock, wall: Wall) -> DeviceOutput:
    streams: list[FakeStream] = []

    def output_stream(**kw: Any) -> FakeStream:
        streams.append(FakeStream(wall, kw["callback"], kw["blocksize"]))
        return streams[-1]

    sd = SimpleNamespace(query_devices=lambda *a, **kw: {}, OutputStream=output_stream)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    return DeviceOutput(sample_rate=RATE, blocksize=8, clock=clock)


def info(started: float, duration: float) -> PlayInfo:
    return PlayInfo(1, Utterance(1, "five", "count", at=started), started, duration, duration)


def test_device_places_a_scaled_clock_deadline_on_the_card_in_real_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wall = Wall()
    clock = ScaledClock(wall)
    out = device(monkeypatch, clock, wall)
    stream: FakeStream = out._stream
    # Ten real seconds into the session the scaled clock is 40 s on: a mapping fixed when the
    # card opened, or one that mixed clock and card seconds, would put the line 30 s away.
    wall.real += 10.0
    pcm = Pcm(np.ones(200, dtype=np.float32), RATE)  # 0.2 real s
    # Due 0.4 clock seconds from now: 0.1 real s, the 100th frame from now on the card.
    out.start(pcm, info(clock.now() + 0.4, 0.8))
    heard = np.flatnonzero(stream.play(60))
    assert len(heard) == 200
    assert heard[0] == 100


def test_device_ends_a_shortened_line_at_its_real_length_on_a_scaled_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wall = Wall()
    clock = ScaledClock(wall)
    out = device(monkeypatch, clock, wall)
    stream: FakeStream = out._stream
    pcm = Pcm(np.ones(200, dtype=np.float32), RATE)  # 0.8 s on the scaled clock
    line = info(clock.now(), 0.8)
    out.start(pcm, line)
    out.end(line, 0.4, interrupted=False)  # half of it, in clock seconds
    assert np.count_nonzero(stream.play(60)) == 100


def test_device_on_the_wall_clock_keeps_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    wall = Wall()

    class Unscaled:
        def now(self) -> float:
            return wall.real + 3.0  # any base: only differences count

    out = device(monkeypatch, Unscaled(), wall)
    stream: FakeStream = out._stream
    wall.real += 5.0
    out.start(Pcm(np.ones(50, dtype=np.float32), RATE), info(Unscaled().now() + 0.25, 0.05))
    assert np.flatnonzero(stream.play(60))[0] == 250
