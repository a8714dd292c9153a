"""Where rendered speech goes: the sound card, a directory of WAVs, stdout, or nowhere.

The speaker's player thread owns timing; an output only starts a buffer (without blocking) and
is told when it ended, naturally or cut. That keeps every output honest about when sound was
heard, and lets WAV and print runs follow exactly the timing a sound card run would.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time as _time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import numpy.typing as npt

from voice.ports import Clock, Utterance
from voice.speech.render import Pcm

log = logging.getLogger(__name__)

# PortAudio's "low" latency (about 12 ms through ALSA's PulseAudio plugin) underruns on a busy
# machine: clicks in the speech, and gaps that break the echo canceller's reference. 50 ms
# measured clean; counts stay on time because blocks are placed by their DAC time anyway.
OUTPUT_LATENCY_S = 0.05


@dataclass(frozen=True)
class PlayInfo:
    """One utterance as it is played."""

    index: int  # 1, 2, ... in play order
    utterance: Utterance
    started: float  # audible start on the clock; may be up to the pre-roll in the future
    max_duration: float  # seconds the player lets it run (< duration: shortened)
    duration: float  # full length on the clock (the rendered length, or F times it on a card)
    handed_over: float | None = None  # audible-clock time start() was called

    @property
    def scheduled(self) -> float | None:
        return self.utterance.at


class PlaybackTap(Protocol):
    """Told every block the sound card plays, silence included: the echo canceller's reference."""

    def played(self, at: float, samples: npt.NDArray[np.float32], rate: int) -> None:
        """`samples` reach the DAC at `at` on time.monotonic(); called on the audio thread."""


def real_seconds(clock: Clock, clock_seconds: float) -> float:
    """Wall-clock seconds that `clock_seconds` on `clock` last (a --time-scale clock runs fast)."""
    convert = getattr(clock, "real_seconds", None)
    return float(convert(clock_seconds)) if callable(convert) else clock_seconds


class OutputUnavailable(RuntimeError):
    """The output cannot work on this machine (no PortAudio, no device)."""


class AudioOutput(Protocol):
    @property
    def latency(self) -> float:
        """Real seconds from start() to sound at the ear; the player starts this much early."""

    @property
    def realtime(self) -> bool:
        """True when audio plays at the wall clock's pace (a sound card): on a faster demo
        clock a line then lasts longer in clock seconds than its rendered length. False when
        playing only follows the clock (files, printing), so speech is compressed with it."""

    def start(self, pcm: Pcm, info: PlayInfo) -> None:
        """Play so that the first sample is heard at `info.started` (now or a little later,
        at most the speaker's pre-roll); must not block for the length of the audio."""

    def cut(self) -> None:
        """Silence now (interrupt); called from the caller's thread, so it must be quick."""

    def end(self, info: PlayInfo, played: float, interrupted: bool) -> None:
        """The utterance is over after `played` seconds of it (from the player thread)."""

    def close(self) -> None: ...


class NullOutput:
    """Plays nothing; timing still runs in real time (--no-tts with printing off)."""

    latency = 0.0
    realtime = False

    def start(self, pcm: Pcm, info: PlayInfo) -> None:
        pass

    def cut(self) -> None:
        pass

    def end(self, info: PlayInfo, played: float, interrupted: bool) -> None:
        pass

    def close(self) -> None:
        pass


class PrintOutput:
    """One line per utterance on stdout, stamped with seconds since the first line."""

    latency = 0.0
    realtime = False

    def __init__(self, stream: IO[str] | None = None, origin: float | None = None) -> None:
        self._stream = stream
        self._origin = origin

    def start(self, pcm: Pcm, info: PlayInfo) -> None:
        if self._origin is None:
            self._origin = info.started
        stream = self._stream or sys.stdout  # late lookup: tests and the CLI may swap stdout
        u = info.utterance
        print(f"[{info.started - self._origin:8.2f}] {u.kind:<11} {u.text}", file=stream)
        stream.flush()

    def cut(self) -> None:
        pass

    def end(self, info: PlayInfo, played: float, interrupted: bool) -> None:
        pass

    def close(self) -> None:
        pass


