"""Pick a speaker for the CLI's modes, falling back to printing when TTS cannot work."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from voice.ports import Clock, Speaker, SpeechListener
from voice.speech.outputs import (
    AudioOutput,
    OutputUnavailable,
    PlaybackTap,
    WavDirOutput,
)
from voice.speech.speaker import PrintSpeaker, SilentSpeaker, TtsSpeaker

log = logging.getLogger(__name__)

MODES = ("tts", "print", "none")


def _device(clock: Clock, tap: PlaybackTap | None) -> AudioOutput | None:
    """The sound card, or None (and why, once) when there is none."""
    from voice.speech.outputs import DeviceOutput

    try:
        return DeviceOutput(clock=clock, tap=tap)
    except OutputUnavailable as exc:
        print(f"stretch-coach: no audio output ({exc}); printing what the coach says",
              file=sys.stderr)  # fmt: skip
        return None


def make_speaker(
    mode: str,
    clock: Clock,
    listener: SpeechListener,
    tts_out: Path | None = None,
    rate: int = 175,
    volume: float = 1.0,
    voice: str | None = None,
    tap: PlaybackTap | None = None,
) -> Speaker:
    """Build the speaker for `mode` ("tts" | "print" | "none").

    * "tts": pyttsx3 through the sound card, or, with `tts_out`, into numbered WAVs plus
      index.json/timeline.wav in that directory (no sound card then: headless and repeatable);
    * "print": one stdout line per utterance at the time it would be spoken (--no-tts);
    * "none": silent, events only.

    `tap` is told every block the sound card plays (the microphone's echo reference).

    If TTS cannot start (no espeak-ng, broken engine) or there is no sound card, falls back to
    "print" with one line on stderr.
    """
    if mode not in MODES:
        raise ValueError(f"speech mode must be one of {MODES}, not {mode!r}")
    if mode == "none":
        return SilentSpeaker(clock, listener, rate=rate)
    if mode == "print":
        return PrintSpeaker(clock, listener, rate=rate)
    try:
        from voice.speech.render import Pyttsx3Renderer, Voice

        renderer = Pyttsx3Renderer()
        # Render once here so a missing library fails now, not on the first line of a session.
        renderer.render("ready", Voice(rate, volume, voice))
    except Exception as exc:
        print(f"stretch-coach: text-to-speech unavailable ({exc}); printing instead",
              file=sys.stderr)  # fmt: skip
        return PrintSpeaker(clock, listener, rate=rate)
    output = WavDirOutput(tts_out) if tts_out is not None else _device(clock, tap)
    if output is None:
        # A person at a machine with no sound card still has to read the coach: a silent
        # coach that takes typed commands is no use to anyone.
        return PrintSpeaker(clock, listener, rate=rate)
    return TtsSpeaker(
        clock, listener, output, rate=rate, volume=volume, voice=voice, renderer=renderer
    )
