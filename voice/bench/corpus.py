"""Synthetic speech for the benchmarks: our command phrasings and non-command speech.

Voices are espeak-ng variants (accents en-us, en-gb, Scottish, Caribbean; +f/+m variants;
140-200 words per minute) and flite's built-in voices. They are split once and for all: the
"tune" voices are for trying settings, the "held-out" voices are the only ones the acceptance
figures are reported on. Synthetic voices are far cleaner than people; the barista recordings
are the real-voice check.

Clips are cached as 16 kHz mono WAV under `<cache>/voices/<voice>/<hash>.wav`.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from voice.hearing.audio_files import SAMPLE_RATE, Pcm, read_audio, write_wav

_LOG = logging.getLogger("stretch-coach.bench")


@dataclass(frozen=True)
class SynthVoice:
    engine: str  # "espeak" or "flite"
    name: str  # espeak voice+variant, or flite voice
    rate: int = 0  # words per minute (espeak only; flite speaks at its own rate)

    @property
    def id(self) -> str:
        base = f"{self.engine}-{self.name}".replace("+", "_")
        return f"{base}-{self.rate}" if self.rate else base


# Tuning voices: free to look at while changing settings.
TUNE_VOICES: tuple[SynthVoice, ...] = (
    SynthVoice("espeak", "en-us+m3", 170),
    SynthVoice("espeak", "en-gb+f2", 150),
    SynthVoice("flite", "kal"),
    SynthVoice("flite", "awb"),
)

# Held-out voices: acceptance figures are reported on these only. Order = priority when a run
# uses fewer of them.
HELDOUT_VOICES: tuple[SynthVoice, ...] = (
    SynthVoice("flite", "slt"),
    SynthVoice("espeak", "en-gb-scotland+m1", 160),
    SynthVoice("espeak", "en-029+f3", 140),
    SynthVoice("flite", "rms"),
    SynthVoice("espeak", "en-us+f4", 200),
    SynthVoice("espeak", "en-gb+m7", 185),
)


@dataclass(frozen=True)
class Command:
    text: str
    intent: str
    slots: tuple[tuple[str, str], ...] = ()

    @property
    def slot_dict(self) -> dict[str, str]:
        return dict(self.slots)


def tests_dir() -> Path:
    import content

    return Path(content.__file__).parent / "en" / "tests"


def command_phrasings() -> list[Command]:
    """Every labelled test sentence (content/en/tests/*.yaml), in file order."""
    out: list[Command] = []
    for path in sorted(tests_dir().glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for test in data.get("tests") or []:
            intent = test.get("intent") or {}
            slots = tuple(sorted((str(k), str(v)) for k, v in (intent.get("slots") or {}).items()))
            for sentence in test.get("sentences") or []:
                out.append(Command(str(sentence), str(intent["name"]), slots))
    return out


def out_of_domain_sentences() -> list[str]:
    data = yaml.safe_load((tests_dir() / "_out_of_domain.yaml").read_text(encoding="utf-8"))
    return [str(s) for s in (data.get("no_intent") or [])]


def pick_commands(n: int) -> list[Command]:
    """n phrasings, round-robin over the intents so every intent is represented."""
    by_intent: dict[str, list[Command]] = {}
    for cmd in command_phrasings():
        by_intent.setdefault(cmd.intent, []).append(cmd)
    chosen: list[Command] = []
    depth = 0
    while len(chosen) < n and any(depth < len(v) for v in by_intent.values()):
        for name in sorted(by_intent):
            # Spread within an intent too: 0, then the last, then the middle, ...
            pool = by_intent[name]
            order = _spread_order(len(pool))
            if depth < len(pool) and len(chosen) < n:
                chosen.append(pool[order[depth]])
        depth += 1
    return chosen


def _spread_order(n: int) -> list[int]:
    order: list[int] = []
    step = n
    while len(order) < n and step >= 1:
        for i in range(0, n, max(1, step)):
            if i not in order:
                order.append(i)
        step //= 2
    return order + [i for i in range(n) if i not in order]


def check_tools() -> dict[str, str | None]:
    return {tool: shutil.which(tool) for tool in ("espeak-ng", "flite", "sox")}


def synth(text: str, voice: SynthVoice, cache: Path) -> Pcm:
    """Speak `text` with `voice` as 16 kHz mono int16 (cached)."""
    key = hashlib.sha1(f"{voice.id}\n{text}".encode()).hexdigest()[:16]
    path = cache / "voices" / voice.id / f"{key}.wav"
    if path.exists():
        return read_audio(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-tts-") as tmp:
        raw = Path(tmp) / "raw.wav"
        if voice.engine == "espeak":
            # Text on stdin: a line starting with "-" must not read as an option.
            cmd = ["espeak-ng", "-v", voice.name, "-s", str(voice.rate or 175), "-w", str(raw)]
            cmd.append("--stdin")
        elif voice.engine == "flite":
            cmd = ["flite", "-voice", voice.name, "-t", text, "-o", str(raw)]
        else:
            raise ValueError(f"unknown synthesizer {voice.engine}")
        stdin = text if voice.engine == "espeak" else None
        subprocess.run(cmd, input=stdin, text=True, check=True, capture_output=True, timeout=120)
        pcm = read_audio(raw)
    write_wav(path, pcm)
    return pcm


def pad(pcm: Pcm, lead_s: float = 0.5, tail_s: float = 0.8) -> Pcm:
    return np.concatenate(
        [
            np.zeros(int(lead_s * SAMPLE_RATE), np.int16),
            pcm,
            np.zeros(int(tail_s * SAMPLE_RATE), np.int16),
        ]
    )


def speech_end(pcm: Pcm, threshold: float = 0.02) -> float:
    """Seconds from the start to the last sample of speech (|x| above threshold of peak)."""
    x = np.abs(pcm.astype(np.float64))
    peak = float(x.max()) if x.size else 0.0
    if peak <= 0.0:
        return 0.0
    loud = np.nonzero(x > threshold * peak)[0]
    return float(loud[-1] + 1) / SAMPLE_RATE


def describe_voices() -> dict[str, Any]:
    return {
        "tune": [v.id for v in TUNE_VOICES],
        "heldout": [v.id for v in HELDOUT_VOICES],
    }
