"""The front end before the decoder: RNNoise and WebRTC suppression, streaming."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np
import pytest

from voice.hearing import frontend as frontend_module
from voice.hearing import rnnoise
from voice.hearing.audio_files import SAMPLE_RATE, Pcm
from voice.hearing.frontend import Frontend, FrontendSettings

# find_spec, not importorskip: importing pyrnnoise is exactly what the adapter avoids.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyrnnoise") is None, reason="pyrnnoise has no wheel here"
)


def _db(x: Pcm) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))


def _stream(stage: Frontend | rnnoise.RNNoise, pcm: Pcm, chunk: int = 480) -> Pcm:
    """Feed like a microphone, in 30 ms chunks, and collect what comes out."""
    out = b"".join(stage.process(pcm[i : i + chunk].tobytes()) for i in range(0, len(pcm), chunk))
    return np.frombuffer(out, dtype="<i2")


def silence_s(seconds: float) -> Pcm:
    return np.zeros(int(SAMPLE_RATE * seconds), dtype=np.int16)


def _noise(seconds: float, level: float = 2000.0, seed: int = 7) -> Pcm:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(SAMPLE_RATE * seconds)) * level).astype(np.int16)


def test_library_is_found_without_importing_the_package() -> None:
    import sys

    assert rnnoise.library_path().is_file()
    assert "pyrnnoise" not in sys.modules  # it would import matplotlib and PyAV


def test_rnnoise_removes_steady_noise() -> None:
    noise = _noise(3.0)
    cleaned = _stream(rnnoise.RNNoise(keep=0.0), noise)
    # Judge after the network has had a second to settle.
    assert _db(cleaned[SAMPLE_RATE:]) < _db(noise[SAMPLE_RATE:]) - 20


def test_rnnoise_takes_away_no_more_than_what_it_keeps_allows() -> None:
    noise = _noise(3.0)
    cleaned = _stream(rnnoise.RNNoise(keep=0.3), noise)
    limit = 20 * np.log10(0.3)  # -10.5 dB: the kept share of the noise alone
    reduction = _db(cleaned[SAMPLE_RATE:]) - _db(noise[SAMPLE_RATE:])
    assert limit - 0.5 < reduction < limit + 3


def test_rnnoise_keeps_speech(flite: Callable[..., Pcm]) -> None:
    speech = np.concatenate([flite("pause the session"), _noise(1.0, level=30.0)])
    always = rnnoise.RNNoise(floor_db=-200.0, keep=0.0)  # the network alone, always on
    cleaned = _stream(always, speech)
    assert always.active
    assert abs(_db(cleaned) - _db(speech[: len(cleaned)])) < 3


def _lag(a: Pcm, b: Pcm) -> int:
    """Samples by which `b` lags `a` (best match within 50 ms)."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    n = min(len(x), len(y)) - 800
    return max(range(0, 800), key=lambda d: float(np.dot(x[:n], y[d : d + n])))


def test_quiet_room_passes_audio_through_with_the_networks_lag(
    flite: Callable[..., Pcm],
) -> None:
    speech = np.concatenate([silence_s(0.3), flite("pause the session"), silence_s(0.5)])
    quiet = rnnoise.RNNoise()
    passed = _stream(quiet, speech)
    assert not quiet.active
    cleaned = _stream(rnnoise.RNNoise(floor_db=-200.0), speech)
    assert _lag(speech, passed) == _lag(speech, cleaned) == rnnoise.RNNOISE_LAG
    start = rnnoise.RNNOISE_LAG
    gain = passed[start:].astype(np.float64) / np.maximum(1, np.abs(speech[: len(passed) - start]))
    assert np.median(np.abs(gain[np.abs(speech[: len(gain)]) > 1000])) == pytest.approx(1, abs=0.05)


def test_the_network_starts_with_noise_and_stops_when_the_room_is_quiet_again() -> None:
    denoiser = rnnoise.RNNoise()
    _stream(denoiser, _noise(3.0, level=2000.0))  # -24 dBFS: a loud kitchen
    assert denoiser.active
    _stream(denoiser, _noise(0.2, level=10.0))  # -70 dBFS, under 10% of the last 3 s
    assert denoiser.active
    _stream(denoiser, _noise(0.3, level=10.0))
    assert not denoiser.active


def test_rnnoise_output_lags_input_by_a_little() -> None:
    pcm = _noise(2.0)
    out = _stream(rnnoise.RNNoise(), pcm)
    held_back_ms = (len(pcm) - len(out)) / SAMPLE_RATE * 1000
    assert 0 <= held_back_ms <= 40


def test_frontend_runs_rnnoise_then_webrtc() -> None:
    front = Frontend(FrontendSettings(rnnoise=True, noise_suppression=1, rnnoise_keep=0.0))
    assert front.active
    noise = _noise(3.0)
    out = _stream(front, noise)
    assert _db(out[SAMPLE_RATE:]) < _db(noise[SAMPLE_RATE:]) - 20
    assert len(out) % 160 == 0  # WebRTC hands back whole 10 ms frames


def test_frontend_without_any_stage_passes_audio_through() -> None:
    front = Frontend(FrontendSettings(rnnoise=False, noise_suppression=0))
    assert not front.active
    pcm = _noise(0.5)
    assert np.array_equal(_stream(front, pcm), pcm)


def test_missing_rnnoise_warns_once_and_passes_through(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing(*_: object) -> None:
        raise rnnoise.RNNoiseUnavailable("pyrnnoise is not installed")

    monkeypatch.setattr(frontend_module, "RNNoise", missing)
    monkeypatch.setattr(frontend_module, "_RNNOISE_WARNED", False)
    settings = FrontendSettings(rnnoise=True, noise_suppression=0)
    fronts = [Frontend(settings), Frontend(settings)]
    assert not fronts[0].active
    assert [r.getMessage() for r in caplog.records].count(
        "pyrnnoise is not installed; RNNoise is off"
    ) == 1
    pcm = _noise(0.2)
    assert np.array_equal(_stream(fronts[1], pcm), pcm)


def test_reset_forgets_the_network_state() -> None:
    front = Frontend(FrontendSettings(rnnoise=True, noise_suppression=0))
    pcm = _noise(1.0)
    first = _stream(front, pcm)
    front.reset()
    assert np.array_equal(_stream(front, pcm), first)


def test_the_detector_hears_the_network_alone_and_the_decoder_what_it_keeps() -> None:
    front = Frontend(FrontendSettings(noise_suppression=0, rnnoise_keep=0.3))
    noise = _noise(3.0)
    pairs = [front.process_pair(noise[i : i + 480].tobytes()) for i in range(0, len(noise), 480)]
    decoder = np.frombuffer(b"".join(p[0] for p in pairs), dtype="<i2")
    detect = np.frombuffer(b"".join(p[1] for p in pairs), dtype="<i2")
    assert len(decoder) == len(detect)
    before = _db(noise[SAMPLE_RATE:])
    assert _db(detect[SAMPLE_RATE:]) < before - 20  # nothing kept: the VAD is not held open
    assert _db(decoder[SAMPLE_RATE:]) > before - 12  # 0.3 of the input kept: about -10.5 dB
