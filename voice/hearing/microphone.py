"""Live microphone through sounddevice (PortAudio).

The PortAudio callback runs on a real-time thread: it only copies the block into a queue.
Resampling and everything else happens on the consumer's side, so a slow decoder can never
make the audio driver drop input; if the consumer falls far behind, the oldest audio is
dropped instead (and counted).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from voice.hearing.audio_files import SAMPLE_RATE
from voice.hearing.echo import EchoCanceller

_LOG = logging.getLogger(__name__)


class NoMicrophone(RuntimeError):
    """No PortAudio library or no input device; the message is one line for the user."""


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float
    is_default_input: bool
    is_default_output: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "default_samplerate": self.default_rate,
            "default_input": self.is_default_input,
            "default_output": self.is_default_output,
        }


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as err:  # OSError: the PortAudio library is missing
        raise NoMicrophone(f"no audio system: {err}") from err
    return sounddevice


def list_devices() -> list[Device]:
    sd = _sounddevice()
    try:
        raw = sd.query_devices()
        default_in, default_out = sd.default.device
    except Exception as err:  # noqa: BLE001 - PortAudio reports many failures generically
        raise NoMicrophone(f"cannot list audio devices: {err}") from err
    devices: list[Device] = []
    for i, d in enumerate(raw):
        devices.append(
            Device(
                index=i,
                name=str(d["name"]),
                inputs=int(d["max_input_channels"]),
                outputs=int(d["max_output_channels"]),
                default_rate=float(d["default_samplerate"]),
                is_default_input=i == default_in,
                is_default_output=i == default_out,
            )
        )
    return devices


def default_input() -> Device:
    """The input device `MicrophoneSource` would open, or NoMicrophone."""
    devices = list_devices()
    inputs = [d for d in devices if d.inputs > 0]
    if not inputs:
        raise NoMicrophone("no audio input device found")
    return next((d for d in inputs if d.is_default_input), inputs[0])


class MicrophoneSource:
    """AudioSource yielding 16 kHz mono int16 chunks from an input device.

    With an `echo` canceller, each block is cleaned of what the coach is playing, lined up
    by the time the block left the ADC.

    A microphone delivers blocks without pause, silence included, so `stall_s` without one
    means it is gone (unplugged, suspended, the audio server died): `on_change(False)` is
    called, the stream is reopened now and then, and `on_change(True)` when audio flows again.
    """

    def __init__(
        self,
        device: int | str | None = None,
        block_ms: int = 30,
        max_queue_s: float = 5.0,
        echo: EchoCanceller | None = None,
        on_change: Callable[[bool], None] | None = None,
        stall_s: float = 1.0,
    ) -> None:
        sd = _sounddevice()
        try:
            info = sd.query_devices(device, "input")
        except Exception as err:  # noqa: BLE001
            raise NoMicrophone(f"no usable input device ({err})") from err
        # Prefer 16 kHz straight from the device; fall back to its own rate and resample.
        self._rate = SAMPLE_RATE
        try:
            sd.check_input_settings(
                device=device, samplerate=SAMPLE_RATE, channels=1, dtype="int16"
            )
        except Exception:  # noqa: BLE001
            self._rate = int(info["default_samplerate"])
        blocksize = int(self._rate * block_ms / 1000)
        max_blocks = max(1, int(max_queue_s * 1000 / block_ms))
        self._queue: queue.Queue[tuple[bytes, float] | None] = queue.Queue(maxsize=max_blocks)
        self._echo = echo
        self._mono_offset = 0.0  # time.monotonic() minus PortAudio stream time
        self.dropped_blocks = 0
        self.overflows = 0
        self._closed = False
        self._sd = sd
        self._device = device
        self._blocksize = blocksize
        self._on_change = on_change
        self._stall_s = stall_s
        self.present = True
        self.reopened = 0
        self._last_attempt = 0.0
        self._stream: Any = None
        self._open()
        self._resampler: Any = None
        if self._rate != SAMPLE_RATE:
            import soxr

            # A streaming resampler keeps filter state across blocks (no clicks at edges).
            self._resampler = soxr.ResampleStream(self._rate, SAMPLE_RATE, 1, dtype="int16")
        _LOG.info("microphone: %s at %d Hz", info["name"], self._rate)

    def _open(self) -> None:
        try:
            self._stream = self._sd.RawInputStream(
                samplerate=self._rate,
                blocksize=self._blocksize,
                device=self._device,
                channels=1,
                dtype="int16",
                callback=self._callback,
            )
            self._stream.start()
            self._mono_offset = time.monotonic() - float(self._stream.time)
        except Exception as err:  # noqa: BLE001
            raise NoMicrophone(f"cannot open the microphone: {err}") from err

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status:
            self.overflows += 1
        adc = float(time_info.inputBufferAdcTime)
        at = adc + self._mono_offset if adc > 0.0 else time.monotonic() - frames / self._rate
        try:
            self._queue.put_nowait((bytes(indata), at))
        except queue.Full:
            self.dropped_blocks += 1

    def chunks(self) -> Iterator[bytes]:
        last = time.monotonic()
        while not self._closed:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                self._watch(time.monotonic() - last)
                continue
            if item is None:
                return
            last = time.monotonic()
            self._set_present(True)
            block, at = item
            if self._resampler is not None:
                samples = np.frombuffer(block, dtype="<i2").astype(np.int16)
                block = self._resampler.resample_chunk(samples).astype("<i2").tobytes()
            if self._echo is not None:
                block = self._echo.process(block, at)
            if block:
                yield block

    def _watch(self, silent_for: float) -> None:
        """No audio for `silent_for` seconds: say the microphone is gone, and try to get it
        back: a stream that died is reopened; a stalled one resumes by itself, or is
        reopened after a few seconds in case the driver has hung."""
        if silent_for < self._stall_s or self._closed:
            return
        self._set_present(False)
        now = time.monotonic()
        dead = self._stream is None or not self._stream.active
        if now - self._last_attempt < (1.0 if dead else 5.0):
            return
        self._last_attempt = now
        with contextlib.suppress(Exception):
            if self._stream is not None:
                self._stream.close()
        self._stream = None
        try:
            self._open()
        except NoMicrophone as err:
            _LOG.debug("microphone still gone: %s", err)
            return
        self.reopened += 1

    def _set_present(self, present: bool) -> None:
        if present == self.present:
            return
        self.present = present
        _LOG.warning("microphone %s", "back" if present else "lost: no audio")
        if self._on_change is not None:
            self._on_change(present)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._stream is not None:
                self._stream.stop()
                self._stream.close()
            if self._echo is not None:
                self._echo.close()
        finally:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
