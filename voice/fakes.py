"""Fakes of every port, shared by the tests: a clock moved by hand, a recognizer that
returns a script, a speaker that records what it was asked to say."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from voice.ports import SpeechEvent, SpeechListener, Transcript, Utterance


class FakeClock:
    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


class ScriptedRecognizer:
    """Returns the next scripted transcript each time a chunk of audio arrives."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = list(texts)
        self.grammar = "default"
        self.grammars: list[str] = []

    def set_grammar(self, name: str) -> None:
        self.grammar = name
        self.grammars.append(name)

    def accept(self, pcm: bytes) -> Transcript | None:
        return Transcript(self._texts.pop(0)) if self._texts else None

    def partial(self) -> str:
        return ""

    def flush(self) -> Transcript | None:
        return None


@dataclass
class RecordingSpeaker:
    """Records utterances; finishes each at once unless told to hold them."""

    listener: SpeechListener | None = None
    said: list[Utterance] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    rate_changes: list[int] = field(default_factory=list)

    def say(self, utterance: Utterance) -> None:
        self.said.append(utterance)
        self.calls.append("say")
        if self.listener is not None and utterance.at is None:
            self.listener(SpeechEvent(utterance.id, "started", 0.0))
            self.listener(SpeechEvent(utterance.id, "finished", 0.0))

    def interrupt(self) -> None:
        self.calls.append("interrupt")

    def cancel_cues(self) -> None:
        self.calls.append("cancel_cues")

    def set_rate(self, delta_wpm: int) -> None:
        self.rate_changes.append(delta_wpm)

    def close(self) -> None:
        self.calls.append("close")

    @property
    def texts(self) -> list[str]:
        return [u.text for u in self.said]
