"""Clocks for real runs. Fakes for tests live in voice.fakes."""

from __future__ import annotations

import time


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


class ScaledClock:
    """Runs `scale` times faster than the wall clock, for demos (`--time-scale`)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._origin = time.monotonic()

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._origin) * self.scale

    def real_seconds(self, clock_seconds: float) -> float:
        return clock_seconds / self.scale