class WavDirOutput:
    """Writes each utterance as it was heard to DIR/NNNN-kind.wav, plus an index and timeline.

    * ``index.jsonl`` gets one line per utterance as it ends (survives a killed run);
    * ``index.json`` is the full list, written on close();
    * ``timeline.wav`` is every utterance placed at its actual offset from ``origin``, so the
      counts can be checked against their seconds by ear or by analysis.
    """

    latency = 0.0
    realtime = False

    def __init__(self, directory: Path, origin: float | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._origin = origin
        self._pending: dict[int, Pcm] = {}
        self._entries: list[dict[str, object]] = []
        self._lock = threading.Lock()
        self._jsonl = (self.directory / "index.jsonl").open("w", encoding="utf-8")
        self._timeline: Any = None  # soundfile.SoundFile, opened at the first utterance
        self._timeline_rate = 0
        self._timeline_frames = 0

    def start(self, pcm: Pcm, info: PlayInfo) -> None:
        with self._lock:
            if self._origin is None:
                self._origin = info.started
            self._pending[info.index] = pcm

    def cut(self) -> None:
        pass  # nothing sounds: end() writes only the `played` part

    def end(self, info: PlayInfo, played: float, interrupted: bool) -> None:
        import soundfile as sf

        with self._lock:
            pcm = self._pending.pop(info.index, None)
            if pcm is None:
                return
            heard = pcm.head(played) if played < pcm.duration else pcm
            u = info.utterance
            name = f"{info.index:04d}-{u.kind}.wav"
            sf.write(str(self.directory / name), heard.to_int16(), heard.sample_rate)
            origin = self._origin if self._origin is not None else info.started
            entry: dict[str, object] = {
                "index": info.index,
                "file": name,
                "id": u.id,
                "text": u.text,
                "kind": u.kind,
                "scheduled": info.scheduled,
                "started": info.started,
                "offset": info.started - origin,
                "onset_error": None if info.scheduled is None else info.started - info.scheduled,
                "lead": (
                    None
                    if info.handed_over is None or info.scheduled is None
                    else info.started - info.handed_over
                ),
                "duration": heard.duration,
                "rendered_duration": info.duration,
                "shortened": info.max_duration < info.duration,
                "interrupted": interrupted,
            }
            self._entries.append(entry)
            self._jsonl.write(json.dumps(entry) + "\n")
            self._jsonl.flush()
            self._append_timeline(heard, info.started - origin)

    def _append_timeline(self, pcm: Pcm, offset: float) -> None:
        import soundfile as sf

        if self._timeline is None:
            self._timeline_rate = pcm.sample_rate
            self._timeline = sf.SoundFile(
                str(self.directory / "timeline.wav"),
                "w",
                samplerate=pcm.sample_rate,
                channels=1,
                subtype="PCM_16",
            )
        if pcm.sample_rate != self._timeline_rate:
            log.debug("timeline.wav skips a %d Hz utterance", pcm.sample_rate)
            return
        at = int(round(offset * self._timeline_rate))
        gap = at - self._timeline_frames
        if gap > 0:
            self._timeline.write(np.zeros(gap, dtype=np.int16))
            self._timeline_frames += gap
        # Utterances never overlap; a negative gap is sub-millisecond rounding, so append.
        self._timeline.write(pcm.to_int16())
        self._timeline_frames += len(pcm.samples)

    @property
    def entries(self) -> list[dict[str, object]]:
        with self._lock:
            return list(self._entries)

    def close(self) -> None:
        with self._lock:
            if self._jsonl.closed:
                return
            self._jsonl.close()
            if self._timeline is not None:
                self._timeline.close()
            index = {"origin": self._origin, "utterances": self._entries}
            (self.directory / "index.json").write_text(json.dumps(index, indent=1) + "\n")


class DeviceOutput:
    """The default sound card through sounddevice (PortAudio), fed from a callback.

    A callback rather than blocking writes, for two reasons: a cut only has to empty the buffer
    the callback reads, so silence follows within one block (~12 ms at 256 frames) plus the
    device latency; and the callback knows when each block reaches the DAC, so it can place the
    first sample of a count on its deadline to the sample, whatever the thread timing was.

    The card plays in real time whatever the session clock does, so deadlines on the clock
    (which runs faster under --time-scale) are turned into the stream's own time, in real
    seconds, when a line is handed over.
    """

    realtime = True

    def __init__(
        self,
        sample_rate: int = 22050,
        device: int | str | None = None,
        blocksize: int = 256,
        clock: Clock | None = None,
        tap: PlaybackTap | None = None,
    ) -> None:
        try:
            import sounddevice as sd
        except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
            raise OutputUnavailable(f"no PortAudio: {exc}") from exc
        try:
            sd.query_devices(device, kind="output")
        except Exception as exc:  # PortAudioError / ValueError when there is no output device
            raise OutputUnavailable(f"no audio output device: {exc}") from exc
        self._sd = sd
        self._clock: Clock = clock or _Monotonic()
        self._device = device
        self._blocksize = blocksize
        self._lock = threading.Lock()
        self._buffer = np.zeros(0, dtype=np.float32)
        self._pos = 0
        self._target: float | None = None  # stream time the buffer's first sample is due
        self._tap = tap
        self._mono_offset = 0.0  # time.monotonic() minus PortAudio stream time (for the tap)
        self._stream: Any = None
        self._open(sample_rate)

    def _open(self, sample_rate: int) -> None:
        if self._stream is not None:
            self._stream.close()
        self._rate = sample_rate  # before start(): the callback reads it at once
        try:
            self._stream = self._sd.OutputStream(
                samplerate=sample_rate,
                channels=1,
                dtype="float32",
                blocksize=self._blocksize,
                latency=OUTPUT_LATENCY_S,
                device=self._device,
                callback=self._callback,
            )
            self._stream.start()
            self._mono_offset = _time.monotonic() - float(self._stream.time)
        except Exception as exc:
            raise OutputUnavailable(f"cannot open audio output: {exc}") from exc

    def _callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        with self._lock:
            dac = float(time.outputBufferDacTime)
            block_start = dac if dac > 0.0 else None  # some APIs report 0
            self._pos, self._target = fill_block(
                outdata[:, 0], self._buffer, self._pos, self._target, block_start, self._rate
            )
        if self._tap is not None:
            heard_at = dac + self._mono_offset if dac > 0.0 else _time.monotonic() + self.latency
            self._tap.played(heard_at, outdata[:, 0].copy(), self._rate)

    @property
    def latency(self) -> float:
        return float(self._stream.latency) if self._stream is not None else 0.0

    def start(self, pcm: Pcm, info: PlayInfo) -> None:
        if pcm.sample_rate != self._rate:
            self._open(pcm.sample_rate)
        # Anchored afresh for every line, so drift between the card's clock and the session
        # clock cannot build up over a long session.
        lead = real_seconds(self._clock, info.started - self._clock.now())
        target = float(self._stream.time) + lead
        with self._lock:
            self._buffer = pcm.samples
            self._pos = 0
            self._target = target

    def cut(self) -> None:
        # The callback outputs silence from its next block on.
        with self._lock:
            self._buffer = np.zeros(0, dtype=np.float32)
            self._pos = 0
            self._target = None

    def end(self, info: PlayInfo, played: float, interrupted: bool) -> None:
        # Shortened or preempted lines end on a known time that may still be a little ahead
        # (the pre-roll): stop the buffer at that sample rather than now. `played` is on the
        # session clock; the buffer plays in real time.
        if played < info.duration:
            with self._lock:
                if self._buffer is not None and len(self._buffer):
                    keep = int(round(real_seconds(self._clock, played) * self._rate))
                    self._buffer = self._buffer[: max(keep, self._pos)]

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def fill_block(
    out: npt.NDArray[np.float32],
    buffer: npt.NDArray[np.float32],
    pos: int,
    target: float | None,
    block_start: float | None,
    rate: int,
) -> tuple[int, float | None]:
    """Fill one output block; returns the new read position and the still-pending target.

    `target` is the time the buffer's first sample must be heard (None: already playing),
    `block_start` the time this block's first frame reaches the DAC (None: unknown, so start at
    once); both in real seconds on one time base (the stream's), as frames are counted at
    `rate` per real second. A late target starts at once rather than skipping the start of a word.
    """
    out.fill(0.0)
    first = 0
    if target is not None:
        if block_start is not None:
            first = int(round((target - block_start) * rate))
            if first >= len(out):
                return pos, target  # due in a later block
            first = max(0, first)
        target = None
    n = max(0, min(len(out) - first, len(buffer) - pos))
    out[first : first + n] = buffer[pos : pos + n]
    return pos + n, target


class _Monotonic:
    def now(self) -> float:
        return _time.monotonic()
