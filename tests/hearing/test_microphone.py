"""The live microphone adapter against a fake PortAudio: blocks, timestamps, and a microphone
that stops delivering audio or dies, then comes back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from voice.hearing import microphone
from voice.hearing.microphone import MicrophoneSource, NoMicrophone


class FakeStream:
    """Calls back with 10 ms blocks from a thread, like PortAudio, until paused or killed."""

    def __init__(self, owner: FakeDevice, samplerate: int, blocksize: int, callback: Any,
                 **_: Any) -> None:  # fmt: skip
        self.device = owner
        self.rate = samplerate
        self.blocksize = blocksize
        self.callback = callback
        self.active = False
        self.time = 50.0
        self._stop = threading.Event()

    def start(self) -> None:
        if self.device.unplugged:
            raise RuntimeError("Invalid device")
        self.active = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            time.sleep(self.blocksize / self.rate / 4)  # faster than real time: a quick test
            if self.device.unplugged:
                self.active = False  # PortAudio stops a stream whose device vanished
                return
            if self.device.paused:
                continue
            block = np.full(self.blocksize, n % 100, dtype=np.int16)
            info = SimpleNamespace(inputBufferAdcTime=self.time + n * self.blocksize / self.rate)
            self.callback(block.tobytes(), self.blocksize, info, 0)
            n += 1

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self.active = False


class FakeDevice:
    def __init__(self) -> None:
        self.paused = False
        self.unplugged = False
        self.streams: list[FakeStream] = []

    def module(self) -> Any:
        def stream(**kwargs: Any) -> FakeStream:
            s = FakeStream(self, **kwargs)
            self.streams.append(s)
            return s

        return SimpleNamespace(
            query_devices=lambda device=None, kind=None: {
                "name": "fake",
                "default_samplerate": 16000,
            },
            check_input_settings=lambda **_: None,
            RawInputStream=stream,
        )


@pytest.fixture
def device(monkeypatch: pytest.MonkeyPatch) -> FakeDevice:
    fake = FakeDevice()
    monkeypatch.setattr(microphone, "_sounddevice", fake.module)
    return fake


class Recorder:
    def __init__(self) -> None:
        self.changes: list[bool] = []
        self.stamps: list[float] = []

    def on_change(self, present: bool) -> None:
        self.changes.append(present)

    def process(self, pcm: bytes, at: float) -> bytes:
        self.stamps.append(at)
        return pcm

    def close(self) -> None:
        pass


def _drain(source: MicrophoneSource, until: Any, timeout: float = 10.0) -> int:
    """Read chunks on a thread until `until()` holds; the number read."""
    count = [0]

    def read() -> None:
        chunks: Iterator[bytes] = source.chunks()
        for _ in chunks:
            count[0] += 1

    t = threading.Thread(target=read, daemon=True)
    t.start()
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        time.sleep(0.02)
    return count[0]


def test_blocks_flow_with_their_adc_times(device: FakeDevice) -> None:
    rec = Recorder()
    source = MicrophoneSource(echo=rec, block_ms=10)
    try:
        _drain(source, lambda: len(rec.stamps) >= 20)
    finally:
        source.close()
    steps = np.diff(rec.stamps[:20]) / 0.01
    # Stamped by the ADC clock, not by arrival: whole blocks apart (on a loaded machine the
    # fake device, 4x faster than real time, can overrun the queue and a block is dropped).
    assert np.allclose(steps, np.round(steps), atol=1e-4) and steps.min() >= 1 - 1e-4


def test_a_microphone_that_stops_is_reported_lost_then_back(device: FakeDevice) -> None:
    rec = Recorder()
    source = MicrophoneSource(block_ms=10, on_change=rec.on_change, stall_s=0.3)
    try:
        _drain(source, lambda: device.streams and source.present)
        device.paused = True
        deadline = time.monotonic() + 5
        while rec.changes != [False] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rec.changes == [False] and not source.present
        device.paused = False
        while rec.changes != [False, True] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rec.changes == [False, True] and source.present
    finally:
        source.close()


def test_a_stream_that_died_is_reopened_when_the_device_returns(device: FakeDevice) -> None:
    rec = Recorder()
    source = MicrophoneSource(block_ms=10, on_change=rec.on_change, stall_s=0.3)
    try:
        _drain(source, lambda: bool(device.streams))
        device.unplugged = True
        deadline = time.monotonic() + 5
        while rec.changes != [False] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rec.changes == [False]
        time.sleep(1.5)  # reopening fails while it is unplugged ...
        assert source.reopened == 0 and not source.present
        device.unplugged = False  # ... and works once it is back
        deadline = time.monotonic() + 5
        while rec.changes != [False, True] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rec.changes == [False, True]
        assert source.reopened == 1 and device.streams[-1].active
    finally:
        source.close()


def test_no_device_is_one_clear_error(device: FakeDevice) -> None:
    device.unplugged = True
    with pytest.raises(NoMicrophone, match="cannot open the microphone"):
        MicrophoneSource()
