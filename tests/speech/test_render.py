"""espeak-ng loads with pip alone, and rendering gives real audio of a plausible length."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from voice.speech.espeak_setup import ensure_espeak
from voice.speech.render import (
    CachedRenderer,
    Pcm,
    Pyttsx3Renderer,
    SilentRenderer,
    Voice,
    estimate_duration,
    trim_silence,
)


def test_ensure_espeak_is_idempotent() -> None:
    first = ensure_espeak()
    assert first.source in ("system", "wheel")
    assert ensure_espeak() is first


def test_wheel_library_lets_pyttsx3_load_in_a_fresh_process() -> None:
    # A fresh interpreter forced onto the wheel's copy, as on a machine without apt packages.
    code = (
        "from voice.speech.espeak_setup import ensure_espeak\n"
        "lib = ensure_espeak(prefer_system=False)\n"
        "import pyttsx3.drivers._espeak as e\n"
        "assert e.dll is not None\n"
        "print(lib.source)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "wheel"


def test_render_is_non_silent_and_plausibly_long() -> None:
    r = Pyttsx3Renderer()
    word = r.render("five", Voice(rate=175))
    sentence = r.render("Kneel on your right knee and tuck your pelvis under.", Voice(rate=175))
    r.close()
    assert word.sample_rate == 22050
    assert 0.15 < word.duration < 1.2
    assert 1.2 < sentence.duration < 6.0
    assert float(np.max(np.abs(word.samples))) > 0.1
    # Leading silence is trimmed so a count is heard the moment it starts.
    assert float(np.max(np.abs(word.samples[: int(0.02 * 22050)]))) > 0.01


def test_cache_renders_each_count_once() -> None:
    calls: list[str] = []

    class Counting:
        def render(self, text: str, voice: Voice) -> Pcm:
            calls.append(text)
            return SilentRenderer().render(text, voice)

    c = CachedRenderer(Counting())
    v = Voice()
    for _ in range(3):
        c.prewarm(["five", "four"], v)
    c.render("five", Voice(rate=120))  # a new rate is a new rendering
    assert calls == ["five", "four", "five"]
    assert c.hits == 4


def test_trim_silence_keeps_the_sound() -> None:
    sr = 1000
    samples = np.zeros(1000, dtype=np.float32)
    samples[300:500] = 0.5
    trimmed = trim_silence(Pcm(samples, sr), lead=0.0, tail=0.0)
    assert trimmed.duration == 0.2 - 0.001  # first..last loud sample
    assert trim_silence(Pcm(np.zeros(10, dtype=np.float32), sr)).duration == 0.0


def test_estimate_duration_grows_with_words_and_slower_rate() -> None:
    assert estimate_duration("", 175) == 0.0
    assert estimate_duration("one two three", 175) > estimate_duration("one", 175)
    assert estimate_duration("one two three", 100) > estimate_duration("one two three", 200)


def test_head_fades_and_cuts() -> None:
    p = Pcm(np.ones(1000, dtype=np.float32), 1000)
    h = p.head(0.5)
    assert h.duration == 0.5 and h.samples[-1] == 0.0 and h.samples[0] == 1.0
