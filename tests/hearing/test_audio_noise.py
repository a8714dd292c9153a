"""Audio input (files, stdin) and benchmark-style noise mixing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voice.hearing.audio_files import AudioError, FileAudioSource, read_audio, read_raw
from voice.hearing.endpoint import Endpointer, EndpointSettings, speech_span
from voice.hearing.noise import max_frame_energy, mix, rng_for


def tone(seconds: float, rate: int = 16000, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.3 * np.sin(2 * np.pi * freq * t)


def test_wav_and_flac_are_resampled_to_16k_mono(tmp_path: Path) -> None:
    stereo = np.stack([tone(1.0, 44100), tone(1.0, 44100)], axis=1)
    soundfile.write(tmp_path / "a.wav", stereo, 44100)
    soundfile.write(tmp_path / "b.flac", tone(0.5, 22050), 22050)
    a = read_audio(tmp_path / "a.wav")
    b = read_audio(tmp_path / "b.flac")
    assert a.dtype == np.int16 and abs(len(a) - 16000) <= 2
    assert abs(len(b) - 8000) <= 2
    assert 0.25 * 32767 < np.abs(a).max() < 0.35 * 32767


def test_non_audio_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not audio at all")
    with pytest.raises(AudioError) as err:
        read_audio(bad)
    assert "notes.txt" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(AudioError, match="no such file"):
        read_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="directory"):
        read_audio(tmp_path)


def test_raw_pcm() -> None:
    samples = np.array([0, 1000, -1000, 32767], dtype="<i2")
    assert read_raw(io.BytesIO(samples.tobytes() + b"\x01")).tolist() == samples.tolist()


def test_file_source_chunks(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "a.wav", tone(1.0), 16000)
    src = FileAudioSource(tmp_path / "a.wav", chunk_ms=100, trailing_silence_s=0.5)
    chunks = list(src.chunks())
    assert len(chunks) == 15 and all(len(c) == 3200 for c in chunks)


def test_mix_hits_the_target_snr_by_max_frame_energy() -> None:
    rng = np.random.default_rng(0)
    speech = (tone(2.0) * 32767).astype(np.int16)
    noise = (rng.normal(0, 0.1, 16000 * 10) * 32767).astype(np.int16)
    for snr in (24.0, 6.0):
        mixed = mix(speech, noise, snr, rng_for(1, snr, "x")).astype(np.float64)
        assert abs(np.abs(mixed).max() - 0.5 * 32767) < 2  # peak-normalised to half scale
        # Recover the noise part by removing the (scaled) speech and check the ratio.
        s = speech.astype(np.float64)
        gain = float(np.dot(mixed, s) / np.dot(s, s))
        n = mixed - gain * s
        measured = 10 * np.log10(max_frame_energy(gain * s) / max_frame_energy(n))
        assert abs(measured - snr) < 0.5


def test_mix_is_reproducible_per_file_and_snr() -> None:
    speech = (tone(1.0) * 32767).astype(np.int16)
    noise = (np.random.default_rng(3).normal(0, 0.1, 16000 * 5) * 32767).astype(np.int16)
    a = mix(speech, noise, 12, rng_for(7, 12, "f.flac"))
    b = mix(speech, noise, 12, rng_for(7, 12, "f.flac"))
    c = mix(speech, noise, 12, rng_for(7, 12, "g.flac"))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def fake_vad(frame: bytes) -> bool:
    return bool(np.abs(np.frombuffer(frame, dtype="<i2")).max() > 1000)


def test_endpointer_trailing_silence() -> None:
    loud = (tone(1.0) * 32767).astype("<i2").tobytes()
    quiet = bytes(16000 * 2)  # 1 s of 16-bit samples
    ep = Endpointer(EndpointSettings(trailing_silence_s=0.5), vad=fake_vad)
    events = [e for chunk in (quiet, loud, quiet[:16000], quiet) for e in ep.feed(chunk)]
    kinds = [e.kind for e in events if e.kind != "audio"]
    assert kinds == ["start", "end"]
    start = next(e for e in events if e.kind == "start")
    end = next(e for e in events if e.kind == "end")
    assert 0.6 < start.time < 1.0  # detection minus the pre-roll
    assert 1.9 < end.time < 2.1  # where the tone stopped, not where silence ran out


def test_speech_span_keeps_inner_pauses_together() -> None:
    loud = (tone(0.5) * 32767).astype(np.int16)
    gap = np.zeros(16000, dtype=np.int16)  # 1 s: two utterances when streaming
    pcm = np.concatenate([gap, loud, gap, loud, gap])
    span = speech_span(pcm, EndpointSettings(), vad=fake_vad)
    assert span is not None
    begin, end = span
    assert 0.6 * 16000 < begin < 1.0 * 16000 and 3.0 * 16000 < end < 3.6 * 16000
