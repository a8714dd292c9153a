"""An AudioSource that delivers a recording at the pace of a live microphone.

Block i (30 ms, like the microphone source) is handed over when its last sample would have
been captured: `t0 + (i + 1) * block`. So "end of speech at stream position p" happened at
wall time `t0 + p`, and any delay after that is the listener's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from voice.hearing.audio_files import SAMPLE_RATE, Pcm, chunked


class PacedSource:
    def __init__(
        self,
        pcm: Pcm,
        block_ms: int = 30,
        on_position: Callable[[float], None] | None = None,
    ) -> None:
        self._pcm = pcm
        self._block_ms = block_ms
        self._closed = threading.Event()
        self._on_position = on_position
        self.t0: float | None = None

    @property
    def duration(self) -> float:
        return len(self._pcm) / SAMPLE_RATE

    def chunks(self) -> Iterator[bytes]:
        block = self._block_ms / 1000.0
        self.t0 = time.monotonic()
        for i, chunk in enumerate(chunked(self._pcm, self._block_ms)):
            due = self.t0 + (i + 1) * block
            delay = due - time.monotonic()
            if delay > 0:
                if self._closed.wait(delay):
                    return
            elif self._closed.is_set():
                return
            if self._on_position is not None:
                self._on_position(i * block)
            yield chunk

    def close(self) -> None:
        self._closed.set()
