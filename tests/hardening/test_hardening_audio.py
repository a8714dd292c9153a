"""Bad audio for `transcribe` (issue 9, part 2): every format is resampled correctly to
16 kHz mono or refused with one clear line and a non-zero exit; never a traceback; an
hours-long file is refused or read in bounded memory."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from tests.hardening.helpers import ROOT, cli_child, describe
from voice.hearing.audio_files import SAMPLE_RATE, AudioError, read_audio


def tone(rate: int, seconds: float = 1.0, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(pcm: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(pcm))


# -- formats that must be read correctly -------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 44100, 48000, 96000])
def test_any_rate_is_resampled_to_16k_keeping_pitch_and_length(rate: int, tmp_path: Path) -> None:
    path = tmp_path / f"tone{rate}.wav"
    sf.write(path, tone(rate), rate, subtype="PCM_16")
    pcm = read_audio(path)
    assert pcm.dtype == np.int16 and pcm.ndim == 1
    assert abs(len(pcm) - SAMPLE_RATE) <= 2  # one second stays one second
    assert abs(dominant_hz(pcm) - 440.0) < 2.0
    assert 0.45 * 32767 < np.abs(pcm).max() < 0.55 * 32767  # level kept


@pytest.mark.parametrize(
    "subtype, scale",
    [("PCM_U8", 0.5), ("PCM_S8", 0.5), ("PCM_16", 0.5), ("PCM_24", 0.5), ("PCM_32", 0.5),
     ("FLOAT", 0.5), ("DOUBLE", 0.5), ("ULAW", 0.5), ("ALAW", 0.5)],
)  # fmt: skip
def test_sample_formats_are_scaled_to_int16(subtype: str, scale: float, tmp_path: Path) -> None:
    fmt = "AIFF" if subtype == "PCM_S8" else "WAV"
    path = tmp_path / f"tone-{subtype}.{fmt.lower()}"
    sf.write(path, tone(16000), 16000, subtype=subtype, format=fmt)
    pcm = read_audio(path)
    peak = np.abs(pcm).max() / 32767
    assert abs(peak - scale) < 0.03, (subtype, peak)
    assert abs(dominant_hz(pcm) - 440.0) < 2.0


@pytest.mark.parametrize("channels", [2, 6])
def test_multichannel_is_mixed_down(channels: int, tmp_path: Path) -> None:
    mono = tone(44100)
    data = np.stack([mono] * channels, axis=1)
    path = tmp_path / "multi.wav"
    sf.write(path, data, 44100, subtype="PCM_16")
    pcm = read_audio(path)
    assert pcm.ndim == 1 and abs(len(pcm) - SAMPLE_RATE) <= 2
    assert abs(dominant_hz(pcm) - 440.0) < 2.0


def test_flac_and_ogg_are_read(tmp_path: Path) -> None:
    for ext, fmt in (("flac", "FLAC"), ("ogg", "OGG")):
        path = tmp_path / f"tone.{ext}"
        sf.write(path, tone(48000), 48000, format=fmt)
        pcm = read_audio(path)
        assert abs(len(pcm) - SAMPLE_RATE) <= 400, ext  # ogg pads a little
        assert abs(dominant_hz(pcm) - 440.0) < 3.0, ext


def test_out_of_range_float_is_clipped_not_wrapped(tmp_path: Path) -> None:
    path = tmp_path / "loud.wav"
    sf.write(path, tone(16000) * 50, 16000, subtype="FLOAT")
    pcm = read_audio(path)
    assert pcm.max() == 32767 and pcm.min() in (-32767, -32768)
    assert (np.abs(pcm.astype(np.int32)) >= 32767).mean() > 0.9  # saturated, not wrapped


def test_nan_samples_become_silence(tmp_path: Path) -> None:
    data = tone(16000)
    data[100:200] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, data, 16000, subtype="FLOAT")
    with np.errstate(invalid="raise"):
        pcm = read_audio(path)
    assert (pcm[100:200] == 0).all()


def test_nan_and_inf_before_resampling_do_not_spread(tmp_path: Path) -> None:
    data = tone(48000)
    data[24000:24300] = np.nan
    data[30000] = np.inf
    data[36000] = -np.inf
    path = tmp_path / "nan48k.wav"
    sf.write(path, data, 48000, subtype="FLOAT")
    with np.errstate(invalid="raise"):
        pcm = read_audio(path)
    # The resampler's filter would smear a NaN over its whole length; as silence it cannot.
    assert abs(len(pcm) - SAMPLE_RATE) <= 2
    assert np.abs(pcm[8020:8080]).max() < 200  # the NaN stretch is silent (edges ring)
    assert np.abs(pcm[:7900]).max() > 0.45 * 32767  # the tone around it is untouched
    assert np.abs(pcm[12100:]).max() < 0.55 * 32767  # the infinities did not saturate it


# -- a real utterance, at other rates and channel counts ------------------------------------


@pytest.fixture(scope="module")
def utterance(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, int]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed")
    out = tmp_path_factory.mktemp("espeak") / "utt.wav"
    subprocess.run([exe, "-v", "en-us+m3", "-s", "140", "-w", str(out),
                    "start the quick routine"], check=True, capture_output=True, timeout=60)  # fmt: skip
    data, rate = sf.read(out, dtype="float32")
    return data, int(rate)


VARIANTS: dict[str, Callable[[np.ndarray, int, Path], Path]] = {}


def variant(
    name: str,
) -> Callable[[Callable[[np.ndarray, int, Path], Path]], Callable[[np.ndarray, int, Path], Path]]:
    def register(
        fn: Callable[[np.ndarray, int, Path], Path],
    ) -> Callable[[np.ndarray, int, Path], Path]:
        VARIANTS[name] = fn
        return fn

    return register


def _at(
    rate: int, subtype: str = "PCM_16", channels: int = 1
) -> Callable[[np.ndarray, int, Path], Path]:
    def make(data: np.ndarray, src: int, d: Path) -> Path:
        y = soxr.resample(data, src, rate).astype(np.float32)
        if channels > 1:
            y = np.stack([y] * channels, axis=1)
        path = d / f"utt-{rate}-{subtype}-{channels}.wav"
        sf.write(path, y, rate, subtype=subtype)
        return path

    return make


for _name, _fn in {
    "44k1": _at(44100), "48k": _at(48000), "8k": _at(8000), "stereo-48k": _at(48000, channels=2),
    "u8": _at(16000, "PCM_U8"), "s24": _at(22050, "PCM_24"), "float": _at(16000, "FLOAT"),
}.items():  # fmt: skip
    variant(_name)(_fn)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_real_utterance_survives_other_rates_and_channels(
    name: str, utterance: tuple[np.ndarray, int], tmp_path: Path
) -> None:
    data, src = utterance
    reference = read_audio(_at(16000)(data, src, tmp_path)).astype(np.float64)
    got = read_audio(VARIANTS[name](data, src, tmp_path)).astype(np.float64)
    assert abs(len(got) - len(reference)) <= 2
    n = min(len(got), len(reference))
    corr = np.corrcoef(got[:n], reference[:n])[0, 1]
    # 8 kHz keeps only the band below 4 kHz and 8-bit adds quantisation noise; the rest match.
    floor = {"8k": 0.8, "u8": 0.95}.get(name, 0.99)
    assert corr > floor, (name, corr)


@pytest.mark.slow
def test_real_utterance_decodes_the_same_at_other_rates(
    utterance: tuple[np.ndarray, int], tmp_path: Path
) -> None:
    data, src = utterance
    files = [
        _at(r, channels=c)(data, src, tmp_path) for r, c in ((16000, 1), (44100, 1), (48000, 2))
    ]
    out = cli_child(["transcribe", *map(str, files)], timeout=300)
    assert out.clean and out.code == 0, describe(out)
    import json

    texts = [json.loads(line)["text"] for line in out.stdout.splitlines()]
    assert len(texts) == 3 and texts[1] == texts[0] and texts[2] == texts[0], texts


# -- things that are not (usable) audio -----------------------------------------------------


def _bad_files(d: Path) -> dict[str, Path]:
    good = d / "good.wav"
    sf.write(good, tone(16000), 16000, subtype="PCM_16")
    raw = good.read_bytes()
    files = {
        "empty": d / "empty.wav",
        "zero_length": d / "zero.wav",
        "header_only": d / "header.wav",
        "text_named_wav": d / "notes.wav",
        "random_bytes": d / "noise.flac",
        "directory": d / "a_dir.wav",
        "missing": d / "missing.wav",
        "riff_garbage": d / "riff.wav",
    }
    files["empty"].write_bytes(b"")
    sf.write(files["zero_length"], np.zeros(0, dtype=np.int16), 16000, subtype="PCM_16")
    files["header_only"].write_bytes(raw[:30])
    files["text_named_wav"].write_text("this is not audio\n", encoding="utf-8")
    files["random_bytes"].write_bytes(np.random.default_rng(1).bytes(5000))
    files["directory"].mkdir()
    files["riff_garbage"].write_bytes(b"RIFF\xff\xff\xff\x7fWAVEfmt " + b"\x00" * 40)
    return files


def test_unreadable_inputs_raise_one_line_audio_errors(tmp_path: Path) -> None:
    for name, path in _bad_files(tmp_path).items():
        with pytest.raises(AudioError) as info:
            read_audio(path)
        message = str(info.value)
        assert "\n" not in message and str(path) in message, (name, message)


def test_transcribe_refuses_every_bad_file_cleanly(tmp_path: Path) -> None:
    files = _bad_files(tmp_path)
    out = cli_child(["transcribe", *map(str, files.values())], timeout=120)
    assert out.clean, describe(out)
    assert out.code == 1, describe(out)
    assert out.stdout == ""
    errors = [line for line in out.stderr.splitlines() if line.startswith("stretch-coach:")]
    assert len(errors) == len(files), describe(out)
    for path in files.values():
        assert any(str(path) in line for line in errors), (path, out.stderr)


def test_truncated_wav_is_read_up_to_the_cut(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    sf.write(good, tone(16000, 2.0), 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[: 44 + 16000])  # header says 2 s, data holds 0.5 s
    pcm = read_audio(cut)
    assert abs(len(pcm) - 8000) <= 1


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([None], ("", 0.0)),  # an entry with no path
        (None, ("", 0.0)),  # no lattice at all: nbest() itself is None
        ([None, ("", 5), ("pause", 7)], ("pause", 7.0)),  # the first real path counts
    ],
)
def test_best_partial_survives_empty_nbest_entries(
    entries: list[tuple[str, int] | None] | None, expected: tuple[str, float]
) -> None:
    from types import SimpleNamespace

    from voice.hearing.pocketsphinx_engine import PocketSphinxRecognizer

    class Decoder:
        def nbest(self) -> Iterator[SimpleNamespace | None] | None:
            if entries is None:
                return None
            return iter(
                None if e is None else SimpleNamespace(hypstr=e[0], score=e[1]) for e in entries
            )

    rec = PocketSphinxRecognizer.__new__(PocketSphinxRecognizer)
    rec._decoder = Decoder()
    assert rec._best_partial() == expected


@pytest.mark.slow
def test_transcribe_of_a_cut_off_word_does_not_crash(tmp_path: Path) -> None:
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed")
    full = tmp_path / "pause.wav"
    subprocess.run([exe, "-v", "en-us", "-w", str(full), "pause"], check=True, timeout=60)
    data, rate = sf.read(full, dtype="float32")
    whole = tmp_path / "whole.wav"
    sf.write(whole, soxr.resample(data, rate, 16000), 16000, subtype="PCM_16")
    raw = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(raw[: len(raw) // 2])  # the word cut off half-way, header unchanged
    out = cli_child(["transcribe", str(cut)], timeout=120)
    assert out.clean and out.code == 0, describe(out)


@pytest.mark.slow
def test_transcribe_of_clipped_audio_finishes_quickly(tmp_path: Path) -> None:
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed")
    src = tmp_path / "pause.wav"
    subprocess.run([exe, "-v", "en-us", "-w", str(src), "pause"], check=True, timeout=60)
    data, rate = sf.read(src, dtype="float32")
    loud = tmp_path / "loud.wav"
    sf.write(loud, soxr.resample(data, rate, 16000) * 50, 16000, subtype="FLOAT")
    out = cli_child(["transcribe", str(loud)], timeout=60)
    assert out.clean and out.code == 0, describe(out)


# -- hours of audio ---------------------------------------------------------------------------


def _peak_rss_mb(pid: int, stop: threading.Event, peak: list[float], limit_mb: float) -> None:
    while not stop.is_set():
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peak[0] = max(peak[0], int(line.split()[1]) / 1024)
        if peak[0] > limit_mb:
            return
        time.sleep(0.05)


LONG_LIMIT_MB = 400.0  # the recognizer and its grammar need ~200 MB; audio must not add hours


def test_two_hour_file_is_refused_or_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "two_hours.wav"
    rate, seconds = 8000, 2 * 3600
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as f:
        block = (tone(rate, 60.0) * 0.01).astype(np.float32)
        for _ in range(seconds // 60):
            f.write(block)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voice", "transcribe", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    peak, stop = [0.0], threading.Event()
    watcher = threading.Thread(target=_peak_rss_mb, args=(proc.pid, stop, peak, LONG_LIMIT_MB))
    watcher.start()
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline and peak[0] <= LONG_LIMIT_MB:
            time.sleep(0.1)
    finally:
        stop.set()
        watcher.join()
        finished = proc.poll() is not None
        if not finished:
            proc.kill()
        _, stderr = proc.communicate(timeout=30)
    assert peak[0] <= LONG_LIMIT_MB, f"peak RSS {peak[0]:.0f} MB"
    assert finished, "still decoding after 90 s: neither refused nor done"
    # Refused from the header, before reading: one clear line naming the file and the limit.
    assert proc.returncode == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("stretch-coach:")]
    assert "Traceback" not in stderr and len(errors) == 1, stderr
    assert str(path) in errors[0] and "120 min" in errors[0] and "10 min" in errors[0], stderr


def test_the_length_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voice.hearing.audio_files import MAX_AUDIO_ENV, read_raw

    path = tmp_path / "three.wav"
    sf.write(path, tone(16000, 3.0), 16000, subtype="PCM_16")
    assert len(read_audio(path)) == 3 * SAMPLE_RATE
    assert len(read_audio(path, max_seconds=3.0)) == 3 * SAMPLE_RATE
    with pytest.raises(AudioError, match="over the 2 s limit"):
        read_audio(path, max_seconds=2.0)
    monkeypatch.setenv(MAX_AUDIO_ENV, "2.5")
    with pytest.raises(AudioError, match=f"{MAX_AUDIO_ENV}"):
        read_audio(path)
    raw = io.BytesIO(b"\x00\x00" * SAMPLE_RATE * 3)
    with pytest.raises(AudioError, match="-: 3 s of audio"):
        read_raw(raw, 2.5)
    for bad in ("ten", "-1", "0", "nan"):
        monkeypatch.setenv(MAX_AUDIO_ENV, bad)
        with pytest.raises(AudioError, match=MAX_AUDIO_ENV) as info:
            read_audio(path)
        assert "\n" not in str(info.value)


def test_long_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    """`transcribe --stream` (FileAudioSource) reads any length a block at a time."""
    import tracemalloc

    from voice.hearing.audio_files import FileAudioSource

    rate, minutes = 8000, 20
    path = tmp_path / "long.wav"
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as f:
        block = (tone(rate, 60.0) * 0.1).astype(np.float32)
        for _ in range(minutes):
            f.write(block)
    source = FileAudioSource(path, trailing_silence_s=0.0)
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in source.chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert abs(total // 2 - minutes * 60 * SAMPLE_RATE) <= 2 * SAMPLE_RATE // 1000
    assert source.duration == pytest.approx(minutes * 60, abs=0.01)
    assert peak < 5_000_000, f"peak {peak / 1e6:.1f} MB for {minutes} min of audio"
