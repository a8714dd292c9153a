"""Assembles one running coach from the command line's choices: content, coach, loop,
speaker, and optionally the HTTP service."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice.appcontent import get_content, get_matcher
from voice.coach.machine import Coach, CoachSettings
from voice.ports import Clock
from voice.runtime.clock import MonotonicClock, ScaledClock
from voice.runtime.loop import CoachLoop, Publisher

log = logging.getLogger(__name__)


def add_session_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-tts", action="store_true", help="print spoken lines instead of speaking")
    p.add_argument("--silent", action="store_true", help="speak nothing at all (services, tests)")
    p.add_argument(
        "--tts-out",
        type=Path,
        default=None,
        metavar="DIR",
        help="render every utterance to numbered WAVs and index.json in DIR",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="run the clock F times faster (demos)",
    )
    p.add_argument("--count-style", choices=("every-second", "marks", "quiet"), default="marks")
    p.add_argument("--rate", type=int, default=175, help="speech rate, words per minute")
    p.add_argument("--volume", type=float, default=1.0)
    p.add_argument("--voice", default=None, help="TTS voice id")
    p.add_argument("--returning", action="store_true", help="skip the first-session safety note")
    p.add_argument("--content", type=Path, default=None, metavar="DIR")
    p.add_argument("--no-history", action="store_true", help="keep no session history")
    p.add_argument(
        "--record-input",
        type=Path,
        default=None,
        metavar="WAV",
        help="write what the recognizer hears (after echo cancellation) to WAV",
    )
    p.add_argument(
        "--no-echo-cancel",
        action="store_true",
        help="do not cancel the coach's own voice out of the microphone",
    )


@dataclass
class RunningCoach:
    loop: CoachLoop
    clock: Clock
    speech_mode: str
    input_mode: str = "text"  # "microphone" once a listener runs
    engine: str | None = None  # the recognizer behind the microphone
    history: Callable[[], dict[str, Any]] | None = None  # the dashboard's view of the store
    started: float = field(default_factory=time.monotonic)
    closers: list[Any] = field(default_factory=list)
    echo_reference: Any = None  # what the sound card plays (EchoReference), when it plays

    def status(self) -> dict[str, Any]:
        status = self.loop.status()
        status["tts"] = self.speech_mode
        status["input"] = self.input_mode
        status["engine"] = self.engine
        status["listening"] = (
            self.input_mode == "microphone" and status.get("microphone") is not False
        )
        status["time_scale"] = getattr(self.clock, "scale", 1.0)
        status["uptime_seconds"] = round(time.monotonic() - self.started, 1)
        return status

    def ready(self) -> dict[str, bool]:
        """For /ready: the coach loop runs and its input (microphone or text) is open."""
        return {"coach": self.loop.running(), "input": True}

    def close(self) -> None:
        self.loop.stop()
        if self.loop.speaker is not None:
            self.loop.speaker.close()
        for closer in reversed(self.closers):
            closer()


def build_coach(args: argparse.Namespace, publisher: Publisher | None = None) -> RunningCoach:
    from voice.speech.factory import make_speaker

    if args.time_scale <= 0:
        from voice.errors import UserError

        raise UserError("--time-scale must be above zero", 2)
    content = get_content(args.content)
    matcher = get_matcher(args.content)
    clock: Clock = ScaledClock(args.time_scale) if args.time_scale != 1.0 else MonotonicClock()
    settings = CoachSettings(count_style=args.count_style, first_session=not args.returning)
    loop = CoachLoop(Coach(content, settings), matcher, clock, publisher)
    mode = "none" if getattr(args, "silent", False) else "print" if args.no_tts else "tts"
    reference = _echo_reference(args, mode)

    def speaker() -> Any:
        return make_speaker(
            mode,
            clock,
            loop.on_speech,
            args.tts_out,
            args.rate,
            args.volume,
            args.voice,
            tap=reference,
        )

    loop.supervisor.factory = speaker
    loop.speaker = speaker()
    loop.start()
    running = RunningCoach(loop, clock, mode, echo_reference=reference)
    if not getattr(args, "no_history", False):
        from voice.runtime.memory import attach_memory

        store = attach_memory(running)
        if store is not None:
            running.history = store.summary_for_dashboard
    return running


def _echo_reference(args: argparse.Namespace, mode: str) -> Any:
    """The tap on the sound card that echo cancellation needs, when the coach speaks aloud."""
    if mode != "tts" or args.tts_out is not None or getattr(args, "no_echo_cancel", False):
        return None
    if getattr(args, "text", False):  # typed commands: no microphone to clean
        return None
    from voice.hearing.echo import EchoReference

    return EchoReference()
