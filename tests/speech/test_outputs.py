"""Output details that need no sound card: sample placement and the print format."""

from __future__ import annotations

import numpy as np

from voice.speech.outputs import fill_block


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
