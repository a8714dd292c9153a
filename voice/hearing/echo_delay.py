"""Find how far the microphone's timestamps are from the speaker's, from the audio itself.

Audio drivers stamp buffers with times that can be off by hundreds of milliseconds (ALSA's
PulseAudio plugin reports its own buffering, not the room's), more than an echo canceller's
filter can absorb. So, as WebRTC does, the delay is measured: the cross-correlation of what the
microphone heard with what the speaker played, whitened (GCC-PHAT) so one sharp peak stands
out even under the person's own voice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voice.hearing.audio_files import SAMPLE_RATE

Span = Callable[[float, int], npt.NDArray[np.int16]]


@dataclass(frozen=True)
class DelaySettings:
    window_s: float = 1.5  # microphone audio compared at once
    every_s: float = 0.5  # how often to measure while the coach plays
    max_delay_s: float = 0.6  # searched both ways
    min_peak: float = 0.08  # PHAT peak height that counts as a measurement
    min_ref_rms: float = 200.0  # int16 RMS: below this the coach is not really playing


AGREE_S = 0.005  # two measurements this close are the same delay


class DelayEstimator:
    """Feed raw microphone audio with its timestamps; `delay` is the offset to add to a
    microphone timestamp to find the same sound on the speaker's timeline."""

    def __init__(self, span: Span, settings: DelaySettings | None = None) -> None:
        self.settings = settings or DelaySettings()
        self._span = span
        self._keep = int(self.settings.window_s * SAMPLE_RATE)
        self._mic = np.zeros(0, dtype=np.int16)
        self._mic_end = 0.0  # timestamp just after the last kept sample
        self._since = 0
        self.delay: float | None = None
        self.peak = 0.0
        self._candidate: float | None = None

    def feed(self, mic: npt.NDArray[np.int16], at: float) -> bool:
        """Keep the audio; measure when it is time. True when `delay` changed."""
        if len(self._mic) and abs(at - self._mic_end) > 0.05:
            self._mic = np.zeros(0, dtype=np.int16)  # a gap in the stream: start over
        self._mic = np.concatenate([self._mic, mic])[-self._keep :]
        self._mic_end = at + len(mic) / SAMPLE_RATE
        self._since += len(mic)
        if len(self._mic) < self._keep or self._since < self.settings.every_s * SAMPLE_RATE:
            return False
        self._since = 0
        return self._measure()

    def _measure(self) -> bool:
        s = self.settings
        start = self._mic_end - len(self._mic) / SAMPLE_RATE
        reach = int(s.max_delay_s * SAMPLE_RATE)
        ref = self._span(start - s.max_delay_s, len(self._mic) + 2 * reach)
        if np.sqrt(np.mean(ref.astype(np.float64) ** 2)) < s.min_ref_rms:
            return False
        lag, peak = gcc_phat(self._mic, ref, reach)
        if peak < s.min_peak or abs(lag) >= reach:
            return False  # no clear peak, or one at the edge of the search: not a delay
        delay = lag / SAMPLE_RATE
        # Each change resets the echo filter, which then needs seconds to learn the room
        # again: a new delay is believed only when the next measurement agrees with it
        # (one stray peak, -600 ms between two of +17 ms, was seen in the audio room).
        candidate, self._candidate = self._candidate, delay
        if candidate is None or abs(delay - candidate) > AGREE_S:
            return False
        self.peak = peak
        changed = self.delay is None or abs(delay - self.delay) > AGREE_S
        if changed:
            self.delay = delay
        return changed


def gcc_phat(
    mic: npt.NDArray[np.int16], ref: npt.NDArray[np.int16], reach: int
) -> tuple[int, float]:
    """Lag in samples (-reach..reach) at which `mic` best matches `ref`, and the peak height.

    `ref` covers `reach` samples more than `mic` on both sides; lag 0 means the two are
    aligned as given, a positive lag that the sound is later on `ref`'s timeline.
    """
    n = 1 << int(np.ceil(np.log2(len(mic) + len(ref))))
    a = np.fft.rfft(mic.astype(np.float64), n)
    b = np.fft.rfft(ref.astype(np.float64), n)
    cross = b * np.conj(a)
    cross /= np.abs(cross) + 1e-9
    corr = np.fft.irfft(cross, n)
    # corr[k]: ref shifted by k against mic; k = reach is "aligned as given".
    window = corr[: 2 * reach + 1]
    k = int(np.argmax(window))
    return k - reach, float(window[k])
