"""Events the coach reacts to. Every event carries the time it happened at."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heard:
    """The person said something; intent is None when nothing matched."""

    now: float
    text: str
    intent: str | None = None
    slots: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TimerFired:
    now: float
    name: str


@dataclass(frozen=True)
class SpeechFinished:
    now: float
    utterance_id: int
    interrupted: bool = False


@dataclass(frozen=True)
class SpeechStarted:
    now: float
    utterance_id: int


@dataclass(frozen=True)
class ResumeOffered:
    """A session was cut short (a crash, a kill): where it was, as the store saved it."""

    now: float
    position: dict[str, object]


@dataclass(frozen=True)
class MicrophoneChanged:
    """The microphone went away (available=False) or came back. The session keeps time."""

    now: float
    available: bool


Event = Heard | TimerFired | SpeechFinished | SpeechStarted | ResumeOffered | MicrophoneChanged
