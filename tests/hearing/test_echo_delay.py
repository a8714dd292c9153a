"""The speaker/microphone offset is measured from the audio, and believed only when it holds."""

from __future__ import annotations

import numpy as np
import pytest

from voice.hearing import echo_delay
from voice.hearing.audio_files import SAMPLE_RATE
from voice.hearing.echo_delay import DelayEstimator

T0 = 500.0


def _speaker(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(7)
    # Speech-like: noise bursts with gaps, so the cross-correlation has structure.
    noise = rng.normal(0, 3000, int(seconds * SAMPLE_RATE))
    gate = (np.sin(np.arange(len(noise)) / SAMPLE_RATE * 2 * np.pi * 3) > -0.3).astype(float)
    pcm: np.ndarray = np.clip(noise * gate, -32767, 32767).astype(np.int16)
    return pcm


def _feed(est: DelayEstimator, mic: np.ndarray, block: int = 480) -> list[float | None]:
    seen = []
    for i in range(0, len(mic) - block + 1, block):
        if est.feed(mic[i : i + block], T0 + i / SAMPLE_RATE):
            seen.append(est.delay)
    return seen


def test_the_room_delay_is_found_from_the_audio() -> None:
    played = _speaker(6.0)

    def span(start: float, n: int) -> np.ndarray:
        first = int(round((start - T0) * SAMPLE_RATE))
        out = np.zeros(n, np.int16)
        lo, hi = max(first, 0), min(first + n, len(played))
        if hi > lo:
            out[lo - first : hi - first] = played[lo:hi]
        return out

    lag = int(0.12 * SAMPLE_RATE)  # the microphone hears the speaker 120 ms late
    mic = np.zeros_like(played)
    mic[lag:] = (played[: len(played) - lag] * 0.5).astype(np.int16)
    est = DelayEstimator(span)
    changes = _feed(est, mic)
    assert changes and est.delay == pytest.approx(-0.12, abs=0.002)
    assert len(changes) == 1  # found once, then confirmed without resetting anything


def test_one_stray_measurement_does_not_move_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    reach = int(0.6 * SAMPLE_RATE)
    script = iter([(272, 0.5), (272, 0.4), (-9600, 0.3), (272, 0.5), (-reach, 0.9), (800, 0.4)])
    monkeypatch.setattr(echo_delay, "gcc_phat", lambda mic, ref, r: next(script))
    loud = lambda start, n: np.full(n, 1000, np.int16)  # noqa: E731 - the coach is playing
    est = DelayEstimator(loud)
    changes = _feed(est, np.zeros(int(4.5 * SAMPLE_RATE), np.int16))
    # 17 ms measured twice; a stray -600 ms once; a peak at the edge of the search; then a
    # new delay measured once: only the first, confirmed one counts.
    assert changes == [pytest.approx(0.017)]
    assert est.delay == pytest.approx(0.017)
