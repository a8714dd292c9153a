"""Echo cancellation: the coach's own voice taken out of the microphone, the person's kept.

The echo here is made the way a room makes it: the coach's speech, delayed and quieter, plus
the person's voice, with timestamps that are off by more than the filter's tail (as ALSA's
PulseAudio plugin reports them). The canceller must find the offset and remove the echo.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import soxr

from voice.hearing.audio_files import SAMPLE_RATE, Pcm
from voice.hearing.echo import EchoReference, EchoUnavailable, SpeexCanceller, Timeline
from voice.hearing.echo_delay import gcc_phat

T0 = 1000.0
OUT_RATE = 22050
OUT_BLOCK = 256
MIC_BLOCK = 480


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))


def _float(pcm: Pcm) -> np.ndarray:
    return np.asarray(pcm, dtype=np.float32) / 32768.0  # 16 kHz int16


def _room(
    coach: np.ndarray, person: np.ndarray, person_at_s: float, delay_s: float
) -> tuple[list[tuple[float, np.ndarray]], np.ndarray]:
    """The speaker's blocks (stamp, samples at 22.05 kHz) and what the microphone hears."""
    played = np.concatenate([np.zeros(OUT_RATE // 2, np.float32), coach])
    played = np.concatenate([played, np.zeros(OUT_RATE, np.float32)])
    blocks = [
        (T0 + i / OUT_RATE, played[i : i + OUT_BLOCK])
        for i in range(0, len(played) - OUT_BLOCK, OUT_BLOCK)
    ]
    echo = soxr.resample(played, OUT_RATE, SAMPLE_RATE).astype(np.float32) * 0.5
    lag = int(delay_s * SAMPLE_RATE)
    mic = np.zeros(len(echo), np.float32)
    mic[lag:] = echo[: len(echo) - lag]
    if len(person):
        at = int(person_at_s * SAMPLE_RATE)
        mic[at : at + len(person)] += 0.5 * person[: len(mic) - at]
    mic += np.random.default_rng(1).normal(0.0, 0.001, len(mic)).astype(np.float32)
    return blocks, (np.clip(mic, -1, 1) * 32767).astype(np.int16)


def _cancel(
    blocks: list[tuple[float, np.ndarray]],
    mic: np.ndarray,
    keep: list[SpeexCanceller] | None = None,
) -> tuple[np.ndarray, float]:
    """Run the canceller as the runtime does: speaker blocks arrive before the mic hears them."""
    reference = EchoReference()
    try:
        canceller = SpeexCanceller(reference)
    except EchoUnavailable as exc:
        pytest.skip(str(exc))
    out: list[bytes] = []
    b = 0
    for i in range(0, len(mic), MIC_BLOCK):
        now = T0 + i / SAMPLE_RATE
        while b < len(blocks) and blocks[b][0] < now + 0.3:
            reference.played(blocks[b][0], blocks[b][1], OUT_RATE)
            b += 1
        # Stamps jitter from block to block, as drivers' do.
        jitter = 0.01 * np.sin(i)
        out.append(canceller.process(mic[i : i + MIC_BLOCK].tobytes(), now + jitter))
    reduction = canceller.reduction_db
    if keep is not None:
        keep.append(canceller)
        return np.frombuffer(b"".join(out), dtype=np.int16), reduction or 0.0
    canceller.close()
    assert reduction is not None
    return np.frombuffer(b"".join(out), dtype=np.int16), reduction


@pytest.fixture
def coach_line(espeak: Callable[..., Pcm]) -> np.ndarray:
    pcm = espeak(
        "Twenty. Nineteen. Eighteen. Keep breathing, you are halfway. Seventeen. Sixteen. "
        "Fifteen. Say pause, repeat, how long, next or stop. Fourteen. Thirteen. Twelve."
    )
    line: np.ndarray = soxr.resample(_float(pcm), SAMPLE_RATE, OUT_RATE).astype(np.float32)
    return line


@pytest.mark.parametrize("delay_s", [0.0, 0.12, -0.2, 0.35])
def test_the_coach_alone_is_cancelled_whatever_the_stamp_offset(
    coach_line: np.ndarray, delay_s: float
) -> None:
    blocks, mic = _room(coach_line, np.zeros(0, np.float32), 0.0, max(delay_s, 0.0))
    if delay_s < 0:  # the microphone's stamps run late: the echo looks early
        blocks = [(t - delay_s, s) for t, s in blocks]
    out, _ = _cancel(blocks, mic)
    n = min(len(out), len(mic))
    tail = slice(n // 2, n)  # once the filter has converged
    assert _db(mic[tail]) - _db(out[tail]) >= 15.0


def test_the_person_talking_over_the_coach_is_kept(
    coach_line: np.ndarray, espeak: Callable[..., Pcm]
) -> None:
    voice = espeak("pause", "en-gb")
    person = _float(voice)
    at_s = 0.5 + 0.75 * len(coach_line) / OUT_RATE
    blocks, mic = _room(coach_line, person, at_s, 0.05)
    out, _ = _cancel(blocks, mic)
    words = slice(int(at_s * SAMPLE_RATE), int(at_s * SAMPLE_RATE) + len(person))
    alone = (np.clip(0.5 * person, -1, 1) * 32767).astype(np.int16)
    # Before: the coach's echo is as loud as the person; after: the person is what is left.
    assert abs(_db(out[words]) - _db(alone)) <= 3.0


def test_after_the_persons_word_the_coachs_residual_is_silenced(
    coach_line: np.ndarray, espeak: Callable[..., Pcm]
) -> None:
    """What the canceller leaves of the coach after a word said over it would otherwise be
    one more word to the endpointer (in the room: "pause" + leak was heard as "close that")."""
    voice = espeak("pause", "en-gb")
    person = _float(voice)
    at_s = 0.5 + 0.7 * len(coach_line) / OUT_RATE
    blocks, mic = _room(coach_line, person, at_s, 0.05)
    out, _ = _cancel(blocks, mic)
    start = int(at_s * SAMPLE_RATE)
    end = start + len(person)
    after = slice(end + int(0.25 * SAMPLE_RATE), end + int(1.0 * SAMPLE_RATE))
    assert _db(mic[after]) > 50.0  # the coach is still talking there
    frames = range(after.start, after.stop, 160)
    loud = [i for i in frames if _db(mic[i : i + 160]) > 50.0]  # the coach's words there
    silenced = [i for i in loud if not np.any(out[i : i + 160])]
    assert len(loud) > 20 and len(silenced) >= 0.9 * len(loud), (len(silenced), len(loud))
    alone = (np.clip(0.5 * person, -1, 1) * 32767).astype(np.int16)
    assert abs(_db(out[start:end]) - _db(alone)) <= 3.0


def test_the_canceller_says_when_it_has_learned_the_room(coach_line: np.ndarray) -> None:
    blocks, mic = _room(coach_line, np.zeros(0, np.float32), 0.0, 0.05)
    kept: list[SpeexCanceller] = []
    _cancel(blocks, mic, kept)
    canceller = kept[0]
    canceller.close()
    settle = canceller.settings.settle_s
    assert not canceller.settled(0.5 + 0.5 * settle)  # the line starts at 0.5 s
    assert canceller.settled(len(mic) / SAMPLE_RATE - 0.1)


def test_echo_share_tells_the_coach_from_the_person(
    coach_line: np.ndarray, espeak: Callable[..., Pcm]
) -> None:
    person = _float(espeak("ouch that hurts", "en-gb"))
    at_s = 0.5 + 0.6 * len(coach_line) / OUT_RATE
    blocks, mic = _room(coach_line, person, at_s, 0.05)
    kept: list[SpeexCanceller] = []
    _cancel(blocks, mic, kept)
    canceller = kept[0]
    said = canceller.echo_share(at_s, at_s + len(person) / SAMPLE_RATE)
    coach_only = [canceller.echo_share(t, t + 1.0) for t in (at_s - 3.0, at_s - 1.5)]
    end = 0.5 + len(coach_line) / OUT_RATE
    after = canceller.echo_share(end + 0.1, end + 0.9)
    canceller.close()
    assert said is not None and said < 0.15
    assert all(share is not None and share > 0.25 for share in coach_only), coach_only
    assert after is None  # the coach is silent: nothing can be its echo


def test_the_person_passes_the_canceller_and_the_coach_does_not(
    coach_line: np.ndarray, espeak: Callable[..., Pcm]
) -> None:
    person = _float(espeak("pause", "en-gb"))
    at_s = 0.5 + 0.7 * len(coach_line) / OUT_RATE
    blocks, mic = _room(coach_line, person, at_s, 0.05)
    kept: list[SpeexCanceller] = []
    _cancel(blocks, mic, kept)
    canceller = kept[0]
    # A result's span runs on past the words into the coach's voice, as an endpointer's does.
    said = canceller.passed(at_s - 0.2, at_s + len(person) / SAMPLE_RATE + 0.5)
    coach_only = [canceller.passed(t, t + 1.0) for t in (at_s - 3.0, at_s - 1.5)]
    end = 0.5 + len(coach_line) / OUT_RATE
    after = canceller.passed(end + 0.2, end + 0.9)
    canceller.close()
    assert said is not None and said > 0.2, said
    assert all(p is not None and p < 0.05 for p in coach_only), coach_only
    assert after is None


def test_gcc_phat_finds_the_lag_under_a_second_voice() -> None:
    rng = np.random.default_rng(3)
    ref = (rng.normal(0, 3000, 40_000)).astype(np.int16)
    reach = 8000
    mic = np.roll(ref, 1234)[reach : reach + 24_000] // 2
    mic = (mic + rng.normal(0, 1500, len(mic))).astype(np.int16)
    lag, peak = gcc_phat(mic, ref[: len(mic) + 2 * reach], reach)
    assert lag == -1234 and peak > 0.1


def test_timeline_ignores_jitter_and_follows_real_stalls() -> None:
    t = Timeline(tolerance_s=0.03, jump_s=0.25)
    assert t.place(10.0, 0.01) == (10.0, 0.0)
    assert t.place(10.025, 0.01) == (10.01, 0.0)  # jitter: the count wins
    start, shift = t.place(10.02, 0.01)
    assert (round(start, 6), shift) == (10.02, 0.0)
    start, shift = t.place(10.08, 0.01)  # 50 ms late: maybe jitter ...
    assert round(start, 6) == 10.03 and shift == 0.0
    start, shift = t.place(10.09, 0.01)  # ... and again: a stall
    assert round(start, 6) == 10.09 and round(shift, 6) == 0.05
    start, shift = t.place(12.0, 0.01)  # a jump is believed at once
    assert start == 12.0 and round(shift, 6) == 1.9


def test_reference_fills_a_stall_with_silence_and_keeps_times() -> None:
    ref = EchoReference()
    one = np.full(160, 0.5, np.float32)
    ref.played(5.0, one, SAMPLE_RATE)
    ref.played(5.01, one, SAMPLE_RATE)
    ref.played(5.5, one, SAMPLE_RATE)  # the device stalled for 480 ms
    span = ref.span(5.0, int(0.52 * SAMPLE_RATE))
    assert np.all(span[:320] > 0)
    assert not np.any(span[400:7900])
    assert np.all(span[8000:8160] > 0)
    assert not np.any(ref.span(100.0, 160))  # unknown times are silence
