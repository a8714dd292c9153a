"""Fakes of every port, shared by the tests: a clock moved by hand, a recognizer that
returns a script, a speaker that records what it was asked to say."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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


Step = str | BaseException | None


class FaultyRecognizer:
    """A recognizer that follows a per-chunk script: a text is a final result for that chunk,
    None is nothing, an exception is raised from accept() (a decoder fault). After the
    script, `then` is repeated. Records grammar switches, resets and closing."""

    def __init__(self, script: Iterable[Step] = (), then: Step = None) -> None:
        self.script = list(script)
        self.then = then
        self.grammar = "default"
        self.grammars: list[str] = []
        self.chunks = 0
        self.resets = 0
        self.closed = False

    def set_grammar(self, name: str) -> None:
        self.grammar = name
        self.grammars.append(name)

    def accept(self, pcm: bytes) -> Transcript | None:
        self.chunks += 1
        step = self.script.pop(0) if self.script else self.then
        if isinstance(step, BaseException):
            raise step
        return Transcript(step, 0.99) if step else None

    def partial(self) -> str:
        return ""

    def flush(self) -> Transcript | None:
        return None

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        self.closed = True


class ClockedSource:
    """An AudioSource of `count` silent chunks that moves a FakeClock by each chunk's length,
    so time-based behaviour (backoff) runs deterministically and instantly. With `error`,
    chunks() raises it after the chunks, as a failing microphone would."""

    def __init__(
        self,
        clock: FakeClock,
        count: int,
        chunk_s: float = 0.1,
        error: BaseException | None = None,
    ) -> None:
        self.clock = clock
        self.count = count
        self.chunk_s = chunk_s
        self.error = error
        self.sent = 0
        self.closed = False

    def chunks(self) -> Iterator[bytes]:
        silence = b"\x00\x00" * round(16000 * self.chunk_s)
        while self.sent < self.count and not self.closed:
            self.clock.advance(self.chunk_s)
            self.sent += 1
            yield silence
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.closed = True


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


class ReconsideringRecognizer(ScriptedRecognizer):
    """A ScriptedRecognizer whose last result has a scripted second look (`reconsider`):
    each result takes the next of `second` (None: nothing to try)."""

    def __init__(self, texts: Iterable[str], second: Iterable[str | None]) -> None:
        super().__init__(texts)
        self._second = list(second)
        self._pending: str | None = None
        self.reconsidered = 0

    def accept(self, pcm: bytes) -> Transcript | None:
        result = super().accept(pcm)
        if result is not None:
            self._pending = self._second.pop(0) if self._second else None
        return result

    def reconsider(self) -> Transcript | None:
        self.reconsidered += 1
        text, self._pending = self._pending, None
        return Transcript(text) if text is not None else None
