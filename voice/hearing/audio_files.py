"""Audio from files and stdin, as 16 kHz mono 16-bit PCM (what every engine here wants)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2
Pcm = npt.NDArray[np.int16]


class AudioError(ValueError):
    """The input is not audio we can read; the message is one line for the user."""


def to_int16(samples: npt.NDArray[np.floating] | npt.NDArray[np.integer], rate: int) -> Pcm:
    """Mix down to mono, resample to 16 kHz and convert to int16."""
    data = np.asarray(samples)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if np.issubdtype(data.dtype, np.integer):
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
    data = data.astype(np.float32, copy=False)
    if rate != SAMPLE_RATE:
        import soxr

        data = soxr.resample(data, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    out: Pcm = np.clip(np.round(data * 32767.0), -32768, 32767).astype(np.int16)
    return out


def read_audio(path: str | Path) -> Pcm:
    """Read WAV/FLAC/OGG (anything libsndfile reads), or raw 16 kHz PCM from stdin for '-'."""
    if str(path) == "-":
        return read_raw(sys.stdin.buffer)
    import soundfile

    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if p.is_dir():
        raise AudioError(f"{p}: is a directory, not an audio file")
    try:
        data, rate = soundfile.read(str(p), dtype="float32", always_2d=False)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{p}: not a readable audio file ({_first_line(err)})") from err
    if data.size == 0:
        raise AudioError(f"{p}: contains no audio")
    return to_int16(data, int(rate))


def read_raw(stream: BinaryIO) -> Pcm:
    """Raw little-endian 16-bit mono PCM at 16 kHz (the format `arecord -f S16_LE -r 16000`)."""
    data = stream.read()
    if len(data) % SAMPLE_WIDTH:
        data = data[:-1]  # a torn last sample is noise, not a reason to fail
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def chunked(pcm: Pcm, chunk_ms: int = 100) -> Iterator[bytes]:
    step = SAMPLE_RATE * chunk_ms // 1000
    raw = pcm.astype("<i2").tobytes()
    width = step * SAMPLE_WIDTH
    for i in range(0, len(raw), width):
        yield raw[i : i + width]


class FileAudioSource:
    """AudioSource over a file (or '-'), optionally followed by silence to flush endpointing."""

    def __init__(self, path: str | Path, chunk_ms: int = 100, trailing_silence_s: float = 1.0):
        self._pcm = read_audio(path)
        self._chunk_ms = chunk_ms
        self._tail = np.zeros(int(SAMPLE_RATE * trailing_silence_s), dtype=np.int16)
        self._closed = False

    @classmethod
    def from_pcm(cls, pcm: Pcm, chunk_ms: int = 100) -> FileAudioSource:
        self = cls.__new__(cls)
        self._pcm = pcm
        self._chunk_ms = chunk_ms
        self._tail = np.zeros(0, dtype=np.int16)
        self._closed = False
        return self

    @property
    def duration(self) -> float:
        return len(self._pcm) / SAMPLE_RATE

    def chunks(self) -> Iterator[bytes]:
        for chunk in chunked(np.concatenate([self._pcm, self._tail]), self._chunk_ms):
            if self._closed:
                return
            yield chunk

    def close(self) -> None:
        self._closed = True


def write_wav(path: str | Path, pcm: Pcm) -> None:
    import soundfile

    soundfile.write(str(path), pcm, SAMPLE_RATE, subtype="PCM_16")


def wav_bytes(pcm: Pcm) -> bytes:
    import soundfile

    buf = io.BytesIO()
    soundfile.write(buf, pcm, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    return buf.getvalue()
