"""A test room built from a real audio stack: a private PulseAudio daemon with a null sink
`room` (the air) and a virtual source `mic` whose master is `room.monitor` (the microphone).

Whatever is played into `room` -- the person's voice through `paplay`, and the coach's own
speech through ALSA's pulse plugin -- is what the microphone hears, the coach's voice included.

The daemon runs as a child of the tests (not `-D`), in a private 0700 runtime directory, with no
default script: only the modules the room needs are loaded, so nothing on the machine (a real
sound card, a user's default.pa, suspend-on-idle) changes what the tests hear. It is stopped by
its own pid in `close()`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REQUIRED_PROGRAMS = ("pulseaudio", "pactl", "paplay", "parecord")
VOICES = ("flite", "espeak-ng")  # the person's voice: either will do


class RoomUnavailable(RuntimeError):
    """The room cannot be built on this machine; the message says why (used as a skip reason)."""


def missing_requirements() -> list[str]:
    """What this machine lacks for the room, as short human-readable items (empty: all there)."""
    missing = [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None]
    if not any(shutil.which(v) for v in VOICES):
        missing.append(" or ".join(VOICES))
    try:
        import sounddevice  # noqa: F401  # OSError when libportaudio2 is missing
    except (ImportError, OSError) as exc:
        missing.append(f"PortAudio for sounddevice ({exc})")
    if not Path("/usr/share/alsa/alsa.conf.d/pulse.conf").exists() and not any(
        Path(d).glob("*pulse*") for d in ("/etc/alsa/conf.d",) if Path(d).is_dir()
    ):
        missing.append("ALSA's pulse plugin (libasound2-plugins)")
    return missing


def default_voice() -> str:
    return "flite:rms" if shutil.which("flite") else "espeak-ng:en-us"


def _sounddevice_bundles_portaudio() -> bool:
    spec = importlib.util.find_spec("_sounddevice_data")  # wheels for macOS/Windows only
    return spec is not None


class Room:
    """One PulseAudio room. Use as a context manager, or call start() and close()."""

    def __init__(self, base: Path | None = None) -> None:
        self._own_base = base is None
        self.base = Path(base) if base is not None else Path(tempfile.mkdtemp(prefix="room-"))
        self.runtime = self.base / "run"
        self.home = self.base / "home"
        self.log_path = self.base / "pulseaudio.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.mic_module: int | None = None
        self.env: dict[str, str] = {}

    # -- life cycle -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Room:
        missing = missing_requirements()
        if missing:
            raise RoomUnavailable("audio room needs: " + ", ".join(missing))
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.runtime, 0o700)  # pulseaudio refuses a runtime dir others can enter
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            XDG_RUNTIME_DIR=str(self.runtime),
            PULSE_RUNTIME_PATH=str(self.runtime / "pulse"),
            PULSE_SERVER=f"unix:{self.runtime / 'pulse' / 'native'}",
            # A private home and config: the daemon's cookie and state, and the coach's own
            # history and settings, stay inside the room and never touch the machine's.
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
        )
        for key in ("PULSE_SINK", "PULSE_SOURCE", "PULSE_COOKIE", "ALSA_CARD", "AUDIODEV"):
            env.pop(key, None)
        self.env = env
        args = [
            "pulseaudio",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--realtime=no",
            "--high-priority=no",
            "--use-pid-file=no",
            "-n",  # no default script: only what the room needs
            "--log-target=stderr",
            # Anonymous auth on a socket only this user can reach (0700 runtime dir).
            "-L",
            "module-native-protocol-unix auth-anonymous=1",
        ]
        if os.geteuid() == 0:
            args.append("--system=false")  # root: a per-user daemon all the same
        log = self.log_path.open("wb")
        try:
            self.proc = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RoomUnavailable(
                    f"pulseaudio exited with {self.proc.returncode}: {self.log_tail()}"
                )
            if self._pactl_ok("info"):
                break
            if time.monotonic() > deadline:
                self.close()
                raise RoomUnavailable(f"pulseaudio did not answer: {self.log_tail()}")
            time.sleep(0.1)
        self.pactl(
            "load-module",
            "module-null-sink",
            "sink_name=room",
            "rate=16000",
            "channels=1",
            "sink_properties=device.description=Room",
        )
        self.add_mic()
        self.pactl("set-default-sink", "room")
        return self

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None
        if self._own_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> Room:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- the microphone -------------------------------------------------------------------

    def add_mic(self) -> int:
        """(Re)create the virtual source `mic` on the room's air and make it the default."""
        out = self.pactl(
            "load-module",
            "module-virtual-source",
            "source_name=mic",
            "master=room.monitor",
            "source_properties=device.description=Microphone",
        )
        self.mic_module = int(out.strip())
        self.pactl("set-default-source", "mic")
        return self.mic_module

    def remove_mic(self) -> None:
        """Unplug the microphone: unload the virtual source (streams on it are killed)."""
        if self.mic_module is not None:
            self.pactl("unload-module", str(self.mic_module))
            self.mic_module = None

    def suspend_mic(self, suspended: bool) -> None:
        """The microphone stops delivering audio (a hung USB device, a dead driver) or resumes;
        unlike unloading it, PulseAudio has nowhere to move the stream to."""
        self.pactl("suspend-source", "mic", "1" if suspended else "0")

    def source_outputs(self) -> str:
        """`pactl list short source-outputs`: who is recording now."""
        return self.pactl("list", "short", "source-outputs")

    # -- the person and the ear -------------------------------------------------------------

    def say_to_file(self, text: str, path: Path, voice: str | None = None) -> Path:
        """Synthesize what the person says, trimmed of leading and trailing silence so that
        the end of playback is the end of speech.

        `voice` is "flite:NAME" or "espeak-ng:NAME" (default: $STRETCH_E2E_VOICE, else
        flite's rms voice when flite is installed, else espeak-ng en-us). Flite's diphone
        voices are recognised far more reliably than espeak-ng's formant voice, which the
        recognizer often scores below its confidence floor.
        """
        voice = voice or os.environ.get("STRETCH_E2E_VOICE") or default_voice()
        engine, _, name = voice.partition(":")
        raw = path.with_suffix(".raw.wav")
        if engine == "flite":
            cmd = ["flite", "-voice", name or "rms", "-t", text, "-o", str(raw)]
        elif engine == "espeak-ng":
            cmd = ["espeak-ng", "-v", name or "en-us", "-s", "150", "-w", str(raw), text]
        else:
            raise ValueError(f"unknown voice {voice!r}: use flite:NAME or espeak-ng:NAME")
        subprocess.run(cmd, check=True, env=self.env, capture_output=True)
        with wave.open(str(raw), "rb") as w:
            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert width == 2 and channels == 1, (width, channels)
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
        if len(loud):
            pad = int(rate * 0.03)
            samples = samples[max(0, loud[0] - pad) : loud[-1] + pad]
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(samples.astype("<i2").tobytes())
        raw.unlink(missing_ok=True)
        return path

    def play(self, path: Path, volume: float | None = None) -> float:
        """Play a WAV into the room and wait until it has been heard; returns the
        time.monotonic() at which the last sample left (the end of the person's speech)."""
        args = ["paplay", "--device=room", str(path)]
        if volume is not None:
            args.insert(1, f"--volume={int(volume * 65536)}")
        subprocess.run(args, check=True, env=self.env, capture_output=True, timeout=60)
        return time.monotonic()

    @contextlib.contextmanager
    def recording(self, path: Path) -> Iterator[Path]:
        """Record the room's air (what a listener standing in it would hear) into `path`."""
        proc = subprocess.Popen(
            [
                "parecord",
                "--device=room.monitor",
                "--rate=16000",
                "--channels=1",
                "--format=s16le",
                "--file-format=wav",
                str(path),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            yield path
        finally:
            proc.send_signal(signal.SIGINT)  # parecord finishes the WAV header on SIGINT
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    # -- helpers ----------------------------------------------------------------------------

    def pactl(self, *args: str) -> str:
        result = subprocess.run(
            ["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10
        )
        if result.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def _pactl_ok(self, *args: str) -> bool:
        try:
            self.pactl(*args)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        return True


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the rate, from a 16-bit WAV (parecord's)."""
    with wave.open(str(path), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32)
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data / 32768.0, rate


def loud_seconds(samples: np.ndarray, rate: int, threshold: float = 0.01) -> float:
    """Seconds of audio whose 50 ms RMS is above `threshold` (about -40 dBFS)."""
    win = max(1, rate // 20)
    n = len(samples) // win
    if n == 0:
        return 0.0
    frames = samples[: n * win].reshape(n, win)
    rms = np.sqrt((frames**2).mean(axis=1))
    return float((rms > threshold).sum()) * win / rate
