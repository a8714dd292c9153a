"""Listening on the microphone for `stretch-coach run`: the hearing adapter wired to the loop.

The listener switches its grammar with the coach's state and is told what the coach is
saying, so it accepts only barge-in commands over the coach's own voice.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from intents.templates import build_intents
from voice.appcontent import get_content
from voice.ports import AudioSource
from voice.runtime.session import RunningCoach

log = logging.getLogger(__name__)

# "listening" is announced once audio flows: a person who speaks at the prompt is heard whole.
FIRST_AUDIO_WAIT_S = 10.0


class ListenerLink:
    """A loop publisher that keeps the listener's state and self-hearing guard current."""

    def __init__(self, listener: Any) -> None:
        self.listener = listener

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "status":
            try:
                self.listener.set_state(str(data.get("state") or "idle"))
            except KeyError:  # a state the grammar map does not name keeps the last grammar
                log.debug("no grammar for state %r", data.get("state"))
        elif kind == "speaking":
            self.listener.set_speaking(data.get("text"))


def open_listener(args: argparse.Namespace, running: RunningCoach) -> Any | None:
    """The started listener, or None (after one line saying why) when there is no microphone."""
    try:
        from voice.hearing.cli_options import engine_spec
        from voice.hearing.listener import build_listener
        from voice.hearing.microphone import MicrophoneSource, NoMicrophone
    except (ImportError, OSError) as exc:  # no PortAudio library, or a broken install
        print(f"stretch-coach: cannot listen ({exc}); using typed commands", file=sys.stderr)
        return None
    canceller = _echo_canceller(running)
    try:
        source: AudioSource = MicrophoneSource(
            echo=canceller, on_change=_microphone_changed(running)
        )
    except (NoMicrophone, OSError) as exc:
        print(f"stretch-coach: no microphone ({exc}); using typed commands", file=sys.stderr)
        return None

    if getattr(args, "record_input", None) is not None:
        from voice.hearing.recording import RecordingSource

        source = RecordingSource(source, args.record_input)

    def on_heard(text: str, confidence: float, end_time: float) -> None:
        running.loop.hear(text, confidence)

    intents = build_intents(get_content(args.content))
    listener = build_listener(
        source,
        intents,
        on_heard,
        spec=engine_spec(args),
        echo=canceller,
    )
    running.loop.add_publisher(ListenerLink(listener))
    listener.start()
    running.closers.append(listener.stop)
    running.input_mode = "microphone"
    running.engine = _engine_name(args)
    return listener


def _microphone_changed(running: RunningCoach) -> Callable[[bool], None]:
    """Tell the coach (on its own thread) when the microphone goes away or comes back."""
    from voice.coach.events import MicrophoneChanged

    def changed(available: bool) -> None:
        running.loop.post(MicrophoneChanged(running.clock.now(), available))

    return changed


def _echo_canceller(running: RunningCoach) -> Any | None:
    """Speex echo cancellation against what the coach plays, or None (and why, once)."""
    if running.echo_reference is None:
        return None
    from voice.hearing.echo import EchoUnavailable, SpeexCanceller

    try:
        return SpeexCanceller(running.echo_reference)
    except EchoUnavailable as exc:
        log.warning("echo cancellation off: %s", exc)
        return None


def _engine_name(args: argparse.Namespace) -> str:
    from voice.hearing.cli_options import engine_spec
    from voice.hearing.engines import resolve

    try:
        return resolve(engine_spec(args))[0]
    except Exception:  # the name is for display; never fail a session over it
        return str(args.engine)


def listen_forever(args: argparse.Namespace, running: RunningCoach) -> bool:
    """Listen until Ctrl-C; False when there is nothing to listen with."""
    listener = open_listener(args, running)
    if listener is None:
        return False
    started = time.monotonic()
    if listener.wait_hearing(FIRST_AUDIO_WAIT_S):
        log.info("first audio from the microphone after %.2f s", time.monotonic() - started)
    else:
        print(
            f"stretch-coach: no sound from the microphone in {FIRST_AUDIO_WAIT_S:g} s yet; "
            "listening anyway",
            file=sys.stderr,
        )
    print("stretch-coach: listening. Say: start the quick routine. Ctrl-C ends.", file=sys.stderr)
    stop = threading.Event()
    try:
        while not stop.wait(0.5):
            if not listener.running:
                print(
                    "stretch-coach: the microphone stopped; using typed commands", file=sys.stderr
                )
                return False
    except KeyboardInterrupt:
        pass
    return True
