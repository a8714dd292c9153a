"""Audio from files and stdin, as 16 kHz mono 16-bit PCM (what every engine here wants)."""

from __future__ import annotations

import io
import itertools
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import soundfile

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2
Pcm = npt.NDArray[np.int16]

# One file is one command for `transcribe` and `eval`: ten minutes is far beyond any command,
# and an hours-long file read whole would take gigabytes (float32 plus the resampler's copy).
DEFAULT_MAX_AUDIO_S = 600.0
MAX_AUDIO_ENV = "STRETCH_COACH_MAX_AUDIO_S"

_BLOCK_S = 1.0  # streamed files are read and resampled a second at a time


class AudioError(ValueError):
    """The input is not audio we can read; the message is one line for the user."""


def max_audio_seconds() -> float:
    """The whole-file length limit: $STRETCH_COACH_MAX_AUDIO_S, else ten minutes."""
    raw = os.environ.get(MAX_AUDIO_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_AUDIO_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not value > 0:  # also catches NaN
        raise AudioError(f"{MAX_AUDIO_ENV}={raw!r}: expected a positive number of seconds")
    return value


def _as_float(
    samples: npt.NDArray[np.floating] | npt.NDArray[np.integer],
) -> npt.NDArray[np.float32]:
    """Mono float32 in [-1, 1] scale, with NaN and infinities (corrupt samples) as silence."""
    data = np.asarray(samples)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if np.issubdtype(data.dtype, np.integer):
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
    data = data.astype(np.float32, copy=False)
    if not np.isfinite(data).all():
        # Before resampling: the filter would smear one NaN over its whole length.
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    return data


def _float_to_int16(data: npt.NDArray[np.float32]) -> Pcm:
    out: Pcm = np.clip(np.round(data * 32767.0), -32768, 32767).astype(np.int16)
    return out


def to_int16(samples: npt.NDArray[np.floating] | npt.NDArray[np.integer], rate: int) -> Pcm:
    """Mix down to mono, resample to 16 kHz and convert to int16."""
    data = _as_float(samples)
    if rate != SAMPLE_RATE:
        import soxr

        data = soxr.resample(data, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return _float_to_int16(data)


def _check_path(p: Path) -> None:
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if p.is_dir():
        raise AudioError(f"{p}: is a directory, not an audio file")


def _info(p: Path) -> soundfile._SoundFileInfo:
    import soundfile

    _check_path(p)
    try:
        info = soundfile.info(str(p))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{p}: not a readable audio file ({_first_line(err)})") from err
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(f"{p}: contains no audio")
    return info


def _too_long(name: object, seconds: float, limit: float) -> AudioError:
    return AudioError(
        f"{name}: {_minutes(seconds)} of audio is over the {_minutes(limit)} limit for one "
        f"recording (set {MAX_AUDIO_ENV} to raise it; `transcribe --stream` reads any length)"
    )


def _minutes(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def read_audio(path: str | Path, max_seconds: float | None = None) -> Pcm:
    """Read WAV/FLAC/OGG (anything libsndfile reads), or raw 16 kHz PCM from stdin for '-'.

    Refuses input longer than `max_seconds` (default: `max_audio_seconds()`) before reading
    it, so a mistaken hours-long file costs nothing.
    """
    limit = max_audio_seconds() if max_seconds is None else max_seconds
    if str(path) == "-":
        return read_raw(sys.stdin.buffer, limit)
    import soundfile

    p = Path(path)
    info = _info(p)
    if info.frames / info.samplerate > limit:
        raise _too_long(p, info.frames / info.samplerate, limit)
    try:
        data, rate = soundfile.read(str(p), dtype="float32", always_2d=False)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{p}: not a readable audio file ({_first_line(err)})") from err
    if data.size == 0:
        raise AudioError(f"{p}: contains no audio")
    return to_int16(data, int(rate))


def read_raw(stream: BinaryIO, max_seconds: float | None = None) -> Pcm:
    """Raw little-endian 16-bit mono PCM at 16 kHz (the format `arecord -f S16_LE -r 16000`)."""
    if max_seconds is None or math.isinf(max_seconds):
        data = stream.read()
    else:
        limit = int(max_seconds * SAMPLE_RATE) * SAMPLE_WIDTH
        data = stream.read(limit + SAMPLE_WIDTH)
        if len(data) > limit:
            raise _too_long("-", len(data) / (SAMPLE_RATE * SAMPLE_WIDTH), max_seconds)
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


def stream_file(path: Path) -> Iterator[Pcm]:
    """16 kHz mono int16 blocks of a file, read and resampled a block at a time.

    Memory stays bounded however long the file is; the file is opened (and refused if it is
    not audio) before the first block is asked for.
    """
    import soundfile

    info = _info(path)
    try:
        sf = soundfile.SoundFile(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{path}: not a readable audio file ({_first_line(err)})") from err
    return _blocks(path, sf, int(info.samplerate))


def _blocks(path: Path, sf: soundfile.SoundFile, rate: int) -> Iterator[Pcm]:
    import soundfile
    import soxr

    resampler = (
        soxr.ResampleStream(rate, SAMPLE_RATE, 1, quality="HQ") if rate != SAMPLE_RATE else None
    )
    block = max(1, int(rate * _BLOCK_S))
    with sf:
        while True:
            try:
                data = sf.read(block, dtype="float32", always_2d=True)
            except (soundfile.LibsndfileError, RuntimeError) as err:
                raise AudioError(f"{path}: unreadable part ({_first_line(err)})") from err
            last = len(data) < block
            mono = _as_float(data)
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=last).astype(np.float32)
            if len(mono):
                yield _float_to_int16(mono)
            if last:
                return


def _raw_blocks(stream: BinaryIO) -> Iterator[Pcm]:
    width = int(SAMPLE_RATE * _BLOCK_S) * SAMPLE_WIDTH
    torn = b""
    while True:
        data = torn + stream.read(width)
        usable = len(data) - len(data) % SAMPLE_WIDTH
        if usable == 0:
            return  # end of input (a torn last sample is dropped, as read_raw does)
        torn = data[usable:]
        yield np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)


class FileAudioSource:
    """AudioSource over a file (or '-'), optionally followed by silence to flush endpointing.

    Files are streamed, not loaded, so a recording of any length plays in bounded memory.
    """

    def __init__(self, path: str | Path, chunk_ms: int = 100, trailing_silence_s: float = 1.0):
        self._known_s: float | None = None
        if str(path) == "-":
            stdin = sys.stdin.buffer
            self._open: Callable[[], Iterator[Pcm]] = lambda: _raw_blocks(stdin)
        else:
            p = Path(path)
            info = _info(p)  # refuse what is not audio now, not at the first chunk
            self._known_s = info.frames / info.samplerate
            self._open = lambda: stream_file(p)
        self._chunk_ms = chunk_ms
        self._tail = np.zeros(int(SAMPLE_RATE * trailing_silence_s), dtype=np.int16)
        self._closed = False
        self._samples = 0
        self._done = False

    @classmethod
    def from_pcm(cls, pcm: Pcm, chunk_ms: int = 100) -> FileAudioSource:
        self = cls.__new__(cls)
        self._known_s = len(pcm) / SAMPLE_RATE
        self._open = lambda: iter([pcm])
        self._chunk_ms = chunk_ms
        self._tail = np.zeros(0, dtype=np.int16)
        self._closed = False
        self._samples = 0
        self._done = False
        return self

    @property
    def duration(self) -> float:
        """Seconds of audio: what was read once it all was (a truncated file's header says
        more than it holds), until then what the header says (for stdin: what came so far)."""
        if self._done or self._known_s is None:
            return self._samples / SAMPLE_RATE
        return self._known_s

    def chunks(self) -> Iterator[bytes]:
        width = SAMPLE_RATE * self._chunk_ms // 1000 * SAMPLE_WIDTH
        pending = bytearray()
        self._samples, self._done = 0, False
        for block in itertools.chain(self._counted(), [self._tail]):
            pending += block.astype("<i2").tobytes()
            while len(pending) >= width:
                if self._closed:
                    return
                yield bytes(pending[:width])
                del pending[:width]
        if pending and not self._closed:
            yield bytes(pending)

    def _counted(self) -> Iterator[Pcm]:
        for block in self._open():
            self._samples += len(block)
            yield block
        self._done = True

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
