"""The small protocols every adapter at the edge implements.

The coach core never imports an adapter; runtimes wire adapters to the core through these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# Speech priorities, highest first: a safety line may cut anything, a count may cut an
# instruction, and so on.
PRIORITIES: tuple[str, ...] = ("safety", "count", "instruction", "info")


@dataclass(frozen=True)
class Utterance:
    """One line the coach wants spoken."""

    id: int
    text: str
    kind: str = "instruction"  # one of PRIORITIES
    at: float | None = None  # absolute clock deadline for a cue; None: as soon as possible

    @property
    def priority(self) -> int:
        return PRIORITIES.index(self.kind) if self.kind in PRIORITIES else len(PRIORITIES)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "text": self.text, "kind": self.kind, "at": self.at}


@dataclass(frozen=True)
class SpeechEvent:
    """A speaker reports when an utterance starts and ends (or is cut)."""

    utterance_id: int
    phase: str  # "started" | "finished"
    at: float
    interrupted: bool = False


SpeechListener = Callable[[SpeechEvent], None]


class Clock(Protocol):
    """Monotonic seconds; fakes advance by hand."""

    def now(self) -> float: ...


class Speaker(Protocol):
    """Speaks utterances without ever blocking the caller."""

    def say(self, utterance: Utterance) -> None: ...

    def interrupt(self) -> None:
        """Cut the current utterance and drop everything queued except safety lines."""

    def cancel_cues(self) -> None:
        """Drop scheduled cues (utterances with `at`) that have not started."""

    def set_rate(self, delta_wpm: int) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Transcript:
    """A recognizer's final result for one stretch of speech."""

    text: str
    confidence: float = 1.0
    words: tuple[tuple[str, float], ...] = ()
    start: float = 0.0  # seconds into the audio stream
    end: float = 0.0
    # The most speech-loud audio (seconds) in one gap between words that the engine put in
    # no word (a grammar forced onto longer talk leaves the rest in silence); 0 = not known.
    unmatched_s: float = 0.0
    # Speech-loud audio after the last word: the command was the start of longer talk.
    trailing_s: float = 0.0


class Recognizer(Protocol):
    """Feed 16 kHz mono 16-bit PCM; get partial and final results."""

    def set_grammar(self, name: str) -> None: ...

    def accept(self, pcm: bytes) -> Transcript | None:
        """Return a final transcript when an utterance has ended, else None."""

    def partial(self) -> str: ...

    def flush(self) -> Transcript | None: ...


@runtime_checkable
class HearsOverTheCoach(Protocol):
    """A recognizer that uses knowing when the coach's own voice is in its audio."""

    def set_coach_playing(self, playing: bool) -> None: ...


@runtime_checkable
class Reconsiders(Protocol):
    """A recognizer that can decode its last result again from another version of the
    audio (voice.hearing.second_look)."""

    def reconsider(self) -> Transcript | None: ...


class AudioSource(Protocol):
    """Yields chunks of 16 kHz mono 16-bit PCM."""

    def chunks(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...
