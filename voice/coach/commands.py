"""Commands the coach emits. Runtimes execute them through a registry of handlers."""

from __future__ import annotations

from dataclasses import dataclass

from voice.ports import Utterance


@dataclass(frozen=True)
class Say:
    utterance: Utterance


@dataclass(frozen=True)
class StartTimer:
    name: str
    deadline: float


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class Interrupt:
    """Cut whatever is being spoken now (stop, pause, pain)."""


@dataclass(frozen=True)
class CancelCues:
    """Drop scheduled count cues that have not been spoken yet."""


@dataclass(frozen=True)
class SetSpeechRate:
    delta_wpm: int


@dataclass(frozen=True)
class StatusChanged:
    status: dict[str, object]


@dataclass(frozen=True)
class SessionEnded:
    """The routine ended; completed says whether it ran to the end."""

    completed: bool
    summary: dict[str, object]


Command = (
    Say
    | StartTimer
    | CancelTimer
    | Interrupt
    | CancelCues
    | SetSpeechRate
    | StatusChanged
    | SessionEnded
)
